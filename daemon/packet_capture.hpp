// `gatewayctl capture`: the daemon writes the packets it judges into a pcap file, each
// forwarded packet twice (as it arrived, then as translated), a dropped or rejected one
// once (as it arrived), until a record count or a time limit is reached.
//
// Threads: a CaptureSlot and its PacketCapture live in the daemon's loop and are touched
// by the packet worker only (STYLE 4): the control commands start and read it between
// batches, decide() records into it. With no capture running the packet path pays one
// null-pointer check (CaptureSlot::running()).
//
// The file is LINKTYPE_RAW (IPv4 without a link header), snaplen 65535: a GSO packet
// larger than that is truncated (caplen < len). It is created by the daemon with mode
// 0600 and O_EXCL (an existing path, symlinks included, is refused unless `force`).
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "firewall/packet_engine.hpp"

namespace gw {

inline constexpr std::uint64_t capture_default_records = 100, capture_max_records = 100000;
inline constexpr std::int64_t capture_default_seconds = 10, capture_max_seconds = 3600;
inline constexpr std::uint32_t capture_snaplen = 65535;

// Which packets a capture keeps; an empty filter keeps all. At most one criterion is set.
struct CaptureFilter {
    std::optional<Ipv4Address> host;           // either address, before or after translation
    std::optional<Protocol> mapping_protocol;  // with mapping_port: the WAN-side port, before or after
    Port mapping_port{0};
    std::optional<std::string> rule;           // EngineResult::rule->name
    Ipv4Address wan_address;                   // the WAN address --mapping refers to

    // `before`: at least the packet's headers as they arrived; `after`: as translated.
    bool matches(std::span<const std::uint8_t> before, std::span<const std::uint8_t> after,
                 const FirewallRule* rule) const noexcept;
    std::string to_string() const;  // "host 203.0.113.2", "mapping 7777/udp", "rule NAME", "all"
};

struct CaptureRequest {
    CaptureFilter filter;
    std::uint64_t max_records = capture_default_records;
    std::int64_t seconds = capture_default_seconds;
    std::string path;  // absolute
    bool force = false;
};

// The words after `capture start`: [--mapping PORT/PROTO | --rule NAME | --host ADDR]
// [--count N] [--seconds S] [--force] -w FILE. `error` is empty when `request` is set.
struct CaptureRequestParse {
    std::optional<CaptureRequest> request;
    std::string error;
};
CaptureRequestParse parse_capture_request(std::span<const std::string> words);

// What `capture status` reports.
struct CaptureStatus {
    bool running = false;
    std::string path, filter;
    std::uint64_t records = 0, max_records = 0;
    std::int64_t seconds = 0;
    std::string ended_by;  // "count", "time", "stopped", "stopping"; empty while running
    std::string error;     // a write failure; empty if none
};

// One open capture file.
class PacketCapture {
public:
    // Creates the file; nullptr and `error` set when it cannot.
    static std::unique_ptr<PacketCapture> start(const CaptureRequest& request, Instant now, std::string& error);
    ~PacketCapture();
    PacketCapture(const PacketCapture&) = delete;
    PacketCapture& operator=(const PacketCapture&) = delete;

    // One judged packet. `arrived_head`: its first bytes as they arrived (the engine rewrites
    // headers only, so the rest of `packet` is unchanged); `packet`: as it leaves.
    void record(std::span<const std::uint8_t> arrived_head, std::span<const std::uint8_t> packet,
                const EngineResult& result, Instant now) noexcept;
    // True once the count or the time is reached.
    bool due(Instant now) const { return records_ >= request_.max_records || now >= deadline_; }
    // Flushes and closes the file; later calls do nothing.
    void finish(std::string ended_by) noexcept;
    CaptureStatus status() const;

private:
    PacketCapture(CaptureRequest request, Instant now);
    void write(std::span<const std::uint8_t> head, std::span<const std::uint8_t> tail, std::size_t length) noexcept;

    CaptureRequest request_;
    Instant deadline_;
    pcap_t* dead_ = nullptr;          // libpcap's handle for writing without a device
    pcap_dumper_t* dumper_ = nullptr;  // null once finished
    std::vector<std::uint8_t> scratch_;  // the arrived packet reassembled, capture_snaplen bytes
    std::uint64_t records_ = 0;
    std::string ended_by_, error_;
};

// Why a second capture is refused while `running` runs.
std::string capture_already_running(const CaptureStatus& running);

// The daemon's one capture at a time, and the last one's outcome once it ended.
//
// The workers write to running() with the engine lock held, so the daemon swaps the
// capture in and out under that lock and opens, flushes and closes its file outside it
// (STYLE: no file I/O under the engine lock): PacketCapture::start, then install(); and
// take_running() or take_due(), then keep_finished(). start(), expire() and stop() do
// both steps at once, for a caller alone with the slot.
class CaptureSlot {
public:
    // Null when no capture is running: the packet path's only cost.
    PacketCapture* running() const noexcept { return running_.get(); }
    // Empty on success, else why not (one already running, the file cannot be made).
    std::string start(const CaptureRequest& request, Instant now);
    // Finishes a running capture whose count or time is reached.
    void expire(Instant now);
    // Finishes a running capture now; false when none runs.
    bool stop(std::string ended_by);
    // The running or the last capture; nullopt when none has run.
    std::optional<CaptureStatus> status() const;
    ~CaptureSlot() { stop("stopping"); }

    // Under the engine lock, no I/O: the capture that now runs (none may be running:
    // false, and `capture` is left as it was).
    bool install(std::unique_ptr<PacketCapture>& capture);
    // Under the engine lock, no I/O: the running capture taken out (null if none), or
    // only when its count or time is reached.
    std::unique_ptr<PacketCapture> take_running();
    std::unique_ptr<PacketCapture> take_due(Instant now);
    // Without the lock: finishes (flushes, closes) a capture taken out and keeps its outcome.
    void keep_finished(std::unique_ptr<PacketCapture> capture, std::string ended_by);
    // Why a capture ended when take_due() took it: its count, else its time.
    static std::string due_reason(const PacketCapture& capture);

private:
    std::unique_ptr<PacketCapture> running_, last_;
};

}  // namespace gw

// The flow table handed from one gatewayd to the next across a graceful restart or an
// upgrade: what every live flow was at the stop (endpoints, external port, origin, TCP
// tracker, whether it holds its mapping, how much of its idle timer was left), stamped
// with the wall clock so that the next start can take the downtime off the timers.
// Engine time (Instant) is per process start only in replay and tests, and per boot in
// the daemon; the wall clock is what both sides of a restart (or a reboot) share.
//
// The format is binary, little-endian, versioned and checksummed:
//   "GWFLOWS\n" | u32 version | i64 saved_at (Unix ms) | u32 count | count x record | u64 FNV-1a
// A record is fixed-size (flow_snapshot_record_bytes). The file is untrusted input: a
// wrong magic, another version, a short or long file, a bad checksum, an enum out of
// range or a hairpin link that does not point back comes back as an error, never a crash
// (a fuzz-like unit test feeds it garbage and every truncation).
//
// Pure: encode/decode only. The engine turns flows into SavedFlows and back
// (PacketEngine::save_flows/restore_flows); the daemon does the file I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/expected.hpp"
#include "firewall/flow.hpp"
#include "firewall/ipv6_flow_table.hpp"

namespace gw {

inline constexpr std::uint32_t flow_snapshot_version = 1;
inline constexpr std::size_t flow_snapshot_record_bytes = 63;
// Far above any nat.max_mappings (65535 ports x 3 protocols): a count above it is not ours.
inline constexpr std::uint32_t flow_snapshot_max_flows = 1u << 22;

struct SavedFlow {
    Protocol protocol = Protocol::udp;
    FlowOrigin origin = FlowOrigin::lan;
    TimeoutClass timeout_class = TimeoutClass::udp;
    bool reply_seen = false;
    bool holds_mapping = false;  // the flow holds a reference on the mapping (protocol, internal, external)
    Endpoint internal;
    Endpoint remote;
    Port external;
    std::uint32_t idle_left_ms = 0;  // of its idle timer, at saved_at
    // Hairpin pairs: index + 1 of the linked flow in the snapshot; 0 = none.
    std::uint32_t peer = 0;
    TcpTracker::Saved tcp;
    bool operator==(const SavedFlow&) const = default;
};

struct FlowSnapshot {
    std::int64_t saved_at_unix_ms = 0;
    std::vector<SavedFlow> flows;
    bool operator==(const FlowSnapshot&) const = default;
};

std::vector<std::uint8_t> encode_flow_snapshot(const FlowSnapshot& snapshot);

struct FlowSnapshotDecoded {
    std::optional<FlowSnapshot> snapshot;
    std::string error;  // why there is none: "bad magic", "version 7 (this gatewayd reads 1)", ...
};
FlowSnapshotDecoded decode_flow_snapshot(std::span<const std::uint8_t> bytes);

// IPv6 flows (issue 15) go in a file of their own beside it, framed the same way with
// "GWFLOW6\n", so that the IPv4 format and the snapshots already written stay as they are:
//   "GWFLOW6\n" | u32 version | i64 saved_at (Unix ms) | u32 count | count x record | u64 FNV-1a
inline constexpr std::uint32_t ipv6_flow_snapshot_version = 1;
inline constexpr std::size_t ipv6_flow_snapshot_record_bytes = 83;

struct SavedIpv6Flow {
    Ipv6FlowKey key;
    Ipv6FlowOrigin origin = Ipv6FlowOrigin::lan;
    TimeoutClass timeout_class = TimeoutClass::udp;
    bool reply_seen = false;
    std::uint16_t pinhole = 0;
    std::uint32_t idle_left_ms = 0;  // of its idle timer, at saved_at
    TcpTracker::Saved tcp;
    bool operator==(const SavedIpv6Flow&) const = default;
};

struct Ipv6FlowSnapshot {
    std::int64_t saved_at_unix_ms = 0;
    std::vector<SavedIpv6Flow> flows;
    bool operator==(const Ipv6FlowSnapshot&) const = default;
};

// A TCP flow's class from its saved tracker, not the saved number: a snapshot of a
// version with one transitory class holds opening and closing flows alike as tcp_opening.
inline TimeoutClass saved_timeout_class(TimeoutClass saved, Protocol protocol, const TcpTracker::Saved& tcp) {
    if (protocol != Protocol::tcp) return saved;
    auto tracker = TcpTracker::restored(tcp);
    return tracker ? tcp_flow_timeout_class(tracker->timeout_class()) : saved;
}

// What putting saved flows back came to (PacketEngine::restore_flows, Ipv6Firewall::restore_flows).
struct FlowRestoreCounts {
    std::size_t restored = 0;
    std::size_t expired = 0;  // their idle time ran out while no gatewayd ran
    std::size_t refused = 0;  // port now taken or outside the range, table full, duplicate
};

std::vector<std::uint8_t> encode_ipv6_flow_snapshot(const Ipv6FlowSnapshot& snapshot);
Expected<Ipv6FlowSnapshot, Error> decode_ipv6_flow_snapshot(std::span<const std::uint8_t> bytes);

}  // namespace gw

// A thin adapter over one NFQUEUE queue (libnetfilter_queue's libmnl helpers): binds
// the queue with NFQA_CFG_F_GSO, hands each queued packet to a decision function and
// sends the verdicts back in batches. Knows nothing of NAT.
//
// Owned and used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace gw {

struct QueuedPacket {
    std::uint32_t id = 0;
    std::uint8_t hook = 0;             // NF_INET_PRE_ROUTING, NF_INET_FORWARD, ...
    std::uint32_t in_interface = 0;    // ifindex it arrived on; 0 for locally sent packets
    std::span<std::uint8_t> payload;   // the IP datagram, writable in place
    bool checksum_not_ready = false;   // NFQA_SKB_CSUMNOTREADY: L4 checksum is pseudo-header only
    bool gso = false;                  // NFQA_SKB_GSO: several segments' worth, segmented after us
    bool truncated = false;            // the kernel copied less than the whole packet
};

enum class QueueVerdict : std::uint8_t { accept, accept_rewritten, drop };

struct QueueCounters {
    std::uint64_t received = 0;
    std::uint64_t enobufs = 0;          // kernel could not deliver to us: packets lost to the queue
    std::uint64_t oversized_verdicts = 0;  // too big to hand back rewritten: dropped
};

class NfQueueSocket {
public:
    using Decide = std::function<QueueVerdict(QueuedPacket&)>;

    // Binds the queue; throws StartupError when the kernel refuses (queue taken, no permission).
    explicit NfQueueSocket(std::uint16_t queue_number);
    ~NfQueueSocket();
    NfQueueSocket(const NfQueueSocket&) = delete;
    NfQueueSocket& operator=(const NfQueueSocket&) = delete;

    int fd() const;
    // Handles every packet waiting now, without blocking; returns how many.
    std::size_t drain(const Decide& decide);
    const QueueCounters& counters() const { return counters_; }

private:
    void configure(std::uint16_t queue_number);
    void send_config(nlmsghdr* message, const char* what);
    void add_verdict(const QueuedPacket& packet, QueueVerdict verdict);
    void flush_verdicts();

    mnl_socket* socket_ = nullptr;
    std::uint32_t port_id_ = 0;
    std::uint16_t queue_number_ = 0;
    std::vector<std::uint8_t> receive_buffer_;
    std::vector<std::uint8_t> verdict_buffer_;
    std::vector<QueuedPacket> batch_;  // the packets of one receive
    std::size_t verdict_bytes_ = 0;
    QueueCounters counters_;
};

}  // namespace gw

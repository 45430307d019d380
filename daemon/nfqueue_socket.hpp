// A thin adapter over one NFQUEUE queue (libnetfilter_queue's libmnl helpers): binds
// the queue with NFQA_CFG_F_GSO, receives the queued packets in batches (one
// recvmmsg for up to batch_capacity packets: it sleeps until the first and takes
// whatever else is waiting, so a lone packet is never held for company) and sends the
// batch's verdicts back in order in one sendmsg. Knows nothing of NAT.
//
// Fail-closed: NFQA_CFG_F_FAIL_OPEN is never set, so a full queue drops packets
// instead of letting them pass untranslated; ENOBUFS (the socket overflowed) is
// counted and the next receive carries on.
//
// Owned and used by one thread (its queue worker); counters() may be read from any, and
// wake() called from any.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

struct mnl_socket;
struct nlmsghdr;
struct mmsghdr;
struct iovec;

namespace gw {

struct QueuedPacket {
    std::uint32_t id = 0;
    std::uint8_t hook = 0;             // NF_INET_PRE_ROUTING, NF_INET_FORWARD, ...
    std::uint32_t in_interface = 0;    // ifindex it arrived on; 0 for locally sent packets
    std::span<std::uint8_t> payload;   // the IP datagram, writable in place until the next receive
    bool checksum_not_ready = false;   // NFQA_SKB_CSUMNOTREADY: L4 checksum is pseudo-header only
    bool gso = false;                  // NFQA_SKB_GSO: several segments' worth, segmented after us
    bool truncated = false;            // the kernel copied less than the whole packet
    // NFQA_HWADDR: the frame's link-layer source (Ethernet MAC), when it came in on a
    // device that has one; the source trust check compares it with the neighbour table.
    std::array<std::uint8_t, 6> source_mac{};
    bool has_source_mac = false;
};

enum class QueueVerdict : std::uint8_t { accept, accept_rewritten, drop };

// Written by the queue's worker, read by gatewayctl status on the main thread.
struct QueueCounters {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> batches{0};             // receives that returned packets
    std::atomic<std::uint64_t> enobufs{0};             // kernel could not deliver to us: packets lost to the queue
    std::atomic<std::uint64_t> oversized_verdicts{0};  // too big to hand back rewritten: dropped
};

struct NfQueueOptions {
    std::uint16_t queue_number = 0;
    // SO_RCVBUFFORCE: room for bursts while the worker is busy (nfqueue.socket_buffer_bytes).
    int socket_buffer_bytes = 8 << 20;
    // NFQA_CFG_QUEUE_MAXLEN: packets the kernel holds for us before it drops (fail-closed).
    std::uint32_t queue_max_length = 8192;
};

class NfQueueSocket {
public:
    // Packets one receive can return. 32 × (64 KiB + headers) ≈ 2.3 MiB of buffers per
    // queue, reserved once but touched only as far as packets fill them.
    static constexpr std::size_t batch_capacity = 32;

    // Binds the queue; throws StartupError when the kernel refuses (queue taken, no permission).
    explicit NfQueueSocket(const NfQueueOptions& options);
    ~NfQueueSocket();
    NfQueueSocket(const NfQueueSocket&) = delete;
    NfQueueSocket& operator=(const NfQueueSocket&) = delete;

    int fd() const;
    std::uint16_t queue_number() const { return queue_number_; }
    // Sleeps until a packet is queued (or wake() is called), then returns it with the
    // others waiting by then (up to batch_capacity) in one recvmmsg (MSG_WAITFORONE); empty
    // after a wake. Valid, and writable in place, until the next call.
    std::span<QueuedPacket> receive_batch();
    // Makes a receive_batch() sleeping now, or the next one, return: the kernel answers a
    // verdict for no queued packet with an error message on this socket. Any thread.
    void wake();
    // One verdict per packet of the last batch, in order; sent in one sendmsg (more only
    // when rewritten packets do not fit the verdict buffer).
    void send_verdicts(std::span<const QueueVerdict> verdicts);
    const QueueCounters& counters() const { return counters_; }

private:
    void configure(const NfQueueOptions& options);
    void send_config(nlmsghdr* message, const char* what);
    void add_verdict(const QueuedPacket& packet, QueueVerdict verdict);
    void flush_verdicts();

    mnl_socket* socket_ = nullptr;
    std::uint32_t port_id_ = 0;
    std::uint16_t queue_number_ = 0;
    std::unique_ptr<std::uint8_t[]> receive_buffers_;  // batch_capacity slots, not zeroed
    std::unique_ptr<mmsghdr[]> messages_;
    std::unique_ptr<iovec[]> vectors_;
    std::unique_ptr<std::uint8_t[]> verdict_headers_;  // netlink headers of the pending verdicts
    std::unique_ptr<iovec[]> verdict_vectors_;          // headers, and rewritten packets in place
    std::size_t verdict_flush_limit_ = 0;  // what one sendmsg may carry (the socket's send buffer)
    std::vector<QueuedPacket> batch_;      // capacity reserved up front; never grows
    std::size_t verdict_bytes_ = 0;
    std::size_t verdict_headers_used_ = 0;
    std::size_t verdict_vectors_used_ = 0;
    QueueCounters counters_;
};

}  // namespace gw

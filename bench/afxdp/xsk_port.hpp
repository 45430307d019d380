// One interface's AF_XDP socket for the issue 17 experiment (README.md): its UMEM, fill and
// completion rings, receive and transmit rings. Copy mode (veth has no zero-copy), one
// queue. Frames cross between two ports by copy: each port owns its UMEM, so a frame never
// has two owners. Single-threaded: the forwarding loop alone touches it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <xdp/xsk.h>

namespace gw::afxdp {

struct ReceivedFrame {
    std::uint64_t address;  // in this port's UMEM, for release()
    std::span<std::uint8_t> bytes;
};

class XskPort {
public:
    // Throws std::runtime_error with the reason. `xdp_flags`: the attach mode the program
    // was attached with (XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE).
    XskPort(const std::string& interface, std::uint32_t xdp_flags);
    ~XskPort();
    XskPort(const XskPort&) = delete;
    XskPort& operator=(const XskPort&) = delete;

    int fd() const { return xsk_socket__fd(socket_); }
    // Up to frames.size() received frames; each must be released once its bytes are used.
    std::size_t receive(std::span<ReceivedFrame> frames);
    void finish_receive(std::size_t count) { xsk_ring_cons__release(&rx_, std::uint32_t(count)); }
    void release(std::uint64_t address) { receive_free_.push_back(address); }
    // Gives the released frames back to the kernel's fill ring.
    void refill();
    // Copies a frame into this port's UMEM and queues it for sending; false when no frame or
    // no ring slot is free (the packet is then lost, as a full NIC queue loses it).
    bool queue_send(std::span<const std::uint8_t> frame);
    // Tells the kernel about what queue_send queued, and takes back what it has sent.
    void flush_sends();

    // The kernel's losses on this socket (XDP_STATISTICS), as one line.
    std::string statistics() const;

    // Rings as deep as NFQUEUE's queue (8192 packets, architecture.md "Queues and
    // workers"): on a shared machine the forwarder is descheduled for milliseconds, and
    // 2048-deep rings lost frames to an empty fill ring then. 2 KiB frames hold a
    // 1500-byte MTU's frame.
    static constexpr std::uint32_t frame_size = 2048;
    static constexpr std::uint32_t ring_size = 8192;
    static constexpr std::uint32_t frame_count = 2 * ring_size;

private:
    void reclaim_sent();

    void* buffer_ = nullptr;
    xsk_umem* umem_ = nullptr;
    xsk_socket* socket_ = nullptr;
    xsk_ring_prod fill_{}, tx_{};
    xsk_ring_cons completion_{}, rx_{};
    // Frames owned by user space, on no ring: half the UMEM is for arrivals (the fill ring),
    // half for sending, so a burst one way cannot starve the other.
    std::vector<std::uint64_t> receive_free_, send_free_;
    std::uint32_t queued_sends_ = 0;
};

}  // namespace gw::afxdp

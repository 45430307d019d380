#include "xsk_port.hpp"

#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace gw::afxdp {

XskPort::XskPort(const std::string& interface, std::uint32_t xdp_flags) {
    const std::size_t size = std::size_t(frame_count) * frame_size;
    buffer_ = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buffer_ == MAP_FAILED) throw std::runtime_error("mmap of the UMEM failed");
    xsk_umem_config umem_config{.fill_size = ring_size,
                                .comp_size = ring_size,
                                .frame_size = frame_size,
                                .frame_headroom = 0,
                                .flags = 0};
    if (int e = xsk_umem__create(&umem_, buffer_, size, &fill_, &completion_, &umem_config); e != 0)
        throw std::runtime_error("xsk_umem__create on " + interface + ": " + std::strerror(-e));
    // Our own program owns the socket map (xdp_gateway.bpf.c): libxdp must not load its own.
    xsk_socket_config config{.rx_size = ring_size,
                             .tx_size = ring_size,
                             .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
                             .xdp_flags = xdp_flags,
                             .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP};
    if (int e = xsk_socket__create(&socket_, interface.c_str(), 0, umem_, &rx_, &tx_, &config); e != 0)
        throw std::runtime_error("xsk_socket__create on " + interface + ": " + std::strerror(-e));
    // Copy mode turns each sent frame into an skb charged to the socket's send buffer until
    // the peer has taken it; the default buffer holds fewer frames than the ring does.
    int send_buffer = 8 << 20;
    setsockopt(fd(), SOL_SOCKET, SO_SNDBUFFORCE, &send_buffer, sizeof(send_buffer));
    for (std::uint32_t i = 0; i < frame_count; ++i)
        (i < frame_count / 2 ? receive_free_ : send_free_).push_back(std::uint64_t(i) * frame_size);
    refill();
}

XskPort::~XskPort() {
    if (socket_) xsk_socket__delete(socket_);
    if (umem_) xsk_umem__delete(umem_);
    if (buffer_) munmap(buffer_, std::size_t(frame_count) * frame_size);
}

std::size_t XskPort::receive(std::span<ReceivedFrame> frames) {
    std::uint32_t index = 0;
    std::uint32_t count = xsk_ring_cons__peek(&rx_, std::uint32_t(frames.size()), &index);
    for (std::uint32_t i = 0; i < count; ++i) {
        const xdp_desc* d = xsk_ring_cons__rx_desc(&rx_, index + i);
        auto* data = static_cast<std::uint8_t*>(xsk_umem__get_data(buffer_, d->addr));
        frames[i] = {xsk_umem__extract_addr(d->addr), {data, d->len}};
    }
    return count;
}

void XskPort::refill() {
    if (receive_free_.empty()) return;
    std::uint32_t index = 0;
    std::uint32_t got = xsk_ring_prod__reserve(&fill_, std::uint32_t(receive_free_.size()), &index);
    for (std::uint32_t i = 0; i < got; ++i) {
        *xsk_ring_prod__fill_addr(&fill_, index + i) = receive_free_.back();
        receive_free_.pop_back();
    }
    xsk_ring_prod__submit(&fill_, got);
}

bool XskPort::queue_send(std::span<const std::uint8_t> frame) {
    if (send_free_.empty()) reclaim_sent();
    if (send_free_.empty() || frame.size() > frame_size) return false;
    std::uint32_t index = 0;
    if (xsk_ring_prod__reserve(&tx_, 1, &index) != 1) return false;
    std::uint64_t address = send_free_.back();
    send_free_.pop_back();
    std::memcpy(xsk_umem__get_data(buffer_, address), frame.data(), frame.size());
    xdp_desc* d = xsk_ring_prod__tx_desc(&tx_, index);
    d->addr = address;
    d->len = std::uint32_t(frame.size());
    d->options = 0;
    ++queued_sends_;
    return true;
}

void XskPort::flush_sends() {
    if (queued_sends_ > 0) {
        xsk_ring_prod__submit(&tx_, queued_sends_);
        queued_sends_ = 0;
    }
    // Copy mode sends only when kicked, and at most 32 frames a kick (the kernel's
    // MAX_PER_SOCKET_BUDGET): kick until the ring is empty, or the device refuses more.
    while (xsk_prod_nb_free(&tx_, ring_size) < ring_size) {
        if (sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) continue;
        if (errno == EAGAIN || errno == EBUSY || errno == ENOBUFS || errno == ENETDOWN) break;
        throw std::runtime_error(std::string("kicking the transmit ring failed: ") + std::strerror(errno));
    }
    reclaim_sent();
}

std::string XskPort::statistics() const {
    xdp_statistics s{};
    socklen_t length = sizeof(s);
    if (getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &s, &length) != 0) return "no statistics";
    return "rx dropped " + std::to_string(s.rx_dropped) + ", rx ring full " + std::to_string(s.rx_ring_full) +
           ", fill ring empty " + std::to_string(s.rx_fill_ring_empty_descs) + ", tx invalid " +
           std::to_string(s.tx_invalid_descs);
}

void XskPort::reclaim_sent() {
    std::uint32_t index = 0;
    std::uint32_t done = xsk_ring_cons__peek(&completion_, ring_size, &index);
    for (std::uint32_t i = 0; i < done; ++i) send_free_.push_back(*xsk_ring_cons__comp_addr(&completion_, index + i));
    xsk_ring_cons__release(&completion_, done);
}

}  // namespace gw::afxdp

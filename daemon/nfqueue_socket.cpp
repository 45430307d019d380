#include "nfqueue_socket.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <sys/uio.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/startup_error.hpp"

namespace gw {
namespace {

// Room for netlink headers and attributes around a packet (MNL_SOCKET_BUFFER_SIZE
// is a sysconf() call, not a constant).
constexpr std::size_t message_overhead = 8192;
// A GSO packet is up to 64 KiB; the netlink header and attributes come on top.
constexpr std::size_t receive_slot_size = 0xffff + message_overhead;
// A verdict is nlmsghdr + nfgenmsg + NFQA_VERDICT_HDR (32 bytes), plus NFQA_PAYLOAD's
// header and padding when the packet goes back rewritten.
constexpr std::size_t verdict_message_bound = 64;
// Every packet of a full batch rewritten at its largest still fits one send.
constexpr std::size_t verdict_send_size = NfQueueSocket::batch_capacity * (0xffff + verdict_message_bound);
// Header, payload, padding.
constexpr std::size_t vectors_per_verdict = 3;
constexpr std::size_t verdict_vector_capacity = NfQueueSocket::batch_capacity * vectors_per_verdict;
constexpr std::uint8_t zero_padding[NLA_ALIGNTO] = {};
// A netlink attribute length is 16 bits, header included.
constexpr std::size_t largest_verdict_payload = 0xffff - MNL_ATTR_HDRLEN;

std::string errno_text() { return std::strerror(errno); }

struct CollectContext {
    std::vector<QueuedPacket>* packets;
    std::size_t capacity;
};

int collect_packet(const nlmsghdr* message, void* data) {
    auto* context = static_cast<CollectContext*>(data);
    nlattr* attributes[NFQA_MAX + 1] = {};
    if (nfq_nlmsg_parse(message, attributes) < 0 || !attributes[NFQA_PACKET_HDR]) return MNL_CB_OK;
    // One packet per datagram in practice; the bound keeps the reserved capacity a promise.
    if (context->packets->size() == context->capacity) return MNL_CB_STOP;
    auto* header = static_cast<nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attributes[NFQA_PACKET_HDR]));
    QueuedPacket& packet = context->packets->emplace_back();
    packet.id = ntohl(header->packet_id);
    packet.hook = header->hook;
    if (attributes[NFQA_PAYLOAD]) {
        packet.payload = {static_cast<std::uint8_t*>(mnl_attr_get_payload(attributes[NFQA_PAYLOAD])),
                          mnl_attr_get_payload_len(attributes[NFQA_PAYLOAD])};
    }
    if (attributes[NFQA_IFINDEX_INDEV]) packet.in_interface = ntohl(mnl_attr_get_u32(attributes[NFQA_IFINDEX_INDEV]));
    if (attributes[NFQA_SKB_INFO]) {
        std::uint32_t info = ntohl(mnl_attr_get_u32(attributes[NFQA_SKB_INFO]));
        packet.checksum_not_ready = info & NFQA_SKB_CSUMNOTREADY;
        packet.gso = info & NFQA_SKB_GSO;
    }
    if (attributes[NFQA_HWADDR] && mnl_attr_get_payload_len(attributes[NFQA_HWADDR]) >= sizeof(nfqnl_msg_packet_hw)) {
        // Copied out: the attribute need not be aligned for the struct (UBSan says so).
        nfqnl_msg_packet_hw hw;
        std::memcpy(&hw, mnl_attr_get_payload(attributes[NFQA_HWADDR]), sizeof hw);
        if (ntohs(hw.hw_addrlen) == packet.source_mac.size()) {
            std::memcpy(packet.source_mac.data(), hw.hw_addr, packet.source_mac.size());
            packet.has_source_mac = true;
        }
    }
    if (attributes[NFQA_CAP_LEN])
        packet.truncated = ntohl(mnl_attr_get_u32(attributes[NFQA_CAP_LEN])) > packet.payload.size();
    return MNL_CB_OK;
}

void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);  // one writer
}

}  // namespace

NfQueueSocket::NfQueueSocket(const NfQueueOptions& options)
    : queue_number_(options.queue_number),
      receive_buffers_(new std::uint8_t[batch_capacity * receive_slot_size]),
      messages_(new mmsghdr[batch_capacity]),
      vectors_(new iovec[batch_capacity]),
      verdict_headers_(new std::uint8_t[batch_capacity * verdict_message_bound]),
      verdict_vectors_(new iovec[verdict_vector_capacity]) {
    batch_.reserve(batch_capacity);
    for (std::size_t i = 0; i < batch_capacity; ++i) {
        vectors_[i] = {receive_buffers_.get() + i * receive_slot_size, receive_slot_size};
        messages_[i] = {};
        messages_[i].msg_hdr.msg_iov = &vectors_[i];
        messages_[i].msg_hdr.msg_iovlen = 1;
    }
    socket_ = mnl_socket_open(NETLINK_NETFILTER);
    if (!socket_) throw StartupError("cannot open a netfilter netlink socket: " + errno_text());
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
        mnl_socket_close(socket_);
        throw StartupError("cannot bind the netlink socket: " + errno_text());
    }
    port_id_ = mnl_socket_get_portid(socket_);
    try {
        configure(options);
    } catch (...) {
        mnl_socket_close(socket_);
        throw;
    }
}

NfQueueSocket::~NfQueueSocket() {
    if (!socket_) return;
    flush_verdicts();
    char buffer[message_overhead];
    nlmsghdr* message = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, queue_number_);
    nfq_nlmsg_cfg_put_cmd(message, AF_INET, NFQNL_CFG_CMD_UNBIND);
    mnl_socket_sendto(socket_, message, message->nlmsg_len);
    mnl_socket_close(socket_);
}

int NfQueueSocket::fd() const { return mnl_socket_get_fd(socket_); }

void NfQueueSocket::send_config(nlmsghdr* message, const char* what) {
    // Ask for an acknowledgement so that a refusal (EBUSY: another process holds the
    // queue; EPERM) surfaces here rather than as silence.
    message->nlmsg_flags |= NLM_F_ACK;
    message->nlmsg_seq = 1;
    if (mnl_socket_sendto(socket_, message, message->nlmsg_len) < 0)
        throw StartupError(std::string("cannot ") + what + ": " + errno_text());
    char buffer[message_overhead];
    ssize_t n = mnl_socket_recvfrom(socket_, buffer, sizeof buffer);
    if (n < 0 || mnl_cb_run(buffer, std::size_t(n), 1, port_id_, nullptr, nullptr) < 0)
        throw StartupError(std::string("kernel refused to ") + what + " (queue " + std::to_string(queue_number_) +
                           "): " + errno_text());
}

void NfQueueSocket::configure(const NfQueueOptions& options) {
    char buffer[message_overhead];
    nlmsghdr* message = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, queue_number_);
    nfq_nlmsg_cfg_put_cmd(message, AF_INET, NFQNL_CFG_CMD_BIND);
    send_config(message, "bind the queue");

    message = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, queue_number_);
    nfq_nlmsg_cfg_put_params(message, NFQNL_COPY_PACKET, 0xffff);
    // GSO: the kernel queues large TCP segments whole instead of segmenting them for
    // us first (measured on the lab: 11 Gbit/s against 0.95 without). The mask names
    // only GSO, so NFQA_CFG_F_FAIL_OPEN stays off: a full queue drops (fail-closed).
    mnl_attr_put_u32(message, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
    mnl_attr_put_u32(message, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
    mnl_attr_put_u32(message, NFQA_CFG_QUEUE_MAXLEN, htonl(options.queue_max_length));
    send_config(message, "configure the queue");

    // FORCE goes past net.core.rmem_max (we hold CAP_NET_ADMIN); the plain option is
    // the fallback, capped by rmem_max.
    int size = options.socket_buffer_bytes;
    if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    // netlink_sendmsg() refuses a datagram larger than the send buffer (EMSGSIZE), so
    // the buffer is raised for a whole batch of verdicts and each send kept under it.
    size = int(verdict_send_size);
    if (setsockopt(fd(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    int granted = 0;
    socklen_t length = sizeof granted;
    getsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &granted, &length);
    verdict_flush_limit_ = std::min(verdict_send_size, std::size_t(std::max(granted, 4096)) - 64);
    if (verdict_flush_limit_ < largest_verdict_payload + verdict_message_bound)
        throw StartupError("the netlink send buffer (" + std::to_string(granted) +
                           " bytes) cannot hold one rewritten 64 KiB packet");
}

std::span<QueuedPacket> NfQueueSocket::receive_batch() {
    batch_.clear();
    int received;
    for (;;) {
        // MSG_WAITFORONE: block for the first datagram only, then take what is already
        // there. One syscall per wake-up where poll + recvmmsg + a recvmmsg that finds
        // the socket empty took three (issue 17: the worker's CPU per lone packet).
        received = recvmmsg(fd(), messages_.get(), unsigned(batch_capacity), MSG_WAITFORONE, nullptr);
        if (received >= 0) break;
        if (errno == EINTR) continue;
        // ENOBUFS: the socket overflowed and the kernel dropped packets (they never pass:
        // fail-closed); the error is reported once, the next receive carries on.
        if (errno == ENOBUFS) {
            count(counters_.enobufs);
            continue;
        }
        return {};
    }
    CollectContext context{&batch_, batch_capacity};
    for (int i = 0; i < received; ++i)
        mnl_cb_run(vectors_[i].iov_base, messages_[i].msg_len, 0, port_id_, collect_packet, &context);
    if (!batch_.empty()) {
        count(counters_.received, batch_.size());
        count(counters_.batches);
    }
    return batch_;
}

void NfQueueSocket::wake() {
    // Packet ids start at 1 (nfqnl_build_packet_message: ++id_sequence), so id 0 names no
    // packet and the kernel answers ENOENT, which wakes the receive; should the sequence
    // have wrapped onto a queued packet, the verdict drops it (fail-closed, and only at stop).
    char buffer[verdict_message_bound];
    nlmsghdr* message = nfq_nlmsg_put(buffer, NFQNL_MSG_VERDICT, queue_number_);
    nfq_nlmsg_verdict_put(message, 0, NF_DROP);
    mnl_socket_sendto(socket_, message, message->nlmsg_len);
}

void NfQueueSocket::send_verdicts(std::span<const QueueVerdict> verdicts) {
    std::size_t n = std::min(verdicts.size(), batch_.size());
    for (std::size_t i = 0; i < n; ++i) add_verdict(batch_[i], verdicts[i]);
    // Before the next receive reuses the buffers the rewritten packets live in.
    flush_verdicts();
}

void NfQueueSocket::add_verdict(const QueuedPacket& packet, QueueVerdict verdict) {
    bool with_payload = verdict == QueueVerdict::accept_rewritten;
    if (with_payload && packet.payload.size() > largest_verdict_payload) {
        count(counters_.oversized_verdicts);
        verdict = QueueVerdict::drop;
        with_payload = false;
    }
    const std::size_t payload_length = with_payload ? packet.payload.size() : 0;
    if (verdict_bytes_ + verdict_message_bound + payload_length > verdict_flush_limit_ ||
        verdict_vectors_used_ + vectors_per_verdict > verdict_vector_capacity)
        flush_verdicts();
    // The header goes in the verdict buffer; a rewritten packet is sent from where it
    // was received (a vector of its own), which spares copying up to 64 KiB per packet.
    char* header_start = reinterpret_cast<char*>(verdict_headers_.get() + verdict_headers_used_);
    nlmsghdr* message = nfq_nlmsg_put(header_start, NFQNL_MSG_VERDICT, queue_number_);
    nfq_nlmsg_verdict_put(message, int(packet.id), verdict == QueueVerdict::drop ? NF_DROP : NF_ACCEPT);
    std::size_t header_length = message->nlmsg_len;
    if (with_payload) {
        auto* attribute = reinterpret_cast<nlattr*>(header_start + header_length);
        attribute->nla_type = NFQA_PAYLOAD;
        attribute->nla_len = std::uint16_t(MNL_ATTR_HDRLEN + payload_length);
        header_length += MNL_ATTR_HDRLEN;
        message->nlmsg_len = std::uint32_t(header_length + MNL_ALIGN(payload_length));
    }
    verdict_headers_used_ += MNL_ALIGN(header_length);
    verdict_vectors_[verdict_vectors_used_++] = {header_start, header_length};
    if (with_payload) {
        verdict_vectors_[verdict_vectors_used_++] = {packet.payload.data(), payload_length};
        if (std::size_t pad = MNL_ALIGN(payload_length) - payload_length; pad > 0)
            verdict_vectors_[verdict_vectors_used_++] = {const_cast<std::uint8_t*>(zero_padding), pad};
    }
    verdict_bytes_ += message->nlmsg_len;
}

void NfQueueSocket::flush_verdicts() {
    if (verdict_vectors_used_ == 0) return;
    // Several verdict messages in one datagram: the kernel walks them in order.
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    msghdr datagram{};
    datagram.msg_name = &kernel;
    datagram.msg_namelen = sizeof kernel;
    datagram.msg_iov = verdict_vectors_.get();
    datagram.msg_iovlen = verdict_vectors_used_;
    if (sendmsg(fd(), &datagram, 0) < 0 && errno == ENOBUFS) count(counters_.enobufs);
    verdict_bytes_ = 0;
    verdict_vectors_used_ = 0;
    verdict_headers_used_ = 0;
}

}  // namespace gw

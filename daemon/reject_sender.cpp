#include "reject_sender.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "firewall/ipv6_reject_builder.hpp"
#include "firewall/reject_builder.hpp"
#include "nat/wire_headers.hpp"
#include "base/startup_error.hpp"

namespace gw {

RejectSender::RejectSender() {
    // IPPROTO_RAW implies IP_HDRINCL: we send the whole datagram as built.
    fd_ = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd_ < 0) throw StartupError(std::string("cannot open a raw socket for reject answers: ") + std::strerror(errno));
    // IPv6 IPPROTO_RAW implies IPV6_HDRINCL (Linux 4.5 and later). Not fatal: a host
    // without IPv6 simply never has IPv6 to answer.
    fd6_ = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
}

RejectSender::~RejectSender() {
    if (fd_ >= 0) close(fd_);
    if (fd6_ >= 0) close(fd6_);
}

void RejectSender::answer_ipv6(std::span<const std::uint8_t> offending, Instant now) {
    std::uint8_t answer[max_ipv6_reject_size];
    std::size_t length = build_ipv6_reject(offending, answer);
    if (length == 0) return;
    if (!limiter_.admit(now)) {
        ++rate_limited_;
        return;
    }
    if (fd6_ < 0) {
        ++failed_;
        return;
    }
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, answer + 24, 16);  // the answer's destination
    if (sendto(fd6_, answer, length, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) ++failed_;
    else ++sent_;
}

void RejectSender::answer(std::span<const std::uint8_t> offending, Instant now) {
    std::uint8_t answer[max_reject_size];
    send_ipv4({answer, build_reject(offending, answer)}, now);
}

void RejectSender::answer_no_mapping(std::span<const std::uint8_t> offending, Instant now) {
    std::uint8_t answer[max_reject_size];
    send_ipv4({answer, build_no_mapping_unreachable(offending, answer)}, now);
}

void RejectSender::send_ipv4(std::span<const std::uint8_t> answer, Instant now) {
    const std::size_t length = answer.size();
    if (length == 0) return;
    if (!limiter_.admit(now)) {
        ++rate_limited_;
        return;
    }
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(answer.data());
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(ip->destination().host_order());
    if (sendto(fd_, answer.data(), length, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) ++failed_;
    else ++sent_;
}

}  // namespace gw

#include "reject_sender.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "firewall/reject_builder.hpp"
#include "nat/wire_headers.hpp"
#include "startup_error.hpp"

namespace gw {

RejectSender::RejectSender() {
    // IPPROTO_RAW implies IP_HDRINCL: we send the whole datagram as built.
    fd_ = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd_ < 0) throw StartupError(std::string("cannot open a raw socket for reject answers: ") + std::strerror(errno));
}

RejectSender::~RejectSender() {
    if (fd_ >= 0) close(fd_);
}

void RejectSender::answer(std::span<const std::uint8_t> offending) {
    std::uint8_t answer[max_reject_size];
    std::size_t length = build_reject(offending, answer);
    if (length == 0) return;
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(answer);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(ip->destination().host_order());
    if (sendto(fd_, answer, length, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) ++failed_;
    else ++sent_;
}

}  // namespace gw

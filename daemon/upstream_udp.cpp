#include "upstream_udp.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "socket_address.hpp"

namespace gw {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string seconds_text(milliseconds ms) {
    std::string text = std::to_string(ms.count() / 1000.0);
    return text.substr(0, text.find('.') + 2) + " s";
}

}  // namespace

std::vector<milliseconds> upstream_send_offsets(milliseconds initial, milliseconds budget) {
    std::vector<milliseconds> offsets;
    milliseconds at{0}, wait = std::max(initial, milliseconds(1));
    while (at < budget) {
        offsets.push_back(at);
        at += wait;
        wait *= 2;
    }
    return offsets;
}

UpstreamUdpSession::UpstreamUdpSession(Ipv4Address local, Endpoint server) : server_(server) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        problem_ = "cannot open a UDP socket: " + error_text(errno);
        return;
    }
    sockaddr_in here = socket_address({local, Port{0}});
    sockaddr_in there = socket_address(server);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&here), sizeof here) != 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&there), sizeof there) != 0) {
        problem_ = "cannot bind to " + local.to_string() + " and connect to " + to_string(server) + ": " +
                   error_text(errno);
        close(fd_);
        fd_ = -1;
        return;
    }
    socklen_t length = sizeof here;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&here), &length) == 0) local_port_ = Port{ntohs(here.sin_port)};
}

UpstreamUdpSession::~UpstreamUdpSession() {
    if (fd_ >= 0) close(fd_);
}

UdpExchange UpstreamUdpSession::exchange(std::span<const std::uint8_t> request, milliseconds initial,
                                         milliseconds budget,
                                         const std::function<bool(std::span<const std::uint8_t>)>& read) {
    UdpExchange outcome;
    outcome.local_port = local_port_;
    if (fd_ < 0) {
        outcome.problem = problem_;
        return outcome;
    }
    const auto sends = upstream_send_offsets(initial, budget);
    const auto start = Clock::now();
    std::size_t next = 0;
    int ignored = 0;
    for (;;) {
        auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
        if (elapsed >= budget) break;
        if (next < sends.size() && elapsed >= sends[next]) {
            if (send(fd_, request.data(), request.size(), 0) == ssize_t(request.size())) ++outcome.requests_sent;
            ++next;
            continue;
        }
        milliseconds wake = next < sends.size() ? sends[next] : budget;
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, int(std::max<milliseconds::rep>((wake - elapsed).count(), 1))) <= 0) continue;
        std::array<std::uint8_t, 1100> datagram;  // PCP's largest message (RFC 6887 §7)
        ssize_t n = recv(fd_, datagram.data(), datagram.size(), 0);
        if (n < 0 && errno == ECONNREFUSED) {
            outcome.took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
            outcome.problem = "nothing listens on " + to_string(server_) + " (ICMP port unreachable)";
            return outcome;
        }
        if (n < 0) continue;
        if (read(std::span<const std::uint8_t>(datagram.data(), std::size_t(n)))) {
            outcome.answered = true;
            outcome.took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
            return outcome;
        }
        ++ignored;  // a late answer to an earlier request, or not the protocol at all
    }
    outcome.took = budget;
    outcome.problem = "no answer from " + to_string(server_) + " after " + std::to_string(outcome.requests_sent) +
                      " requests in " + seconds_text(budget) +
                      (ignored ? " (" + std::to_string(ignored) + " other datagrams ignored)" : "");
    return outcome;
}

}  // namespace gw

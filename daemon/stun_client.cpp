#include "stun_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <random>

#include "socket_address.hpp"

namespace gw {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class UdpSocket {
public:
    UdpSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
    ~UdpSocket() {
        if (fd_ >= 0) close(fd_);
    }
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

std::optional<Endpoint> resolve(const StunServerConfig& server, std::string& problem) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(server.host.c_str(), nullptr, &hints, &found); rc != 0 || !found) {
        problem = "cannot resolve " + server.host + ": " + gai_strerror(rc);
        return std::nullopt;
    }
    auto* in = reinterpret_cast<sockaddr_in*>(found->ai_addr);
    Endpoint e{Ipv4Address(ntohl(in->sin_addr.s_addr)), Port{server.port}};
    freeaddrinfo(found);
    return e;
}

StunTransactionId random_transaction_id() {
    StunTransactionId id{};
    // RFC 5389 section 6: uniformly random, so that an off-path attacker cannot answer.
    if (getrandom(id.data(), id.size(), 0) != ssize_t(id.size())) {
        std::random_device device;  // getrandom(2) missing (pre-3.17 kernel): the library's source
        for (auto& byte : id) byte = std::uint8_t(device());
    }
    return id;
}

}  // namespace

StunSchedule stun_schedule(const StunRetransmission& r) {
    StunSchedule s;
    milliseconds at{0}, rto = r.initial_rto;
    for (int i = 0; i < r.max_requests && at < r.budget; ++i) {
        s.sends.push_back(at);
        at += rto;
        rto *= 2;
    }
    // "Rm times the RTO" after the last request: the initial RTO, as the RFC's own
    // example counts (last request at 31.5 s, failure at 39.5 s).
    s.give_up = std::min(s.sends.back() + r.initial_rto * r.last_wait_factor, r.budget);
    return s;
}

StunQueryOutcome query_stun_server(const StunServerConfig& server, Ipv4Address source, const StunRetransmission& r,
                                   const std::function<bool()>& cancelled) {
    StunQueryOutcome outcome;
    auto destination = resolve(server, outcome.problem);
    if (!destination) return outcome;
    UdpSocket socket;
    sockaddr_in local = socket_address({source, Port{0}});
    if (socket.fd() < 0 || bind(socket.fd(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        outcome.problem = "cannot bind a UDP socket to " + source.to_string() + ": " + std::strerror(errno);
        return outcome;
    }
    const sockaddr_in to = socket_address(*destination);
    const StunTransactionId id = random_transaction_id();
    // The same transaction id on every retransmission (RFC 5389 section 7.2.1).
    const std::vector<std::uint8_t> request = encode_stun_binding_request(id);
    const StunSchedule schedule = stun_schedule(r);
    const auto start = Clock::now();
    std::string last_refusal;
    std::size_t next_send = 0;
    for (;;) {
        if (cancelled()) {
            outcome.problem = "cancelled";
            return outcome;
        }
        auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
        if (elapsed >= schedule.give_up) break;
        if (next_send < schedule.sends.size() && elapsed >= schedule.sends[next_send]) {
            if (sendto(socket.fd(), request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                       sizeof to) == ssize_t(request.size()))
                ++outcome.requests_sent;
            ++next_send;
            continue;
        }
        milliseconds wake = next_send < schedule.sends.size() ? schedule.sends[next_send] : schedule.give_up;
        pollfd p{socket.fd(), POLLIN, 0};
        int timeout = int(std::clamp<milliseconds::rep>((wake - elapsed).count(), 0, 100));
        if (poll(&p, 1, timeout) <= 0 || !(p.revents & POLLIN)) continue;
        std::array<std::uint8_t, 1500> datagram;
        sockaddr_in from{};
        socklen_t from_length = sizeof from;
        ssize_t n = recvfrom(socket.fd(), datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&from),
                             &from_length);
        if (n < 0) continue;  // an ICMP error queued on the socket, say: wait for the next answer
        if (from.sin_addr.s_addr != to.sin_addr.s_addr || from.sin_port != to.sin_port) continue;
        auto result = decode_stun_binding_response(std::span(datagram.data(), std::size_t(n)), id);
        if (auto* success = std::get_if<StunBindingSuccess>(&result)) {
            outcome.answer = *success;
            return outcome;
        }
        const auto& failure = std::get<StunFailure>(result);
        if (failure.problem == StunProblem::error_response) {
            outcome.problem = "the STUN server answered " + describe(failure);
            return outcome;
        }
        last_refusal = describe(failure);  // a stray or broken datagram: keep waiting for ours
    }
    outcome.problem = "no answer from " + server.to_string() + " (" + destination->address.to_string() + ") after " +
                      std::to_string(outcome.requests_sent) + " requests in " +
                      std::to_string(schedule.give_up.count() / 1000.0).substr(0, 4) + " s" +
                      (last_refusal.empty() ? "" : "; last datagram refused: " + last_refusal);
    return outcome;
}

}  // namespace gw

// One request/answer exchange over UDP with the NAT upstream of the WAN (PCP, NAT-PMP):
// a socket bound to our WAN address and connected to the server, so the kernel hands
// over only datagrams from the server's address and port (RFC 6886 §3.1, RFC 6887 §8.3:
// an answer from anyone else is ignored); the request is sent again on a bounded schedule
// until `read` says a datagram was its answer. Blocking; the upstream worker's thread.
//
// Its datagrams are the gateway's own: OUTPUT -o WAN queues them (track_local_output),
// which opens a gateway flow, and the answer to the same ports matches it on the way in.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"

namespace gw {

// When each copy of the request goes, from the start: 0, then 250 ms doubling (RFC 6886
// §3.1's first steps, and RFC 6887 §8.1.1's doubling from a shorter IRT), none at or after
// `budget`. Pure.
std::vector<std::chrono::milliseconds> upstream_send_offsets(std::chrono::milliseconds initial,
                                                             std::chrono::milliseconds budget);

struct UdpExchange {
    bool answered = false;
    int requests_sent = 0;
    std::chrono::milliseconds took{0};  // from the first send to the answer (or to giving up)
    Port local_port;                    // the socket's port on our WAN address
    std::string problem;                // when not answered: why ("no answer from ... after 4 requests in 3 s")
};

class UpstreamUdpSession {
public:
    // Binds to `local` (port chosen by the kernel) and connects to `server`. ok() false on failure.
    UpstreamUdpSession(Ipv4Address local, Endpoint server);
    ~UpstreamUdpSession();
    UpstreamUdpSession(const UpstreamUdpSession&) = delete;
    UpstreamUdpSession& operator=(const UpstreamUdpSession&) = delete;

    bool ok() const { return fd_ >= 0; }
    const std::string& problem() const { return problem_; }
    Port local_port() const { return local_port_; }

    // Sends `request` on the schedule until `read(datagram)` returns true. An ICMP port
    // unreachable from the server ends it at once (nothing listens there).
    UdpExchange exchange(std::span<const std::uint8_t> request, std::chrono::milliseconds initial,
                         std::chrono::milliseconds budget,
                         const std::function<bool(std::span<const std::uint8_t>)>& read);

private:
    int fd_ = -1;
    Endpoint server_;
    Port local_port_;
    std::string problem_;
};

}  // namespace gw

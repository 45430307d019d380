// The gateway's own SSDP (UDA 1.1 section 1), a thin I/O adapter around the pure
// igd/ssdp_message (what is said) and igd/ssdp_responder (whom to answer, when): pupnp
// neither announces nor answers (igd/pupnp_ssdp_silencer.hpp says how it is kept quiet).
//
// Why not pupnp's: pupnp 1.8.4 sets IP_MULTICAST_IF with an 8-byte value that Linux reads
// as an ip_mreq for interface 0.0.0.0, so its NOTIFYs follow the default route out of the
// WAN (issue 13), and it answers every M-SEARCH, from anyone, after up to MX seconds held
// in a job each (issue 14.6).
//
// Sockets, both SO_REUSEADDR (pupnp's silenced socket holds 0.0.0.0:1900), SO_BINDTODEVICE
// to the LAN interface, IP_PKTINFO (the arrival interface is checked again per datagram)
// and SO_MARK ssdp_socket_mark (the only SSDP the iptables backstop lets out):
//   - one bound to <LAN address>:1900: unicast M-SEARCHes (a socket bound to an address
//     wins over pupnp's wildcard one) and everything sent: NOTIFYs to 239.255.255.250 with
//     IP_MULTICAST_IF by interface index (struct ip_mreqn), TTL 2, loop off, and answers;
//   - one bound to 239.255.255.250:1900, joined to the group on the LAN interface only.
// The source of everything sent is the LAN address, and LOCATION names it.
//
// Announcements: ssdp:alive for every target at start, again 1 s later (UDP is lossy;
// UDA 1.1 recommends repeating), then at a random time between a quarter and a half of
// max-age; ssdp:byebye for every target when the server is destroyed (a clean stop).
//
// Threads: start() and the destructor from the daemon's thread; the server's thread does
// all receiving and answering; counts() from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "igd/refusal_log.hpp"
#include "igd/ssdp_message.hpp"
#include "igd/ssdp_responder.hpp"
#include "nat/endpoint.hpp"

namespace gw {

struct SsdpServerOptions {
    std::string lan_interface;
    Ipv4Address lan_address;                    // bound, the source of every datagram
    std::vector<Ipv4Network> lan_networks;      // only hosts inside are answered
    std::vector<Ipv4Address> gateway_addresses; // never answered (LAN and WAN addresses)
    SsdpIdentity identity;                      // UUID, IGD version, LOCATION, max-age
    SsdpResponderLimits limits;
};

struct SsdpServerCounts {
    SsdpResponderCounts responder;
    std::uint64_t answers_sent = 0;   // search answer datagrams
    std::uint64_t notifies_sent = 0;  // ssdp:alive and ssdp:byebye datagrams
    std::uint64_t send_errors = 0;
    std::uint64_t pending = 0;        // searches waiting for their delay now
};

class SsdpServer {
public:
    explicit SsdpServer(SsdpServerOptions options);
    ~SsdpServer();  // stops the thread, then ssdp:byebye for every target
    SsdpServer(const SsdpServer&) = delete;
    SsdpServer& operator=(const SsdpServer&) = delete;

    // Opens the sockets (throws StartupError), starts the thread, which announces at once.
    void start();
    SsdpServerCounts counts() const;
    // The sockets of this server (the silencer leaves them alone).
    std::vector<int> sockets() const { return {unicast_, group_}; }

private:
    void serve(std::stop_token stop);
    void receive_from(int socket, Instant now);
    void send_answers(Instant now);
    void announce(SsdpNotifyKind kind);
    bool send_to(Endpoint destination, const std::string& datagram);
    void log_refusal(SsdpRefusal refusal, Endpoint source, Instant now);
    int open_socket(Endpoint bound_to) const;

    SsdpServerOptions options_;
    std::vector<SsdpTarget> targets_;
    unsigned lan_index_ = 0;
    int unicast_ = -1, group_ = -1, wake_fd_ = -1;
    std::jthread thread_;
    mutable std::mutex mutex_;  // guards responder_ and counts_ (the thread and counts())
    SsdpResponder responder_;
    SsdpServerCounts counts_;
    std::mt19937 random_{std::random_device{}()};  // the server's thread only
    RefusalLog refusal_log_{RateLimit{.per_second = 2, .burst = 10}};
};

}  // namespace gw

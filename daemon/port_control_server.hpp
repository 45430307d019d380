// The UDP 5351 server: a thin I/O adapter in front of the port-control protocols. One
// socket bound to the LAN address (never the WAN's), one thread. A datagram from a LAN
// host is dispatched by its first byte, the version (RFC 6887 §9):
//   0  NAT-PMP: answer_natpmp (igd/natpmp_responder.hpp) when natpmp.enabled; else the
//      PCP handler if one is registered (a PCP-only server answers it), else nothing;
//   2  PCP: the registered PCP handler; without one (or with pcp.enabled false), and for
//      any other version, NAT-PMP's Unsupported Version (result 1, opcode 128 + op) so a
//      PCP client falls back to NAT-PMP (RFC 6886 §3.5, RFC 6887 §9).
// Handlers run inside PortMappingService::with_policy, which carries out the
// MappingChanges they return (packet path, lease file, GENA). The server sends the
// response, logs each decision (grants at info, refusals rate-limited) and counts it.
//
// On start, and whenever announce_external_address() is called (the WAN address
// changed), it multicasts the NAT-PMP external address to 224.0.0.1:5350 out of the LAN
// interface 10 times, 250 ms apart and doubling (RFC 6886 §3.2.1).
//
// Epoch (RFC 6886 §3.6): seconds since this server started.
//
// Threads: start() and the destructor from the daemon's thread; the server's own thread
// does all socket I/O; announce_external_address() and counters() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "igd/mapping_changes.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/natpmp_message.hpp"
#include "igd/pcp_message.hpp"
#include "igd/port_control_context.hpp"
#include "igd/upstream_carrier.hpp"
#include "igd/port_mapping_service.hpp"
#include "igd/refusal_log.hpp"

namespace gw {

// What a port-control handler returns: the datagram to send back (empty: none) and what
// it changed in the policy, for the service to carry out.
struct PortControlAnswer {
    std::vector<std::uint8_t> response;
    MappingChanges changes;
    std::optional<PcpResult> pcp_result;  // what a PCP handler answered; nullopt: dropped
};

// The PCP responder as the daemon registers it. Called on the server's thread, inside
// PortMappingService::with_policy (so with the policy's lock held: it must not block or
// call back into the service), with the request datagram (version byte 2 first), the
// client's source address and port, the external address and epoch, the policy and the
// time.
using PcpRequestHandler = std::function<PortControlAnswer(std::span<const std::uint8_t> request, Endpoint client,
                                                          const PortControlContext& context, MappingPolicy& policy,
                                                          Instant now)>;

struct PortControlServerOptions {
    std::string lan_interface;
    Ipv4Address lan_address;                 // bound here, port `port`
    std::vector<Ipv4Network> lan_networks;   // requests from elsewhere are dropped and counted
    std::optional<Ipv4Address> external_address;
    bool natpmp_enabled = true;
    std::uint16_t port = natpmp_server_port;  // 0: any free port (tests; see bound_port())
    Endpoint announce_to{Ipv4Address::from_octets(224, 0, 0, 1), Port{natpmp_client_port}};
};

// Monotonic counts since start (gatewayctl status, the stop summary).
struct PortControlCounts {
    std::uint64_t natpmp_requests = 0;
    std::array<std::uint64_t, natpmp_result_count> natpmp_results{};  // answers sent, by result code
    std::uint64_t natpmp_ignored = 0;       // too short, truncated, a response opcode
    std::uint64_t pcp_requests = 0;          // handed to the PCP handler
    std::array<std::uint64_t, pcp_result_count> pcp_results{};  // PCP answers, by result code
    std::uint64_t pcp_dropped = 0;           // PCP requests answered with nothing (RFC 6887 §8.2)
    std::uint64_t unsupported_version = 0;   // answered result 1 (PCP with no handler included)
    std::uint64_t outside_lan = 0;           // from a source outside lan.networks: dropped
    std::uint64_t announcements = 0;         // unsolicited external-address datagrams sent
    std::uint64_t send_errors = 0;
};

class PortControlServer {
public:
    PortControlServer(PortControlServerOptions options, PortMappingService& mappings);
    ~PortControlServer();  // stops and joins the thread
    PortControlServer(const PortControlServer&) = delete;
    PortControlServer& operator=(const PortControlServer&) = delete;

    // Before start(): PCP requests go to `handler` (pcp.enabled); without one they are
    // answered Unsupported Version.
    void set_pcp_handler(PcpRequestHandler handler) { pcp_handler_ = std::move(handler); }
    // Before start(), with wan.upstream_mappings: each grant's answer waits (bounded,
    // outside every lock) for its upstream half and tells the upstream's port and, for
    // PCP, the smaller lifetime; a failure follows wan.upstream_failure
    // (igd/upstream_carrier.hpp). Null: answered as before.
    void set_upstream_carrier(UpstreamCarrier* carrier) { upstream_ = carrier; }

    // Binds lan_address:port (throws StartupError), starts the thread and the start-up
    // announcements (when NAT-PMP is enabled).
    void start();

    // The WAN address is now `address` (nullopt: none usable): requests are answered
    // with it from now on, and it is announced again, 10 times (RFC 6886 §3.2.1).
    void announce_external_address(std::optional<Ipv4Address> address);

    PortControlCounts counts() const;
    // The port the socket is bound to (options.port, or the one the kernel chose for 0).
    std::uint16_t bound_port() const { return bound_port_; }
    std::uint32_t epoch_seconds() const;

private:
    void serve(std::stop_token stop);
    void receive_one();
    // The answer for one datagram from a LAN host (runs the handler under the service's lock).
    std::vector<std::uint8_t> answer(std::span<const std::uint8_t> request, Endpoint client);
    std::vector<std::uint8_t> answer_natpmp_request(std::span<const std::uint8_t> request, Endpoint client);
    void send_to(Endpoint destination, std::span<const std::uint8_t> bytes);
    // The upstream half of the grant in `changes`, into `response` (no lock held).
    void carry_upstream(std::vector<std::uint8_t>& response, const MappingChanges& changes, bool pcp);
    void send_due_announcements();
    // Logs a refusal unless they are flooding in (the counts keep the full tally).
    void log_refusal(const std::string& line);
    PortControlContext context() const;

    PortControlServerOptions options_;
    PortMappingService& mappings_;
    PcpRequestHandler pcp_handler_;
    UpstreamCarrier* upstream_ = nullptr;
    int socket_ = -1;
    std::uint16_t bound_port_ = 0;
    int wake_fd_ = -1;  // eventfd: stop, or a new announcement schedule
    Instant started_{};
    std::jthread thread_;

    mutable std::mutex mutex_;  // guards what follows
    std::optional<Ipv4Address> external_address_;
    int announcements_left_ = 0;
    Instant next_announcement_{};
    std::chrono::milliseconds announcement_interval_{0};
    PortControlCounts counts_;
    RefusalLog refusal_log_;
};

}  // namespace gw

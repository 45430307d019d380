// The IGD's HTTP front end: gatewayd's own listener on the LAN address(es) at
// upnp.http_port, IPv4 and IPv6, ahead of pupnp (issue 14: "keep it away from pupnp").
// pupnp's own server listens on pupnp_internal_port(http_port), which the daemon's
// iptables chains let in from the loopback interface only (daemon/queue_rules.cpp).
//
// Per connection: one request, read with http-parser (HttpRequestReader), judged whole
// (judge_request, the GENA table), its body vetted by expat (vet_xml_body), then
// written to pupnp in canonical form over a connection of the front end's own, whose
// local end is recorded in ForwardedClients so the IGD learns the real client; pupnp's
// answer is relayed back and the connection closed. pupnp never reads a client's bytes.
//
// What keeps one LAN host from starving the others (issue 14 items 3-5): at most
// `max_connections_per_client` connections a client and `max_connections` in all; a
// request must be whole within `request_deadline` of the connection (idle or
// trickling connections are answered 408 and closed) and the exchange over within
// `exchange_deadline`; all requests in flight together hold at most
// `max_buffered_bytes`; at most `max_upstream` requests are at pupnp at once (its pool
// has 12 threads), the others wait their turn in arrival order. Every refusal is
// answered with its HTTP status, counted (counters()) and logged, rate-limited.
//
// Threads: start() and stop() from the owner's thread; the loop runs on a thread of its
// own; counters() may be read from any thread. start() after stop() starts afresh.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "igd/forwarded_clients.hpp"
#include "igd/gena_subscriptions.hpp"
#include "igd/http_refusal.hpp"
#include "igd/http_request_judge.hpp"
#include "igd/http_request_reader.hpp"

namespace gw {

// Where pupnp's own HTTP server listens: next to the front end's port (pupnp 1.8 takes
// no port below 49152, and upnp.http_port is at least that).
constexpr std::uint16_t pupnp_internal_port(std::uint16_t http_port) {
    return http_port < 65535 ? std::uint16_t(http_port + 1) : std::uint16_t(http_port - 1);
}

struct HttpFrontEndConfig {
    FrontEndAddresses addresses;          // what it listens on (IPv6 ones: link-local and global)
    unsigned lan_interface_index = 0;     // the scope of link-local listeners
    std::optional<sockaddr_storage> upstream_v4, upstream_v6;  // pupnp's servers
    HttpLimits limits;
    GenaLimits gena;
    std::size_t max_connections = 256;
    std::size_t max_connections_per_client = 8;
    std::size_t max_buffered_bytes = 4 << 20;
    std::size_t max_upstream = 8;
    std::chrono::milliseconds request_deadline{10000};
    std::chrono::milliseconds exchange_deadline{30000};
    std::chrono::milliseconds callback_probe_timeout{2000};  // a new SUBSCRIBE's callback must connect by then
};

class HttpFrontEnd {
public:
    HttpFrontEnd(HttpFrontEndConfig config, ForwardedClients& clients);
    ~HttpFrontEnd();
    HttpFrontEnd(const HttpFrontEnd&) = delete;
    HttpFrontEnd& operator=(const HttpFrontEnd&) = delete;

    // Binds every listener and starts the loop. Throws StartupError (nothing left open).
    void start();
    // Closes every listener and connection; idempotent.
    void stop();
    const HttpFrontEndCounters& counters() const { return counters_; }
    std::size_t subscriptions_held() const { return subscriptions_held_.load(std::memory_order_relaxed); }

private:
    class Loop;
    HttpFrontEndConfig config_;
    ForwardedClients& clients_;
    HttpFrontEndCounters counters_;
    std::atomic<std::size_t> subscriptions_held_{0};
    // Kept across stop() and start(): pupnp keeps its subscriptions meanwhile. Touched by
    // the loop's thread only (start() and stop() join it).
    GenaSubscriptions gena_;
    std::atomic<bool> stopping_{false};
    std::unique_ptr<Loop> loop_;
    std::thread thread_;
};

}  // namespace gw

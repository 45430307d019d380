// The optional scrape endpoint (metrics.listen): GET /metrics answers the Prometheus text
// the daemon last published (publish(), once a second from the main loop), so a scrape
// never waits on the engine or the control plane and a slow scraper holds nothing but
// its own connection.
//
// Bounded like the IGD's front end (issue 14): requests are read with the same strict
// http-parser reader, at most max_connections at once (more are closed at accept), a
// request must be whole within request_deadline, the head within 4 KiB. Each refusal
// has a counter and a rate-limited log line. Loopback by default: the metrics name hosts,
// rules and counters an outsider has no business reading.
//
// Threads: start()/stop() from the daemon's thread; publish() and counts() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"
#include "wakeable_thread.hpp"

namespace gw {

struct MetricsEndpointCounts {
    std::uint64_t served = 0;           // 200 answers
    std::uint64_t not_found = 0;        // 404: a path other than /metrics
    std::uint64_t bad_requests = 0;     // refused by the reader (method, size, syntax): 400
    std::uint64_t busy = 0;             // closed at accept: max_connections were open
    std::uint64_t timed_out = 0;        // closed: no whole request within the deadline
    std::uint64_t open = 0;             // connections held now (at most max_connections)
};

class MetricsEndpoint {
public:
    static constexpr std::size_t max_connections = 8;

    // `deadline`: how long a connection may take to send its request and read the answer.
    explicit MetricsEndpoint(Endpoint listen, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    ~MetricsEndpoint();  // stops the thread, closes every socket
    MetricsEndpoint(const MetricsEndpoint&) = delete;
    MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

    // Binds and listens (throws StartupError), then serves on its thread.
    void start();
    // The port it listens on (the one asked, or the kernel's choice for port 0).
    std::uint16_t port() const { return port_; }
    // The text the next scrapes get.
    void publish(std::string text);
    MetricsEndpointCounts counts() const;

private:
    struct Connection;
    void serve(std::stop_token stop, int wake_fd);
    void accept_all();
    // false: the connection is done (answered, refused, or gone) and may be closed.
    bool read_from(Connection& connection);
    bool write_to(Connection& connection);
    void answer(Connection& connection);
    void count_refusal(std::uint64_t MetricsEndpointCounts::*counter, const char* what);

    Endpoint listen_;
    std::chrono::milliseconds deadline_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<std::unique_ptr<Connection>> connections_;  // the thread's
    mutable std::mutex mutex_;                               // guards text_ and counts_
    std::shared_ptr<const std::string> text_;
    MetricsEndpointCounts counts_;
    std::chrono::steady_clock::time_point last_refusal_log_{};
    std::uint64_t refusals_since_log_ = 0;
    WakeableThread thread_{"metrics endpoint"};
};

}  // namespace gw

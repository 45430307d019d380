// Starts the LAN-side front ends (UPnP, NAT-PMP/PCP) once the LAN can carry them, and
// keeps them there (issue 13): a router at boot starts while its links settle — a LAN
// link down or without carrier, its IPv6 link-local address still tentative (DAD), which
// pupnp cannot bind — and the packet path must not wait for, nor die with, its control
// plane. The supervisor knows nothing of what a front end is: it calls `start` with the
// LAN's IPv4 address and `stop`, and
//   - starts a front end when the LAN is ready (lan_readiness), retrying a start that
//     failed with a backoff of 1, 2, 4 ... 30 s;
//   - restarts every front end when the LAN's IPv4 address changes, so that what they
//     announce (the IGD's URLs, NAT-PMP's source address) follows it;
//   - logs once per change of a front end's state (waiting, running, failing), never
//     per retry.
// The LAN is looked at on every check() (the main loop's 1 s tick): getifaddrs and
// /proc/net/if_inet6, no event socket to keep in step.
//
// Threads: the daemon's main loop only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"
#include "nat/mapping.hpp"

namespace gw {

// Whether the LAN interface can carry the front ends now; `why` says what is missing.
struct LanReadiness {
    std::optional<Ipv4Address> address;  // its IPv4 address, when it has one
    bool ready = false;
    std::string why;
};
// Up, an IPv4 address, and no IPv6 address still tentative (pupnp binds them all).
LanReadiness lan_readiness(const std::string& interface);

struct SupervisedFrontEnd {
    std::string name;                               // "UPnP", "NAT-PMP/PCP": the log's
    std::function<void(Ipv4Address lan)> start;     // throws (StartupError) when it cannot
    std::function<void()> stop;                     // undoes start, or a start that threw
};

class FrontEndSupervisor {
public:
    // `readiness`: injected for tests; the daemon passes lan_readiness.
    using ReadinessProbe = std::function<LanReadiness()>;
    explicit FrontEndSupervisor(ReadinessProbe readiness);

    void add(SupervisedFrontEnd front_end);
    // Looks at the LAN, then starts, retries or restarts what is due at `now`.
    void check(Instant now);

    bool running(const std::string& name) const;
    std::size_t failed_starts() const { return failed_starts_; }
    // gatewayctl status's "front_ends": each one's state ("waiting", "running", "failing")
    // and why, and the failed starts so far.
    std::string json() const;

private:
    enum class State { waiting, running, failing };
    struct Entry {
        SupervisedFrontEnd front_end;
        State state = State::waiting;
        std::string reason;          // what was logged for the state
        Instant next_attempt{0};
        Instant backoff{0};
        Ipv4Address started_on{};
    };
    void try_start(Entry& entry, Ipv4Address lan, Instant now);
    void enter(Entry& entry, State state, const std::string& reason);

    ReadinessProbe readiness_;
    std::vector<Entry> entries_;
    std::size_t failed_starts_ = 0;
};

}  // namespace gw

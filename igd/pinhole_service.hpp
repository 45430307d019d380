// The one pinhole service every front end shares (UPnP WANIPv6FirewallControl, PCP MAP
// for an IPv6 internal address, gatewayctl pinhole add|delete): it owns the PinholePolicy,
// the pinhole journal (<lease_file>.pinholes) and the lock around them, restores the
// journal at start, and is the only thing that opens and closes IPv6 pinholes in the
// packet path (OpenPinhole / ClosePinhole through the EngineCommandQueue). One id range
// for every front end: a UniqueID names one pinhole whoever opened it, and the
// administrator's pinholes are journaled and restored like the clients'.
//
// Time: every Instant is the injected clock's (ServiceClock; the real one by default).
//
// Threads: any thread may call any member (pupnp's pool, the port-control server's
// thread, the daemon's loop); everything shared is behind `mutex_`. next_lease_end() is
// lock-free, and expire() takes the lock only once a lease has ended (the daemon's loop
// calls it every turn).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "igd/engine_clock.hpp"
#include "igd/engine_command_queue.hpp"
#include "igd/igd_config.hpp"
#include "igd/lease_journal.hpp"
#include "igd/pinhole_policy.hpp"

namespace gw {

class PinholeService {
public:
    // `config`: upnp.pinholes, secure mode and the lease file (the journal is beside it).
    // `environment`: the LAN's IPv6 prefixes and the gateway's own addresses.
    PinholeService(const IgdConfig& config, PinholeEnvironment environment, EngineCommandQueue& commands,
                   ServiceClock clock = {});
    // Leaves the journal compact (one line a pinhole) when start() ran.
    ~PinholeService();
    PinholeService(const PinholeService&) = delete;
    PinholeService& operator=(const PinholeService&) = delete;

    // Reads the journal, takes back what the policy still allows (logging what it
    // refuses), opens it in the packet path and compacts the file. Never throws.
    void start();

    // Reload, under the lock: upnp.secure_mode and the NAT's idle timeouts
    // (PinholePolicy::set_secure_mode, set_outbound_timeouts).
    void set_secure_mode(bool secure_mode);
    void set_outbound_timeouts(std::uint32_t tcp_seconds, std::uint32_t udp_seconds);

    bool firewall_enabled() const { return policy_.firewall_enabled(); }
    bool inbound_allowed() const { return policy_.inbound_allowed(); }
    // Under the lock: a reload may change the timeouts.
    std::variant<std::uint32_t, PinholeRefusal> outbound_timeout(std::uint16_t protocol);

    // The front ends' actions, decided by the policy (pinhole_policy.hpp says which
    // refusal when), carried out here: opened or closed in the packet path, journaled,
    // logged with `origin` ("UPnP", "PCP", "gatewayctl").
    PinholeGrant add(const PinholeRequest& request, const Ipv6Address& requester, std::string_view origin);
    PinholeGrant update(std::uint16_t id, std::uint32_t lease_seconds, const Ipv6Address& requester,
                        std::string_view origin);
    PinholeGrant remove(std::uint16_t id, const Ipv6Address& requester, std::string_view origin);
    // The live pinhole `id`, if `requester` owns it (GetPinholePackets, CheckPinholeWorking).
    PinholeGrant owned(std::uint16_t id, const Ipv6Address& requester);

    // Closes the pinholes whose lease ended. Lock-free until one has.
    void expire();
    std::optional<Instant> next_lease_end() const;
    // Every pinhole held, by UniqueID (gatewayctl pinholes and status).
    std::vector<PinholeLease> all();

private:
    // With mutex_ held: publishes the next lease end and appends `lines` to the journal
    // (or compacts it).
    void record(std::string_view lines);
    void compact();  // with mutex_ held

    EngineCommandQueue& commands_;
    ServiceClock clock_;
    std::mutex mutex_;
    PinholePolicy policy_;    // with mutex_ held (its const configuration is read without it)
    LeaseJournal journal_;    // with mutex_ held
    bool started_ = false;
    static constexpr std::int64_t no_lease_end = INT64_MAX;
    std::atomic<std::int64_t> next_lease_end_ms_{no_lease_end};
};

}  // namespace gw

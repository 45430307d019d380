// The one mapping service every front end shares (UPnP SOAP, NAT-PMP, PCP, gatewayctl;
// miniupnpd's upnpredirect.c): it owns the MappingPolicy, the lease journal, gatewayctl's
// timed forwards and the ports static forwards hold, and the lock around them. It restores
// the lease file at start, and is the only thing that opens and closes dynamic forwards
// in the packet path (through the EngineCommandQueue) and writes leases. Because every
// opening is decided here, under one lock and in the order of the one command queue, the
// packet path never meets two openings of one port (ForwardTable::open overwrites) nor
// an opening a static forward owns: what a client is told succeeded is what the engine
// does.
//
// Origins: a PortMapping is a client's (UPnP, NAT-PMP, PCP; PCP's carry their nonce); a
// TimedForward is the administrator's (gatewayctl forwards add --for); static forwards
// (the config, switched by gatewayctl forwards enable|disable) are the engine's, and the
// service only holds their ports: use_static_forwards() is told of every change before
// the engine takes it, and closes whatever dynamic opening is on those ports first.
//
// A front end decides with pure protocol logic inside with_policy(): its callback gets
// the policy and the time under the lock and returns a result carrying the
// MappingChanges it made; the service then carries them out, still under the lock, in
// one place: opens each granted mapping and closes each removed one in the packet path,
// journals both, publishes the next lease end and the count, and tells the change
// listeners (the IGD's GENA PortMappingNumberOfEntries announce).
//
// Time: every Instant is the injected clock's (ServiceClock; the real one by default).
//
// Threads: any thread may call any member (pupnp's pool, the port-control server's
// thread, the daemon's loop); everything shared is behind `mutex_`. next_lease_end(),
// next_forward_end() and mapping_count() are lock-free (the daemon's loop asks on every
// turn). Change listeners run with the lock held, in the order of the changes: they
// must not call back into the service. The lock is held across a journal fdatasync:
// nobody may call in with the engine lock held (docs/architecture.md, Threads and
// locks), or a slow disk would stall the packet workers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/expected.hpp"
#include "firewall/forward_table.hpp"
#include "igd/engine_clock.hpp"
#include "igd/engine_command_queue.hpp"
#include "igd/igd_config.hpp"
#include "igd/lease_journal.hpp"
#include "igd/mapping_changes.hpp"
#include "igd/mapping_policy.hpp"

namespace gw {

// A forward the administrator opened for a while (`gatewayctl forwards add NAME ... --for
// DURATION`): the service closes it when `expires` comes.
struct TimedForward {
    std::string name;
    DynamicForward forward;
    Instant expires{0};
};

// What a change of the static forwards closed, because the new ones own its port.
struct StaticForwardsTaken {
    std::vector<PortMapping> mappings;
    std::vector<TimedForward> forwards;
};

class PortMappingService {
public:
    // Told the number of stored mappings after every change (with the lock held).
    using ChangeListener = std::function<void(std::size_t mapping_count)>;

    // `config`: the policy (permissions, limits, leases) and the lease file; its
    // permissions are final (see effective_upnp_permissions). `static_ports`: the ports
    // static forwards hold (729). `clock`: where `now` comes from. `storage`: how the
    // lease journal reaches the disk.
    PortMappingService(const IgdConfig& config, std::vector<std::pair<Protocol, PortRange>> static_ports,
                       EngineCommandQueue& commands, ServiceClock clock = {},
                       JournalStorage& storage = system_journal_storage());
    // Leaves the lease file compact (one line a mapping) when start() ran.
    ~PortMappingService();
    PortMappingService(const PortMappingService&) = delete;
    PortMappingService& operator=(const PortMappingService&) = delete;

    // Reads the lease file, takes back what the policy still allows (logging what it
    // refuses), opens it in the packet path and compacts the file. Never throws: a bad
    // or unreadable file is logged and the service starts empty.
    void start();

    // Runs `decide(MappingPolicy&, Instant now)` under the lock and carries out the
    // MappingChanges its result holds: the result is a MappingChanges, or has a
    // `changes` member of that type. Returns the result. `decide` must report every
    // mapping it granted or removed (a grant that replaces a held port is reported as
    // granted only), and must not block: every front end waits for it.
    template <class Decide>
    auto with_policy(Decide&& decide) {
        std::lock_guard lock(mutex_);
        Instant now = clock_.now();
        auto result = std::forward<Decide>(decide)(policy_, now);
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(result)>, MappingChanges>)
            carry_out(result, now);
        else
            carry_out(result.changes, now);
        return result;
    }

    // A front end that announces changes registers here when it starts and removes
    // itself (by the id returned) before it goes.
    std::size_t add_change_listener(ChangeListener listener);
    void remove_change_listener(std::size_t id);

    // Closes the mappings whose lease ended; the daemon calls it when next_lease_end()
    // is reached (and every second).
    void expire_leases();
    // When the next lease ends (the daemon wakes for it, so the path closes on time).
    std::optional<Instant> next_lease_end() const;
    // Stored mappings, whoever asked for them (gatewayctl status, GENA).
    std::size_t mapping_count() const;
    // Every mapping held (gatewayctl mappings), in index order.
    std::vector<PortMapping> mappings();
    // gatewayctl mappings delete: the administrator removes a mapping whoever owns it,
    // through the policy, so the lease file and GENA stay right and the packet path is
    // closed. The refusal when there is no such live mapping.
    std::optional<MappingRefusal> delete_mapping_as_administrator(Protocol protocol, Port external);
    // Reload and `forwards enable|disable`, BEFORE the engine takes the new static
    // forwards: the ports they hold from now on. Every port mapping and timed forward on
    // one of them is closed (packet path, lease journal, listeners alike) and returned;
    // new grants there are refused (729). The engine's own closing of those ports then
    // changes nothing, and no opening decided after this call can meet a static forward.
    StaticForwardsTaken use_static_forwards(std::vector<std::pair<Protocol, PortRange>> static_ports);

    // gatewayctl forwards add: opens `forward` for `duration`, unless a static forward, a
    // port mapping (granted, even if still on its way to the packet path) or another
    // timed forward holds its port, or a timed forward has the name: then the reason,
    // for the administrator. The forward holds its port against new grants (729).
    Expected<TimedForward, Error> open_timed_forward(std::string name, DynamicForward forward,
                                                     std::chrono::seconds duration);
    // gatewayctl forwards delete: ends the timed forward named `name` before its time
    // (packet path and the ports it held alike) and returns it; the reason when there is none.
    Expected<TimedForward, Error> close_timed_forward(std::string_view name);
    // Closes the timed forwards whose time is up and returns them (the caller logs them
    // and saves its state). Lock-free until one has ended.
    std::vector<TimedForward> expire_timed_forwards();
    std::optional<Instant> next_forward_end() const;
    std::vector<TimedForward> timed_forwards();
    // The service's clock, for callers that show or save time left.
    Instant now() const { return clock_.now(); }
    // Reload: the policy's rules and limits (MappingPolicy::reconfigure, whose contract
    // this is) change under the lock, so every front end's next grant meets them; the
    // leases the new max_lease shortens are journalled and renewed in the packet path.
    // `config`'s permissions are final, as for the constructor. The lease file stays.
    struct PolicyReloaded {
        MappingChanges changes;  // granted: the shortened leases
        MappingPolicy::HeldOutsidePolicy held_outside_policy;
    };
    PolicyReloaded use_policy(const IgdConfig& config);
    // wan.cascade_mappings: refuse, with another NAT upstream: new grants are refused
    // (MappingRefusal::upstream_nat) by every front end.
    void set_refusing_upstream_nat(bool refusing);

private:
    // With mutex_ held: the packet path, the journal, the published figures, the listeners.
    void carry_out(const MappingChanges& changes, Instant now);
    void open_in_packet_path(const PortMapping& mapping);
    void close_in_packet_path(const PortMapping& mapping);
    // With mutex_ held, after every change: publishes what is read without the lock and
    // appends `journal_lines` to the lease file (or compacts it).
    void record(std::string_view journal_lines);
    void compact_lease_file();  // with mutex_ held
    // With mutex_ held: the policy refuses what static and timed forwards hold; the next
    // timed forward end is published.
    void reserve_forward_ports();

    IgdConfig config_;
    EngineCommandQueue& commands_;
    ServiceClock clock_;
    std::mutex mutex_;
    MappingPolicy policy_;      // with mutex_ held
    LeaseJournal journal_;      // with mutex_ held
    std::vector<std::pair<std::size_t, ChangeListener>> listeners_;  // with mutex_ held
    std::size_t next_listener_id_ = 0;                                // with mutex_ held
    std::vector<std::pair<Protocol, PortRange>> static_ports_;        // with mutex_ held
    std::vector<TimedForward> timed_;                                 // with mutex_ held
    bool started_ = false;
    static constexpr std::int64_t no_lease_end = INT64_MAX;
    std::atomic<std::int64_t> next_lease_end_ms_{no_lease_end};
    std::atomic<std::int64_t> next_forward_end_ms_{no_lease_end};
    std::atomic<std::size_t> mapping_count_{0};
};

}  // namespace gw

// The one mapping service every front end shares (UPnP SOAP, NAT-PMP, PCP; miniupnpd's
// upnpredirect.c): it owns the MappingPolicy, the lease journal and the lock around
// them, restores the lease file at start, and is the only thing that opens and closes
// port mappings in the packet path (through the EngineCommandQueue) and writes leases.
//
// A front end decides with pure protocol logic inside with_policy(): its callback gets
// the policy and the time under the lock and returns a result carrying the
// MappingChanges it made; the service then carries them out, still under the lock, in
// one place: opens each granted mapping and closes each removed one in the packet path,
// journals both, publishes the next lease end and the count, and tells the change
// listeners (the IGD's GENA PortMappingNumberOfEntries announce).
//
// Threads: any thread may call any member (pupnp's pool, the port-control server's
// thread, the daemon's loop); everything shared is behind `mutex_`. next_lease_end()
// and mapping_count() are lock-free (the daemon's loop asks on every turn). Change
// listeners run with the lock held, in the order of the changes: they must not call
// back into the service. The lock is held across a journal fdatasync: nobody may call in
// with the engine lock held (docs/architecture.md, Threads and locks), or a slow disk
// would stall the packet workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "igd/engine_clock.hpp"
#include "igd/engine_command_queue.hpp"
#include "igd/igd_config.hpp"
#include "igd/lease_journal.hpp"
#include "igd/mapping_changes.hpp"
#include "igd/mapping_policy.hpp"

namespace gw {

class PortMappingService {
public:
    // Told the number of stored mappings after every change (with the lock held).
    using ChangeListener = std::function<void(std::size_t mapping_count)>;

    // `config`: the policy (permissions, limits, leases) and the lease file; its
    // permissions are final (see effective_upnp_permissions). `reserved`: the ports
    // static forwards hold (729). `storage`: how the lease journal reaches the disk.
    PortMappingService(const IgdConfig& config, std::vector<std::pair<Protocol, PortRange>> reserved,
                       EngineCommandQueue& commands, JournalStorage& storage = system_journal_storage());
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
        Instant now = monotonic_now();
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
    // Reload: the ports static and timed forwards now hold, refused to new grants (729).
    void set_reserved_ports(std::vector<std::pair<Protocol, PortRange>> reserved);
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

    IgdConfig config_;
    EngineCommandQueue& commands_;
    std::mutex mutex_;
    MappingPolicy policy_;      // with mutex_ held
    LeaseJournal journal_;      // with mutex_ held
    std::vector<std::pair<std::size_t, ChangeListener>> listeners_;  // with mutex_ held
    std::size_t next_listener_id_ = 0;                                // with mutex_ held
    bool started_ = false;
    static constexpr std::int64_t no_lease_end = INT64_MAX;
    std::atomic<std::int64_t> next_lease_end_ms_{no_lease_end};
    std::atomic<std::size_t> mapping_count_{0};
};

}  // namespace gw

// Every flow, indexed under both of its full tuples (pf's wire and stack keys):
//   internal key (protocol, internal endpoint, remote endpoint): packets leaving the LAN,
//   external key (protocol, external port, remote endpoint): packets arriving at the WAN address,
// plus, per (protocol, external port, remote address), a list of the flows that share it,
// which answers RFC 4787 address-dependent filtering without a scan.
//
// Sized for millions of flows: the records sit in one array allocated up front from
// nat.max_mappings, and the three indexes are open-addressing tables of record ids
// (nat/record_index.hpp) whose keys are the records' own fields. Creating or ending a
// flow never allocates; a lookup is one hash and, usually, one record compared.
//
// Expiry: each timeout class keeps its flows on an idle list ordered by last activity
// (touching a flow moves it to the tail), so reclaiming costs only the flows that
// actually expired. A lookup refuses a flow whose time is up even if it was not
// reclaimed yet, so expiry is exact whatever the reclaim cadence. A flow releases its
// mapping when it goes.
//
// Limits (issue 7, nat.limits in NatConfig): a LAN host may start at most
// flows_per_host flows; at most embryonic_inbound flows started from the WAN may wait
// unanswered (a spoofed-SYN flood is made of them). When the table is full, room is
// made by evicting, in this order: the oldest embryonic flow; else the oldest flow of
// the host that started the most (searched among the oldest eviction_scan_depth flows
// of each of the LAN-started idle lists, else the oldest flow of all). A new embryonic flow never evicts
// anything but another embryonic flow, so the WAN alone can never push the LAN out.
//
// Not thread safe: a part of the PacketEngine, used under the engine lock like it.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "firewall/flow.hpp"
#include "nat/drop_reason.hpp"
#include "nat/huge_pages.hpp"
#include "nat/lan_host_counts.hpp"
#include "nat/nat_config.hpp"
#include "nat/record_index.hpp"

namespace gw {

class FlowTable {
public:
    FlowTable(const NatConfig& config, MappingTable& mappings);

    Flow* find_by_internal(Protocol protocol, Endpoint internal, Endpoint remote, Instant now);
    Flow* find_by_external(Protocol protocol, Port external, Endpoint remote, Instant now);
    // A lookup in stages, for a batch of packets whose cache misses should overlap
    // (PacketEngine::judge_batch): the key's hash, whose index entry is then asked for;
    // then, once it has arrived, the record it names; then that record's idle-list
    // neighbours, which touch() rewrites. Hints only: they change nothing, and the real
    // find_by_* still decides (an earlier packet of the batch may add or end the flow).
    enum class Key : std::uint8_t { internal, external };
    std::uint64_t prefetch_index_by_internal(Protocol protocol, Endpoint internal, Endpoint remote) const noexcept;
    std::uint64_t prefetch_index_by_external(Protocol protocol, Port external, Endpoint remote) const noexcept;
    FlowId prefetch_record(Key key, std::uint64_t hash) const noexcept;
    void prefetch_idle_neighbours(FlowId id) const noexcept;

    // Has the internal endpoint behind this external port sent anything to `remote_address`?
    bool has_sent_to_address(Protocol protocol, Port external, Ipv4Address remote_address) const;

    // Adds a flow (the caller filled the endpoints, origin, mapping reference and tracker).
    // Returns 0 when it may not, with the reason in `refusal`: flow_table_full,
    // host_flow_limit or embryonic_limit. May evict a flow to make room (see above).
    FlowId insert(const Flow& flow, Instant now, DropReason& refusal);
    FlowId insert(const Flow& flow, Instant now) {
        DropReason ignored;
        return insert(flow, now, ignored);
    }
    // Room for a flow `host` is about to start, made before its mapping is taken: a table
    // full of flows that each hold their own mapping leaves the mapping table full too,
    // and the mapping must not be refused before the flow table has evicted (above).
    // none: a flow (and maybe its mapping) went; host_flow_limit: `host` is at its own
    // limit and nothing is evicted for it; flow_table_full: nothing could go.
    DropReason make_room_for_lan_flow(Ipv4Address host, Instant now);
    // Ends the host's oldest half-open or closing TCP flow (one it started), if it has one
    // among the oldest transitory flows: what a host at its own limit gives up first.
    bool recycle_transitory_flow_of(Ipv4Address host);
    // Links two flows that must live and die together (a hairpin pair).
    void link(FlowId a, FlowId b) {
        slots_[a].peer = b;
        slots_[b].peer = a;
    }
    Flow& get(FlowId id) { return slots_[id]; }
    FlowId id_of(const Flow& flow) const { return FlowId(&flow - slots_.data()); }

    void touch(Flow& flow, TimeoutClass timeout_class, Instant now);
    std::size_t expire_idle(Instant now);
    // Ends every flow the predicate selects (a closed port mapping's flows); a scan,
    // for the control plane's rare changes, never for packets.
    std::size_t remove_if(const std::function<bool(const Flow&)>& selected);

    std::size_t size() const { return live_count_; }
    std::uint64_t expired_total() const { return expired_total_; }
    std::uint64_t evicted_total() const { return evicted_total_; }
    std::size_t embryonic_count() const { return embryonic_count_; }
    // Flows `host` started (outbound and hairpin), counted against flows_per_host.
    std::uint32_t flows_started_by(Ipv4Address host) const { return flows_per_host_.count_of(host); }
    static constexpr std::size_t eviction_scan_depth = 1024;
    Instant timeout_of(TimeoutClass c) const { return timeouts_[std::size_t(c)]; }
    void for_each(const std::function<void(const Flow&)>& visit) const;

    // Memory held by the table (records and indexes), for the benchmark's accounting.
    std::size_t memory_bytes() const;

private:
    static std::uint64_t internal_hash(Protocol p, Endpoint internal, Endpoint remote);
    static std::uint64_t external_hash(Protocol p, Port external, Endpoint remote);
    static std::uint64_t address_hash(Protocol p, Port external, Ipv4Address remote);
    std::uint64_t internal_hash_of(FlowId id) const;
    std::uint64_t external_hash_of(FlowId id) const;
    std::uint64_t address_hash_of(FlowId id) const;

    static bool is_embryonic(const Flow& f);
    static bool started_by_lan(const Flow& f);
    static std::size_t list_of(const Flow& f);
    bool make_room(bool for_embryonic);
    FlowId oldest_embryonic() const;
    FlowId oldest_started_by(Ipv4Address host) const;
    FlowId oldest_of_all() const;
    bool is_expired(const Flow& f, Instant now) const;
    Flow* live_or_reclaimed(FlowId id, Instant now);
    FlowId take_free_slot();
    void index(FlowId id);
    void unindex(FlowId id);
    std::size_t remove(FlowId id);  // how many went (a hairpin flow takes its peer)
    void idle_unlink(FlowId id);
    void idle_append(FlowId id);

    MappingTable& mappings_;
    std::uint32_t max_flows_;
    std::array<Instant, std::size_t(TimeoutClass::count_)> timeouts_{};
    std::vector<Flow, HugePageAllocator<Flow>> slots_;  // max_flows_ + 1 records; slots_[0] unused: 0 means "no flow"
    FlowId free_head_ = 0;     // slots given back, linked through idle_next
    FlowId high_water_ = 0;    // slots above it were never used
    RecordIndex by_internal_, by_external_;
    RecordIndex by_remote_address_;  // the first flow of each same-address list
    // Idle lists: one per timeout class in each group. The flows LAN hosts started are
    // apart from the rest so that what a host gives up (recycle, eviction) is found among
    // the oldest few of its own kind: the gateway's own TIME_WAIT flows (UPnP control
    // connections by the thousand) once filled the scanned head of a shared list and hid
    // a busy host's flows from recycling.
    enum class IdleGroup : std::uint8_t { lan_started, other, embryonic, count_ };
    static constexpr std::size_t class_count = std::size_t(TimeoutClass::count_);
    static constexpr std::size_t list_count = std::size_t(IdleGroup::count_) * class_count;
    static constexpr std::size_t list_in(IdleGroup group, TimeoutClass c) {
        return std::size_t(group) * class_count + std::size_t(c);
    }
    std::array<FlowId, list_count> idle_head_{}, idle_tail_{};
    std::uint32_t max_flows_per_host_, max_embryonic_;
    LanHostCounts flows_per_host_;
    std::size_t live_count_ = 0, embryonic_count_ = 0;
    std::uint64_t expired_total_ = 0, evicted_total_ = 0;

public:
    // The flow-table handover across a restart: a flow whose last activity was before
    // now. The idle lists stay ordered only if the caller inserts restored flows oldest
    // first and before any packet (PacketEngine::restore_flows does both).
    FlowId insert_restored(const Flow& flow, Instant last_activity) { return insert(flow, last_activity); }
};

}  // namespace gw

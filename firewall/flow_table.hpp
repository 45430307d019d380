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
// Not thread safe: owned by one packet worker.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "firewall/flow.hpp"
#include "nat/nat_config.hpp"
#include "nat/record_index.hpp"

namespace gw {

class FlowTable {
public:
    FlowTable(const NatConfig& config, MappingTable& mappings);

    Flow* find_by_internal(Protocol protocol, Endpoint internal, Endpoint remote, Instant now);
    Flow* find_by_external(Protocol protocol, Port external, Endpoint remote, Instant now);
    // Has the internal endpoint behind this external port sent anything to `remote_address`?
    bool has_sent_to_address(Protocol protocol, Port external, Ipv4Address remote_address) const;

    // Adds a flow (the caller filled the endpoints, origin, mapping reference and tracker).
    // Returns 0 when the table is full.
    FlowId insert(const Flow& flow, Instant now);
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

    bool is_expired(const Flow& f, Instant now) const;
    Flow* live_or_reclaimed(FlowId id, Instant now);
    FlowId take_free_slot();
    void index(FlowId id);
    void unindex(FlowId id);
    void remove(FlowId id);
    void idle_unlink(FlowId id);
    void idle_append(FlowId id);

    MappingTable& mappings_;
    std::uint32_t max_flows_;
    std::array<Instant, std::size_t(TimeoutClass::count_)> timeouts_{};
    std::vector<Flow> slots_;  // max_flows_ + 1 records; slots_[0] unused: 0 means "no flow"
    FlowId free_head_ = 0;     // slots given back, linked through idle_next
    FlowId high_water_ = 0;    // slots above it were never used
    RecordIndex by_internal_, by_external_;
    RecordIndex by_remote_address_;  // the first flow of each same-address list
    std::array<FlowId, std::size_t(TimeoutClass::count_)> idle_head_{}, idle_tail_{};
    std::size_t live_count_ = 0;
    std::uint64_t expired_total_ = 0;
};

}  // namespace gw

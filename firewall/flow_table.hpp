// Every IPv4 flow, indexed under both of its full tuples (pf's wire and stack keys):
//   internal key (protocol, internal endpoint, remote endpoint): packets leaving the LAN,
//   external key (protocol, external port, remote endpoint): packets arriving at the WAN address,
// plus, per (protocol, external port, remote address), a list of the flows that share it,
// which answers RFC 4787 address-dependent filtering without a scan.
//
// Sized for millions of flows: the records, their idle lists and expiry, the per-host and
// embryonic limits and fair eviction are FlowTableCore's (flow_table_core.hpp, the same
// machinery as IPv6's); the three indexes here are open-addressing tables of record ids
// (nat/record_index.hpp) whose keys are the records' own fields. A lookup is one hash
// and, usually, one record compared. A flow releases its mapping when it goes, and a
// hairpin flow takes its peer with it.
//
// Not thread safe: a part of the PacketEngine, used under the engine lock like it.
#pragma once

#include <functional>

#include "firewall/flow.hpp"
#include "firewall/flow_table_core.hpp"
#include "nat/record_index.hpp"

namespace gw {

class FlowTable : public FlowTableCore<FlowTable, Flow, Ipv4Address> {
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
    // For a LAN flow about to be created on the mapping's `external` port (its internal
    // key found nothing): the entries index() will read and write under the flow's
    // external key and its same-address key, so that its insert does not wait on them.
    void prefetch_new_flow_slots(Protocol protocol, Port external, Endpoint remote) const noexcept;

    // Has the internal endpoint behind this external port sent anything to `remote_address`?
    bool has_sent_to_address(Protocol protocol, Port external, Ipv4Address remote_address) const;

    // insert (FlowTableCore) with the caller having filled the endpoints, origin, mapping
    // reference and tracker. make_room_for_lan_flow is called before a LAN flow's mapping
    // is taken: a table full of flows that each hold their own mapping leaves the mapping
    // table full too, and the mapping must not be refused before the flow table has evicted.

    // Links two flows that must live and die together (a hairpin pair).
    void link(FlowId a, FlowId b) {
        slots_[a].peer = b;
        slots_[b].peer = a;
    }

    // Memory held by the table (records and indexes), for the benchmark's accounting.
    std::size_t memory_bytes() const;

    // The flow-table handover across a restart: a flow whose last activity was before
    // now. The idle lists stay ordered only if the caller inserts restored flows oldest
    // first and before any packet (PacketEngine::restore_flows does both).
    FlowId insert_restored(const Flow& flow, Instant last_activity) { return insert(flow, last_activity); }

private:
    friend class FlowTableCore<FlowTable, Flow, Ipv4Address>;
    static bool is_embryonic(const Flow& f);
    static bool started_by_lan(const Flow& f) {
        return f.origin == FlowOrigin::lan || f.origin == FlowOrigin::hairpin_client ||
               f.origin == FlowOrigin::hairpin_punch;  // a punch becomes a client: counted alike
    }
    static Ipv4Address host_of(const Flow& f) { return f.internal.address; }
    void index(FlowId id);
    void unindex(FlowId id);
    std::size_t end_links(FlowId id);  // the hairpin peer and the mapping

    static std::uint64_t internal_hash(Protocol p, Endpoint internal, Endpoint remote);
    static std::uint64_t external_hash(Protocol p, Port external, Endpoint remote);
    static std::uint64_t address_hash(Protocol p, Port external, Ipv4Address remote);
    std::uint64_t internal_hash_of(FlowId id) const;
    std::uint64_t external_hash_of(FlowId id) const;
    std::uint64_t address_hash_of(FlowId id) const;

    MappingTable& mappings_;
    RecordIndex by_internal_, by_external_;
    RecordIndex by_remote_address_;  // the first flow of each same-address list
};

}  // namespace gw

// All NAPT mappings, indexed under both keys: internal (protocol, address, port) for
// outbound packets and external (protocol, port) for inbound ones.
//
// A mapping is created by the first flow of its internal endpoint and removed when
// the last flow referencing it releases it; timers live on flows, not here.
// Mapping pointers stay valid until the mapping is released (slots never move).
// All storage is taken when the table is built, for at most min(nat.max_mappings, one
// mapping per port of the range and protocol): a mapping never allocates.
//
// Not thread safe: a part of the PacketEngine, used under the engine lock like it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "drop_reason.hpp"
#include "mapping.hpp"
#include "lan_host_counts.hpp"
#include "nat_config.hpp"
#include "port_selection.hpp"
#include "record_index.hpp"

namespace gw {

using MappingId = std::uint32_t;  // slot number; 0 = none

struct AcquireResult {
    MappingId id = 0;           // 0 when reason says why not
    DropReason reason = DropReason::none;
    bool created = false;
};

class MappingTable {
public:
    explicit MappingTable(const NatConfig& config);

    // The mapping of an internal endpoint, created on first use, with one more
    // reference: the internal port is kept when it is free and inside the range,
    // otherwise one is drawn unpredictably from the range (same parity first). A host that already holds
    // nat.max_ports_per_host mappings gets no new one (host_port_limit).
    AcquireResult acquire(Protocol protocol, Endpoint internal);
    // Drops one reference; the mapping goes when none is left.
    void release(MappingId id);

    const Mapping* find_by_internal(Protocol protocol, Endpoint internal) const;
    // Hints for a batch (PacketEngine::judge_batch), as RecordIndex's: ask for the index
    // entry find_by_internal reads first (returns the key's hash), then, once it has
    // arrived, for the mapping it names. They change nothing.
    std::uint64_t prefetch_index_by_internal(Protocol protocol, Endpoint internal) const noexcept {
        std::uint64_t hash = internal_hash(protocol, internal);
        by_internal_.prefetch(hash);
        return hash;
    }
    void prefetch_mapping(std::uint64_t hash) const noexcept {
        if (std::uint32_t slot = by_internal_.first_candidate(hash); slot != no_slot) __builtin_prefetch(&slots_[slot]);
    }
    const Mapping* find_by_external(Protocol protocol, Port external) const;
    const Mapping& get(MappingId id) const { return slots_[id]; }
    // True when the external port is held by a mapping or reserved (static forwards).
    bool is_taken(Protocol protocol, Port external) const;
    // Keeps a port out of dynamic allocation (static forwards own it).
    void reserve(Protocol protocol, Port external);
    void unreserve(Protocol protocol, Port external);

    std::size_t size() const { return live_count_; }
    // External ports (mappings) `host` holds.
    std::uint32_t ports_held_by(Ipv4Address host) const { return ports_per_host_.count_of(host); }
    std::uint64_t released_total() const { return released_total_; }
    void for_each(const std::function<void(const Mapping&)>& visit) const;
    // Memory held by the table, for the benchmark's accounting.
    std::size_t memory_bytes() const;

private:
    static std::uint64_t internal_hash(Protocol protocol, Endpoint internal);
    std::uint32_t find_internal(Protocol protocol, Endpoint internal) const;
    static constexpr std::uint32_t no_slot = 0;

    std::uint32_t external_slot(Protocol protocol, Port port) const;
    std::uint32_t& external_slot(Protocol protocol, Port port);
    bool allocate_port(Protocol protocol, Endpoint internal, Port& chosen);
    // The range `internal`'s external port comes from: low_range_ for a TCP or UDP port
    // below 1024 when it is set, else range_.
    const PortRange& range_for(Protocol protocol, Port internal) const;
    std::uint32_t take_free_slot();
    // A new mapping with one reference, once the port is chosen; refused at the host's limit.
    AcquireResult create(Protocol protocol, Endpoint internal, Port external);

    PortRange range_;
    std::optional<PortRange> low_range_;
    std::uint32_t max_mappings_;
    PortDraw port_draw_;
    // slots_[0] is unused so that 0 can mean "no mapping" in the indexes below.
    std::vector<Mapping> slots_;
    std::vector<std::uint32_t> free_slots_;
    RecordIndex by_internal_;
    // Direct index by (protocol, external port): 3 x 65536 slots, O(1) without hashing.
    std::vector<std::uint32_t> by_external_;
    // Ports forwards own, kept apart from by_external_ so that a mapping that held the
    // port before the forward came does not take the reservation with it when it goes.
    std::vector<bool> reserved_;
    std::uint32_t max_ports_per_host_;
    LanHostCounts ports_per_host_;
    std::size_t live_count_ = 0;
    std::uint64_t released_total_ = 0;

public:
    // The flow-table handover across a restart (firewall/flow_snapshot.hpp): the mapping
    // of `internal` on exactly `external`, created or with one more reference. Refused
    // (id 0, ports_exhausted) when the port is held by another mapping or reserved or
    // outside the range, or when `internal` already holds a different port: a restored flow keeps its port or
    // is not restored.
    AcquireResult acquire_at(Protocol protocol, Endpoint internal, Port external);
};

}  // namespace gw

// All NAPT mappings, indexed under both keys: internal (protocol, address, port)
// for outbound packets and external (protocol, port) for inbound ones. One record,
// two keys, never a second table.
//
// Expiry: each timeout class keeps its mappings on an idle list ordered by last
// activity (touching a mapping moves it to the tail), so reclaiming costs only the
// mappings that actually expired, never a scan of the table. A lookup also refuses a
// mapping whose time is up even if it has not been reclaimed yet, so expiry is exact
// whatever the caller's reclaim cadence.
//
// Not thread safe: owned by one packet worker.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "drop_reason.hpp"
#include "mapping.hpp"
#include "nat_config.hpp"

namespace gw {

struct InsertResult {
    Mapping* mapping = nullptr;  // null when reason says why not
    DropReason reason = DropReason::none;
    bool created = false;
};

class MappingTable {
public:
    explicit MappingTable(const NatConfig& config);

    // The live mapping of an internal endpoint, if any.
    Mapping* find_by_internal(Protocol protocol, Endpoint internal, Instant now);
    // The live mapping holding an external port, if any.
    Mapping* find_by_external(Protocol protocol, Port external, Instant now);
    // The mapping of an internal endpoint, created on first use: the internal port is
    // kept when it is free and inside the range, otherwise the next free one is taken.
    InsertResult find_or_insert(Protocol protocol, Endpoint internal, Instant now);

    // Records activity: moves the mapping to the tail of its (possibly new) idle list.
    void touch(Mapping& mapping, TimeoutClass timeout_class, Instant now);

    // Reclaims every mapping idle for its full timeout; returns how many.
    std::size_t expire_idle(Instant now);

    std::size_t size() const { return live_count_; }
    // Mappings reclaimed for idleness since construction, lazily or by expire_idle.
    std::uint64_t expired_total() const { return expired_total_; }
    Instant timeout_of(TimeoutClass c) const { return timeouts_[std::size_t(c)]; }
    void for_each(const std::function<void(const Mapping&)>& visit) const;

private:
    struct InternalKey {
        Protocol protocol;
        Endpoint internal;
        bool operator==(const InternalKey&) const = default;
    };
    struct InternalKeyHash {
        std::size_t operator()(const InternalKey& k) const noexcept;
    };
    static constexpr std::uint32_t no_slot = 0;  // slot 0 is the list sentinel pool's "null"

    bool is_expired(const Mapping& m, Instant now) const;
    std::uint32_t& external_slot(Protocol protocol, Port port);
    bool allocate_port(Protocol protocol, Port wanted, Port& chosen);
    std::uint32_t take_free_slot();
    void remove_expired(std::uint32_t slot);
    void idle_unlink(std::uint32_t slot);
    void idle_append(std::uint32_t slot);

    PortRange range_;
    std::uint32_t max_mappings_;
    std::array<Instant, std::size_t(TimeoutClass::count_)> timeouts_{};
    // slots_[0] is unused so that 0 can mean "no mapping" in the indexes below.
    std::vector<Mapping> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::unordered_map<InternalKey, std::uint32_t, InternalKeyHash> by_internal_;
    // Direct index by (protocol, external port): 3 x 65536 slots, O(1) without hashing.
    std::vector<std::uint32_t> by_external_;
    std::array<std::uint32_t, std::size_t(TimeoutClass::count_)> idle_head_{}, idle_tail_{};
    std::array<std::uint16_t, 3> next_port_{};  // per protocol allocation cursor
    std::size_t live_count_ = 0;
    std::uint64_t expired_total_ = 0;
};

}  // namespace gw

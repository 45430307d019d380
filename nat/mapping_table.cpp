#include "mapping_table.hpp"

namespace gw {
namespace {

std::size_t protocol_slot(Protocol p) {
    switch (p) {
        case Protocol::icmp: return 0;
        case Protocol::tcp: return 1;
        case Protocol::udp: return 2;
    }
    return 0;
}

}  // namespace

std::size_t MappingTable::InternalKeyHash::operator()(const InternalKey& k) const noexcept {
    std::uint64_t x = (std::uint64_t(k.internal.address.host_order()) << 24) ^
                      (std::uint64_t(k.internal.port.value) << 8) ^ std::uint64_t(k.protocol);
    // splitmix64 finaliser: LAN addresses differ only in their low bits.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return std::size_t(x ^ (x >> 31));
}

MappingTable::MappingTable(const NatConfig& config)
    : range_(config.port_range),
      max_mappings_(config.max_mappings),
      by_external_(3 * 65536, no_slot),
      reserved_(3 * 65536, false) {
    // Reserved up front so Mapping pointers stay valid across inserts; untouched
    // capacity costs address space, not memory.
    slots_.reserve(std::size_t(max_mappings_) + 1);
    slots_.emplace_back();
    by_internal_.reserve(std::min<std::size_t>(max_mappings_, 65536));
    next_port_.fill(range_.first);
}

std::uint32_t MappingTable::external_slot(Protocol protocol, Port port) const {
    return by_external_[protocol_slot(protocol) * 65536 + port.value];
}

std::uint32_t& MappingTable::external_slot(Protocol protocol, Port port) {
    return by_external_[protocol_slot(protocol) * 65536 + port.value];
}

const Mapping* MappingTable::find_by_internal(Protocol protocol, Endpoint internal) const {
    auto it = by_internal_.find(InternalKey{protocol, internal});
    return it == by_internal_.end() ? nullptr : &slots_[it->second];
}

const Mapping* MappingTable::find_by_external(Protocol protocol, Port external) const {
    std::uint32_t slot = external_slot(protocol, external);
    return slot == no_slot ? nullptr : &slots_[slot];
}

bool MappingTable::is_taken(Protocol protocol, Port external) const {
    return external_slot(protocol, external) != no_slot || reserved_[protocol_slot(protocol) * 65536 + external.value];
}

void MappingTable::reserve(Protocol protocol, Port external) {
    reserved_[protocol_slot(protocol) * 65536 + external.value] = true;
}

void MappingTable::unreserve(Protocol protocol, Port external) {
    reserved_[protocol_slot(protocol) * 65536 + external.value] = false;
}

bool MappingTable::allocate_port(Protocol protocol, Port wanted, Port& chosen) {
    // RFC 4787 REQ-3 allows port preservation; it keeps applications that carry
    // their port in the payload (SIP, RTP) working more often.
    if (range_.contains(wanted) && !is_taken(protocol, wanted)) {
        chosen = wanted;
        return true;
    }
    std::uint16_t& cursor = next_port_[protocol_slot(protocol)];
    for (std::uint32_t tried = 0; tried < range_.size(); ++tried) {
        Port candidate{cursor};
        cursor = cursor == range_.last ? range_.first : std::uint16_t(cursor + 1);
        if (!is_taken(protocol, candidate)) {
            chosen = candidate;
            return true;
        }
    }
    return false;
}

AcquireResult MappingTable::acquire(Protocol protocol, Endpoint internal) {
    if (auto it = by_internal_.find(InternalKey{protocol, internal}); it != by_internal_.end()) {
        ++slots_[it->second].flow_count;
        return {it->second, DropReason::none, false};
    }
    if (live_count_ >= max_mappings_) return {0, DropReason::mapping_table_full, false};
    Port external;
    if (!allocate_port(protocol, internal.port, external)) return {0, DropReason::ports_exhausted, false};
    std::uint32_t slot = take_free_slot();
    slots_[slot] = Mapping{internal, external, protocol, 1, true};
    by_internal_.emplace(InternalKey{protocol, internal}, slot);
    external_slot(protocol, external) = slot;
    ++live_count_;
    return {slot, DropReason::none, true};
}

void MappingTable::release(MappingId id) {
    Mapping& m = slots_[id];
    if (!m.in_use || --m.flow_count > 0) return;
    by_internal_.erase(InternalKey{m.protocol, m.internal});
    external_slot(m.protocol, m.external) = no_slot;
    m.in_use = false;
    free_slots_.push_back(id);
    --live_count_;
    ++released_total_;
}

void MappingTable::for_each(const std::function<void(const Mapping&)>& visit) const {
    for (std::size_t i = 1; i < slots_.size(); ++i)
        if (slots_[i].in_use) visit(slots_[i]);
}

std::uint32_t MappingTable::take_free_slot() {
    if (!free_slots_.empty()) {
        std::uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        return slot;
    }
    slots_.emplace_back();
    return std::uint32_t(slots_.size() - 1);
}

AcquireResult MappingTable::acquire_at(Protocol protocol, Endpoint internal, Port external) {
    if (auto it = by_internal_.find(InternalKey{protocol, internal}); it != by_internal_.end()) {
        if (slots_[it->second].external != external) return {0, DropReason::ports_exhausted, false};
        ++slots_[it->second].flow_count;
        return {it->second, DropReason::none, false};
    }
    if (live_count_ >= max_mappings_) return {0, DropReason::mapping_table_full, false};
    // The range may have changed across an upgrade: a port outside it is not ours to hold.
    if (!range_.contains(external) || is_taken(protocol, external)) return {0, DropReason::ports_exhausted, false};
    std::uint32_t slot = take_free_slot();
    slots_[slot] = Mapping{internal, external, protocol, 1, true};
    by_internal_.emplace(InternalKey{protocol, internal}, slot);
    external_slot(protocol, external) = slot;
    ++live_count_;
    return {slot, DropReason::none, true};
}

}  // namespace gw

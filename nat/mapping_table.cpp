#include "mapping_table.hpp"

#include <algorithm>
#include <optional>

namespace gw {
namespace {

// Never more mappings than ports to give out, whatever nat.max_mappings says (the low
// range's TCP and UDP ports count too).
std::uint32_t most_mappings(const NatConfig& config) {
    std::uint32_t low = config.low_port_range ? 2 * config.low_port_range->size() : 0;
    return std::min<std::uint32_t>(config.max_mappings, 3 * config.port_range.size() + low);
}

std::size_t protocol_slot(Protocol p) {
    switch (p) {
        case Protocol::icmp: return 0;
        case Protocol::tcp: return 1;
        case Protocol::udp: return 2;
    }
    return 0;
}

}  // namespace

std::uint64_t MappingTable::internal_hash(Protocol protocol, Endpoint internal) {
    // LAN addresses differ only in their low bits: the mix spreads them.
    return mix_hash((std::uint64_t(internal.address.host_order()) << 24) ^
                    (std::uint64_t(internal.port.value) << 8) ^ std::uint64_t(protocol));
}

MappingTable::MappingTable(const NatConfig& config)
    : range_(config.port_range),
      low_range_(config.low_port_range),
      max_mappings_(config.max_mappings),
      port_draw_(config.port_key),
      by_internal_(most_mappings(config)),
      by_external_(3 * 65536, no_slot),
      reserved_(3 * 65536, false),
      max_ports_per_host_(std::min(config.limits.ports_per_host, config.max_mappings)),
      ports_per_host_(std::min(LanHostCounts::default_max_hosts, most_mappings(config))) {
    slots_.reserve(std::size_t(most_mappings(config)) + 1);
    slots_.emplace_back();
    free_slots_.reserve(most_mappings(config));
}

std::size_t MappingTable::memory_bytes() const {
    return slots_.capacity() * sizeof(Mapping) + free_slots_.capacity() * sizeof(std::uint32_t) +
           by_internal_.memory_bytes() + by_external_.capacity() * sizeof(std::uint32_t) + reserved_.capacity() / 8 +
           ports_per_host_.memory_bytes();
}

std::uint32_t MappingTable::find_internal(Protocol protocol, Endpoint internal) const {
    return by_internal_.find(internal_hash(protocol, internal), [&](std::uint32_t slot) {
        return slots_[slot].internal == internal && slots_[slot].protocol == protocol;
    });
}

std::uint32_t MappingTable::external_slot(Protocol protocol, Port port) const {
    return by_external_[protocol_slot(protocol) * 65536 + port.value];
}

std::uint32_t& MappingTable::external_slot(Protocol protocol, Port port) {
    return by_external_[protocol_slot(protocol) * 65536 + port.value];
}

const Mapping* MappingTable::find_by_internal(Protocol protocol, Endpoint internal) const {
    std::uint32_t slot = find_internal(protocol, internal);
    return slot == no_slot ? nullptr : &slots_[slot];
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

const PortRange& MappingTable::range_for(Protocol protocol, Port internal) const {
    // ICMP identifiers are no service ports: REQ-3's 0-1023 is about TCP and UDP.
    if (low_range_ && protocol != Protocol::icmp && internal.value < 1024) return *low_range_;
    return range_;
}

bool MappingTable::allocate_port(Protocol protocol, Endpoint internal, Port& chosen) {
    // RFC 4787 REQ-3 allows port preservation; it keeps applications that carry
    // their port in the payload (SIP, RTP) working more often.
    const Port wanted = internal.port;
    const PortRange& range = range_for(protocol, wanted);
    if (range.contains(wanted) && !is_taken(protocol, wanted)) {
        chosen = wanted;
        return true;
    }
    // Otherwise a port an off-path attacker cannot predict (RFC 6056 §3.3.1, RFC 7857 §9),
    // and the next free one after it: the search ends only when the range is full.
    const std::uint32_t size = range.size();
    const std::uint32_t offset = std::uint32_t(port_draw_.next(protocol, internal) % size);
    auto port_at = [&](std::uint32_t i) { return Port{std::uint16_t(range.first + (offset + i) % size)}; };
    // Same parity first when one is free (RFC 4787 REQ-4, a MAY): RTP keeps an even port
    // and RTCP the odd one above it. One pass: the first free port of the other parity is
    // kept in case no port of the same parity is free.
    std::optional<Port> other_parity;
    for (std::uint32_t i = 0; i < size; ++i) {
        Port candidate = port_at(i);
        if (is_taken(protocol, candidate)) continue;
        if ((candidate.value & 1) == (wanted.value & 1)) {
            chosen = candidate;
            return true;
        }
        if (!other_parity) other_parity = candidate;
    }
    if (!other_parity) return false;
    chosen = *other_parity;
    return true;
}

AcquireResult MappingTable::acquire(Protocol protocol, Endpoint internal) {
    if (std::uint32_t slot = find_internal(protocol, internal); slot != no_slot) {
        ++slots_[slot].flow_count;
        return {slot, DropReason::none, false};
    }
    if (live_count_ >= max_mappings_) return {0, DropReason::mapping_table_full, false};
    Port external;
    if (!allocate_port(protocol, internal, external)) return {0, DropReason::ports_exhausted, false};
    return create(protocol, internal, external);
}

AcquireResult MappingTable::create(Protocol protocol, Endpoint internal, Port external) {
    // So that one host cannot take every port of the range from the others.
    if (!ports_per_host_.add(internal.address, max_ports_per_host_)) return {0, DropReason::host_port_limit, false};
    std::uint32_t slot = take_free_slot();
    slots_[slot] = Mapping{internal, external, protocol, 1, true};
    by_internal_.insert(internal_hash(protocol, internal), slot);
    external_slot(protocol, external) = slot;
    ++live_count_;
    return {slot, DropReason::none, true};
}

void MappingTable::release(MappingId id) {
    Mapping& m = slots_[id];
    if (!m.in_use || --m.flow_count > 0) return;
    by_internal_.erase(internal_hash(m.protocol, m.internal), id,
                       [this](std::uint32_t slot) { return internal_hash(slots_[slot].protocol, slots_[slot].internal); });
    external_slot(m.protocol, m.external) = no_slot;
    ports_per_host_.remove(m.internal.address);
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
    if (std::uint32_t slot = find_internal(protocol, internal); slot != no_slot) {
        if (slots_[slot].external != external) return {0, DropReason::ports_exhausted, false};
        ++slots_[slot].flow_count;
        return {slot, DropReason::none, false};
    }
    if (live_count_ >= max_mappings_) return {0, DropReason::mapping_table_full, false};
    // The range may have changed across an upgrade: a port outside it is not ours to hold.
    if (!range_for(protocol, internal.port).contains(external) || is_taken(protocol, external))
        return {0, DropReason::ports_exhausted, false};
    return create(protocol, internal, external);
}

}  // namespace gw

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

Instant seconds(std::uint32_t s) { return std::chrono::seconds(s); }

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
    : range_(config.port_range), max_mappings_(config.max_mappings), by_external_(3 * 65536, no_slot) {
    timeouts_[std::size_t(TimeoutClass::udp)] = seconds(config.timeouts.udp);
    timeouts_[std::size_t(TimeoutClass::icmp)] = seconds(config.timeouts.icmp);
    timeouts_[std::size_t(TimeoutClass::tcp_transitory)] = seconds(config.timeouts.tcp_transitory);
    timeouts_[std::size_t(TimeoutClass::tcp_established)] = seconds(config.timeouts.tcp_established);
    // Reserved up front so Mapping pointers stay valid across inserts; untouched
    // capacity costs address space, not memory.
    slots_.reserve(std::size_t(max_mappings_) + 1);
    slots_.emplace_back();
    by_internal_.reserve(std::min<std::size_t>(max_mappings_, 65536));
    next_port_.fill(range_.first);
}

bool MappingTable::is_expired(const Mapping& m, Instant now) const {
    return now >= m.last_activity + timeouts_[std::size_t(m.timeout_class)];
}

std::uint32_t& MappingTable::external_slot(Protocol protocol, Port port) {
    return by_external_[protocol_slot(protocol) * 65536 + port.value];
}

Mapping* MappingTable::find_by_internal(Protocol protocol, Endpoint internal, Instant now) {
    auto it = by_internal_.find(InternalKey{protocol, internal});
    if (it == by_internal_.end()) return nullptr;
    std::uint32_t slot = it->second;
    if (is_expired(slots_[slot], now)) {
        remove_expired(slot);
        return nullptr;
    }
    return &slots_[slot];
}

Mapping* MappingTable::find_by_external(Protocol protocol, Port external, Instant now) {
    std::uint32_t slot = external_slot(protocol, external);
    if (slot == no_slot) return nullptr;
    if (is_expired(slots_[slot], now)) {
        remove_expired(slot);
        return nullptr;
    }
    return &slots_[slot];
}

bool MappingTable::allocate_port(Protocol protocol, Port wanted, Port& chosen) {
    auto is_free = [&](Port p) { return external_slot(protocol, p) == no_slot; };
    // RFC 4787 REQ-3 allows port preservation; it keeps applications that carry
    // their port in the payload (SIP, RTP) working more often.
    if (range_.contains(wanted) && is_free(wanted)) {
        chosen = wanted;
        return true;
    }
    std::uint16_t& cursor = next_port_[protocol_slot(protocol)];
    for (std::uint32_t tried = 0; tried < range_.size(); ++tried) {
        Port candidate{cursor};
        cursor = cursor == range_.last ? range_.first : std::uint16_t(cursor + 1);
        if (is_free(candidate)) {
            chosen = candidate;
            return true;
        }
    }
    return false;
}

InsertResult MappingTable::find_or_insert(Protocol protocol, Endpoint internal, Instant now) {
    if (Mapping* existing = find_by_internal(protocol, internal, now)) return {existing, DropReason::none, false};
    if (live_count_ >= max_mappings_) expire_idle(now);
    if (live_count_ >= max_mappings_) return {nullptr, DropReason::mapping_table_full, false};
    Port external;
    if (!allocate_port(protocol, internal.port, external)) {
        // Ports held by mappings that are idle past their time are free: reclaim, retry once.
        if (expire_idle(now) == 0 || !allocate_port(protocol, internal.port, external))
            return {nullptr, DropReason::ports_exhausted, false};
    }
    std::uint32_t slot = take_free_slot();
    Mapping& m = slots_[slot];
    m = Mapping{};
    m.internal = internal;
    m.external = external;
    m.protocol = protocol;
    m.in_use = true;
    m.last_activity = now;
    m.timeout_class = protocol == Protocol::tcp   ? TimeoutClass::tcp_transitory
                      : protocol == Protocol::udp ? TimeoutClass::udp
                                                  : TimeoutClass::icmp;
    by_internal_.emplace(InternalKey{protocol, internal}, slot);
    external_slot(protocol, external) = slot;
    idle_append(slot);
    ++live_count_;
    return {&m, DropReason::none, true};
}

void MappingTable::touch(Mapping& mapping, TimeoutClass timeout_class, Instant now) {
    auto slot = std::uint32_t(&mapping - slots_.data());
    idle_unlink(slot);
    mapping.timeout_class = timeout_class;
    // Replayed captures may run backwards by a little; never move activity back in time.
    if (now > mapping.last_activity) mapping.last_activity = now;
    idle_append(slot);
}

std::size_t MappingTable::expire_idle(Instant now) {
    std::size_t reclaimed = 0;
    for (std::size_t c = 0; c < idle_head_.size(); ++c) {
        while (idle_head_[c] != no_slot && is_expired(slots_[idle_head_[c]], now)) {
            remove_expired(idle_head_[c]);
            ++reclaimed;
        }
    }
    return reclaimed;
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

void MappingTable::remove_expired(std::uint32_t slot) {
    Mapping& m = slots_[slot];
    ++expired_total_;
    idle_unlink(slot);
    by_internal_.erase(InternalKey{m.protocol, m.internal});
    external_slot(m.protocol, m.external) = no_slot;
    m.in_use = false;
    free_slots_.push_back(slot);
    --live_count_;
}

void MappingTable::idle_unlink(std::uint32_t slot) {
    Mapping& m = slots_[slot];
    auto c = std::size_t(m.timeout_class);
    if (m.idle_prev != no_slot) slots_[m.idle_prev].idle_next = m.idle_next;
    else idle_head_[c] = m.idle_next;
    if (m.idle_next != no_slot) slots_[m.idle_next].idle_prev = m.idle_prev;
    else idle_tail_[c] = m.idle_prev;
    m.idle_prev = m.idle_next = no_slot;
}

void MappingTable::idle_append(std::uint32_t slot) {
    Mapping& m = slots_[slot];
    auto c = std::size_t(m.timeout_class);
    m.idle_prev = idle_tail_[c];
    m.idle_next = no_slot;
    if (idle_tail_[c] != no_slot) slots_[idle_tail_[c]].idle_next = slot;
    else idle_head_[c] = slot;
    idle_tail_[c] = slot;
}

}  // namespace gw

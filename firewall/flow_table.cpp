#include "flow_table.hpp"

namespace gw {
namespace {

std::uint64_t pack(Endpoint e) { return (std::uint64_t(e.address.host_order()) << 16) | e.port.value; }

// Two 48-bit endpoints and a protocol folded into one word before mixing: cheap, and
// the finaliser spreads every input bit over the whole hash.
std::uint64_t hash_of(std::uint64_t a, std::uint64_t b, Protocol p) {
    return mix_hash(a * 0x9e3779b97f4a7c15ULL ^ (b << 8 | std::uint64_t(p)) ^ (b >> 56));
}

Instant seconds(std::uint32_t s) { return std::chrono::seconds(s); }

}  // namespace

std::uint64_t FlowTable::internal_hash(Protocol p, Endpoint internal, Endpoint remote) {
    return hash_of(pack(internal), pack(remote), p);
}

std::uint64_t FlowTable::external_hash(Protocol p, Port external, Endpoint remote) {
    // Offset from the internal key's space: the two indexes are separate tables, but
    // keeping the mixes apart costs nothing.
    return hash_of(std::uint64_t(external.value) | 1ULL << 48, pack(remote), p);
}

std::uint64_t FlowTable::address_hash(Protocol p, Port external, Ipv4Address remote) {
    return hash_of(std::uint64_t(external.value) | 2ULL << 48, remote.host_order(), p);
}

std::uint64_t FlowTable::internal_hash_of(FlowId id) const {
    const Flow& f = slots_[id];
    return internal_hash(f.protocol, f.internal, f.remote);
}

std::uint64_t FlowTable::external_hash_of(FlowId id) const {
    const Flow& f = slots_[id];
    return external_hash(f.protocol, f.external, f.remote);
}

std::uint64_t FlowTable::address_hash_of(FlowId id) const {
    const Flow& f = slots_[id];
    return address_hash(f.protocol, f.external, f.remote.address);
}

FlowTable::FlowTable(const NatConfig& config, MappingTable& mappings)
    : mappings_(mappings),
      max_flows_(config.max_mappings),
      slots_(std::size_t(config.max_mappings) + 1),
      by_internal_(config.max_mappings),
      by_external_(config.max_mappings),
      by_remote_address_(config.max_mappings) {
    timeouts_[std::size_t(TimeoutClass::udp)] = seconds(config.timeouts.udp);
    timeouts_[std::size_t(TimeoutClass::icmp)] = seconds(config.timeouts.icmp);
    timeouts_[std::size_t(TimeoutClass::tcp_transitory)] = seconds(config.timeouts.tcp_transitory);
    timeouts_[std::size_t(TimeoutClass::tcp_established)] = seconds(config.timeouts.tcp_established);
}

std::size_t FlowTable::memory_bytes() const {
    return slots_.capacity() * sizeof(Flow) + by_internal_.memory_bytes() + by_external_.memory_bytes() +
           by_remote_address_.memory_bytes();
}

bool FlowTable::is_expired(const Flow& f, Instant now) const {
    return now >= f.last_activity + timeouts_[std::size_t(f.timeout_class)];
}

Flow* FlowTable::live_or_reclaimed(FlowId id, Instant now) {
    if (id == 0) return nullptr;
    if (is_expired(slots_[id], now)) {
        remove(id);
        return nullptr;
    }
    return &slots_[id];
}

Flow* FlowTable::find_by_internal(Protocol protocol, Endpoint internal, Endpoint remote, Instant now) {
    FlowId id = by_internal_.find(internal_hash(protocol, internal, remote), [&](FlowId candidate) {
        const Flow& f = slots_[candidate];
        return f.internal == internal && f.remote == remote && f.protocol == protocol;
    });
    return live_or_reclaimed(id, now);
}

Flow* FlowTable::find_by_external(Protocol protocol, Port external, Endpoint remote, Instant now) {
    FlowId id = by_external_.find(external_hash(protocol, external, remote), [&](FlowId candidate) {
        const Flow& f = slots_[candidate];
        return f.external == external && f.remote == remote && f.protocol == protocol;
    });
    return live_or_reclaimed(id, now);
}

bool FlowTable::has_sent_to_address(Protocol protocol, Port external, Ipv4Address remote_address) const {
    return by_remote_address_.find(address_hash(protocol, external, remote_address), [&](FlowId candidate) {
        const Flow& f = slots_[candidate];
        return f.external == external && f.remote.address == remote_address && f.protocol == protocol;
    }) != 0;
}

FlowId FlowTable::take_free_slot() {
    if (free_head_ != 0) {
        FlowId id = free_head_;
        free_head_ = slots_[id].idle_next;
        return id;
    }
    return ++high_water_;
}

FlowId FlowTable::insert(const Flow& flow, Instant now) {
    if (live_count_ >= max_flows_) expire_idle(now);
    if (live_count_ >= max_flows_) return 0;
    FlowId id = take_free_slot();
    Flow& f = slots_[id];
    f = flow;
    f.in_use = true;
    f.last_activity = now;
    f.idle_prev = f.idle_next = 0;
    f.same_address_prev = f.same_address_next = 0;
    index(id);
    idle_append(id);
    ++live_count_;
    return id;
}

// A key already indexed is taken over by the new flow (as the maps this replaced did);
// the older flow stays reachable under its other key until it goes.
void FlowTable::index(FlowId id) {
    Flow& f = slots_[id];
    std::uint64_t h = internal_hash(f.protocol, f.internal, f.remote);
    FlowId same = by_internal_.find(h, [&](FlowId c) {
        return slots_[c].internal == f.internal && slots_[c].remote == f.remote && slots_[c].protocol == f.protocol;
    });
    if (same == 0) by_internal_.insert(h, id);
    else by_internal_.replace(h, same, id);

    h = external_hash(f.protocol, f.external, f.remote);
    same = by_external_.find(h, [&](FlowId c) {
        return slots_[c].external == f.external && slots_[c].remote == f.remote && slots_[c].protocol == f.protocol;
    });
    if (same == 0) by_external_.insert(h, id);
    else by_external_.replace(h, same, id);

    // Joins the same-address list second, so the indexed first flow stays as it is.
    h = address_hash(f.protocol, f.external, f.remote.address);
    FlowId first = by_remote_address_.find(h, [&](FlowId c) {
        return slots_[c].external == f.external && slots_[c].remote.address == f.remote.address &&
               slots_[c].protocol == f.protocol;
    });
    if (first == 0) {
        by_remote_address_.insert(h, id);
        return;
    }
    f.same_address_prev = first;
    f.same_address_next = slots_[first].same_address_next;
    if (f.same_address_next != 0) slots_[f.same_address_next].same_address_prev = id;
    slots_[first].same_address_next = id;
}

void FlowTable::unindex(FlowId id) {
    Flow& f = slots_[id];
    // Only the entries that name this flow: another flow may have taken a shared key.
    by_internal_.erase(internal_hash(f.protocol, f.internal, f.remote), id,
                       [this](FlowId c) { return internal_hash_of(c); });
    by_external_.erase(external_hash(f.protocol, f.external, f.remote), id,
                       [this](FlowId c) { return external_hash_of(c); });
    if (f.same_address_prev != 0) {
        slots_[f.same_address_prev].same_address_next = f.same_address_next;
        if (f.same_address_next != 0) slots_[f.same_address_next].same_address_prev = f.same_address_prev;
    } else {
        std::uint64_t h = address_hash(f.protocol, f.external, f.remote.address);
        if (f.same_address_next != 0) {
            by_remote_address_.replace(h, id, f.same_address_next);
            slots_[f.same_address_next].same_address_prev = 0;
        } else {
            by_remote_address_.erase(h, id, [this](FlowId c) { return address_hash_of(c); });
        }
    }
    f.same_address_prev = f.same_address_next = 0;
}

void FlowTable::touch(Flow& flow, TimeoutClass timeout_class, Instant now) {
    FlowId id = id_of(flow);
    // Replayed captures may run backwards by a little; never move activity back in time.
    if (now > flow.last_activity) flow.last_activity = now;
    // Already last on its list (a busy flow): nothing to move. Moving costs the records
    // of both neighbours, two cache misses per packet with a million flows.
    if (timeout_class == flow.timeout_class && idle_tail_[std::size_t(timeout_class)] == id) return;
    idle_unlink(id);
    flow.timeout_class = timeout_class;
    idle_append(id);
}

std::size_t FlowTable::expire_idle(Instant now) {
    std::size_t reclaimed = 0;
    for (std::size_t c = 0; c < idle_head_.size(); ++c) {
        while (idle_head_[c] != 0 && is_expired(slots_[idle_head_[c]], now)) {
            remove(idle_head_[c]);
            ++reclaimed;
        }
    }
    return reclaimed;
}

std::size_t FlowTable::remove_if(const std::function<bool(const Flow&)>& selected) {
    std::size_t removed = 0;
    for (FlowId id = 1; id <= high_water_; ++id) {
        if (slots_[id].in_use && selected(slots_[id])) {
            remove(id);
            ++removed;
        }
    }
    return removed;
}

void FlowTable::for_each(const std::function<void(const Flow&)>& visit) const {
    for (FlowId id = 1; id <= high_water_; ++id)
        if (slots_[id].in_use) visit(slots_[id]);
}

void FlowTable::remove(FlowId id) {
    Flow& f = slots_[id];
    if (FlowId peer = f.peer; peer != 0) {
        f.peer = 0;
        slots_[peer].peer = 0;
        remove(peer);
    }
    idle_unlink(id);
    unindex(id);
    if (f.mapping != 0) mappings_.release(f.mapping);
    f.in_use = false;
    f.idle_next = free_head_;
    free_head_ = id;
    --live_count_;
    ++expired_total_;
}

void FlowTable::idle_unlink(FlowId id) {
    Flow& f = slots_[id];
    auto c = std::size_t(f.timeout_class);
    if (f.idle_prev != 0) slots_[f.idle_prev].idle_next = f.idle_next;
    else idle_head_[c] = f.idle_next;
    if (f.idle_next != 0) slots_[f.idle_next].idle_prev = f.idle_prev;
    else idle_tail_[c] = f.idle_prev;
    f.idle_prev = f.idle_next = 0;
}

void FlowTable::idle_append(FlowId id) {
    Flow& f = slots_[id];
    auto c = std::size_t(f.timeout_class);
    f.idle_prev = idle_tail_[c];
    f.idle_next = 0;
    if (idle_tail_[c] != 0) slots_[idle_tail_[c]].idle_next = id;
    else idle_head_[c] = id;
    idle_tail_[c] = id;
}

}  // namespace gw

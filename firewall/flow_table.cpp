#include "flow_table.hpp"

#include <algorithm>

namespace gw {
namespace {

std::uint64_t pack(Endpoint e) { return (std::uint64_t(e.address.host_order()) << 16) | e.port.value; }

// Two 48-bit endpoints and a protocol folded into one word before mixing: cheap, and
// the finaliser spreads every input bit over the whole hash.
std::uint64_t hash_of(std::uint64_t a, std::uint64_t b, Protocol p) {
    return mix_hash(a * 0x9e3779b97f4a7c15ULL ^ (b << 8 | std::uint64_t(p)) ^ (b >> 56));
}

Instant seconds(std::uint32_t s) { return std::chrono::seconds(s); }

// A 96-byte record spans two or three cache lines; its first byte, the byte 64 on and
// its last byte lie in every one of them. For writing: a known flow's packet writes
// its record (touch).
void prefetch_for_write(const Flow& f) {
    const char* bytes = reinterpret_cast<const char*>(&f);
    __builtin_prefetch(bytes, 1);
    __builtin_prefetch(bytes + 64, 1);
    __builtin_prefetch(bytes + sizeof(Flow) - 1, 1);
}

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
      by_remote_address_(config.max_mappings),
      max_flows_per_host_(std::min(config.limits.flows_per_host, config.max_mappings)),
      max_embryonic_(std::min(config.limits.embryonic_inbound, config.max_mappings)),
      flows_per_host_(std::min(LanHostCounts::default_max_hosts, config.max_mappings)) {
    timeouts_[std::size_t(TimeoutClass::udp)] = seconds(config.timeouts.udp);
    timeouts_[std::size_t(TimeoutClass::icmp)] = seconds(config.timeouts.icmp);
    timeouts_[std::size_t(TimeoutClass::tcp_transitory)] = seconds(config.timeouts.tcp_transitory);
    timeouts_[std::size_t(TimeoutClass::tcp_established)] = seconds(config.timeouts.tcp_established);
}

std::size_t FlowTable::memory_bytes() const {
    return slots_.capacity() * sizeof(Flow) + by_internal_.memory_bytes() + by_external_.memory_bytes() +
           by_remote_address_.memory_bytes() + flows_per_host_.memory_bytes();
}

bool FlowTable::is_embryonic(const Flow& f) {
    if (f.origin != FlowOrigin::wan) return false;
    if (f.protocol != Protocol::tcp) return !f.reply_seen;
    // A spoofed SYN gets its SYN-ACK from the LAN server (so a reply is seen) but never
    // the final ACK: until established, the flow is what a flood is made of.
    TcpState state = f.tcp.state();
    return state == TcpState::syn_sent || state == TcpState::syn_received || state == TcpState::syn_sent2;
}

bool FlowTable::started_by_lan(const Flow& f) {
    return f.origin == FlowOrigin::lan || f.origin == FlowOrigin::hairpin_client;
}

std::size_t FlowTable::list_of(const Flow& f) {
    IdleGroup group = f.embryonic ? IdleGroup::embryonic : started_by_lan(f) ? IdleGroup::lan_started : IdleGroup::other;
    return list_in(group, f.timeout_class);
}

bool FlowTable::is_expired(const Flow& f, Instant now) const {
    return now >= f.last_activity + timeouts_[std::size_t(f.timeout_class)];
}

Flow* FlowTable::live_or_reclaimed(FlowId id, Instant now) {
    if (id == 0) return nullptr;
    if (is_expired(slots_[id], now)) {
        expired_total_ += remove(id);
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

std::uint64_t FlowTable::prefetch_index_by_internal(Protocol protocol, Endpoint internal,
                                                    Endpoint remote) const noexcept {
    std::uint64_t hash = internal_hash(protocol, internal, remote);
    by_internal_.prefetch(hash);
    return hash;
}

std::uint64_t FlowTable::prefetch_index_by_external(Protocol protocol, Port external, Endpoint remote) const noexcept {
    std::uint64_t hash = external_hash(protocol, external, remote);
    by_external_.prefetch(hash);
    return hash;
}

FlowId FlowTable::prefetch_record(Key key, std::uint64_t hash) const noexcept {
    FlowId id = (key == Key::internal ? by_internal_ : by_external_).first_candidate(hash);
    if (id != 0) prefetch_for_write(slots_[id]);
    return id;
}

void FlowTable::prefetch_idle_neighbours(FlowId id) const noexcept {
    const Flow& f = slots_[id];
    // unlink writes only the links, which sit at the record's end.
    if (f.idle_prev != 0) __builtin_prefetch(&slots_[f.idle_prev].idle_next, 1);
    if (f.idle_next != 0) __builtin_prefetch(&slots_[f.idle_next].idle_prev, 1);
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

FlowId FlowTable::insert(const Flow& flow, Instant now, DropReason& refusal) {
    if (live_count_ >= max_flows_) expire_idle(now);
    bool embryonic = is_embryonic(flow);
    if (embryonic && embryonic_count_ >= max_embryonic_) {
        refusal = DropReason::embryonic_limit;
        return 0;
    }
    bool counted = started_by_lan(flow);
    if (counted && !flows_per_host_.add(flow.internal.address, max_flows_per_host_) &&
        !(recycle_transitory_flow_of(flow.internal.address) &&
          flows_per_host_.add(flow.internal.address, max_flows_per_host_))) {
        refusal = DropReason::host_flow_limit;
        return 0;
    }
    if (live_count_ >= max_flows_ && !make_room(embryonic)) {
        if (counted) flows_per_host_.remove(flow.internal.address);
        refusal = DropReason::flow_table_full;
        return 0;
    }
    FlowId id = take_free_slot();
    Flow& f = slots_[id];
    f = flow;
    f.in_use = true;
    f.embryonic = embryonic;
    f.last_activity = now;
    f.idle_prev = f.idle_next = 0;
    f.same_address_prev = f.same_address_next = 0;
    index(id);
    idle_append(id);
    ++live_count_;
    if (embryonic) ++embryonic_count_;
    refusal = DropReason::none;
    return id;
}

DropReason FlowTable::make_room_for_lan_flow(Ipv4Address host, Instant now) {
    if (flows_per_host_.count_of(host) >= max_flows_per_host_)
        return recycle_transitory_flow_of(host) ? DropReason::none : DropReason::host_flow_limit;
    std::size_t before = live_count_;
    expire_idle(now);
    if (live_count_ < before) return DropReason::none;
    return live_count_ >= max_flows_ && make_room(false) ? DropReason::none : DropReason::flow_table_full;
}

bool FlowTable::make_room(bool for_embryonic) {
    FlowId victim = oldest_embryonic();
    if (victim == 0 && !for_embryonic) {
        std::optional<Ipv4Address> busiest = flows_per_host_.busiest();
        if (busiest) victim = oldest_started_by(*busiest);
        if (victim == 0) victim = oldest_of_all();
    }
    if (victim == 0) return false;
    evicted_total_ += remove(victim);
    return true;
}

// A host at its own limit that opens and closes connections fast (a crawler, a speed test)
// holds most of its flows in TIME_WAIT or half-open: its oldest such TCP flow makes room,
// as conntrack's early drop would, and the host is refused only when it holds that many
// live ones. Its other hosts' flows are never touched.
bool FlowTable::recycle_transitory_flow_of(Ipv4Address host) {
    const std::size_t list = list_in(IdleGroup::lan_started, TimeoutClass::tcp_transitory);
    std::size_t seen = 0;
    for (FlowId id = idle_head_[list]; id != 0 && seen < eviction_scan_depth; id = slots_[id].idle_next, ++seen) {
        if (slots_[id].internal.address != host) continue;
        evicted_total_ += remove(id);
        return true;
    }
    return false;
}

FlowId FlowTable::oldest_embryonic() const {
    FlowId oldest = 0;
    for (std::size_t c = 0; c < class_count; ++c) {
        FlowId head = idle_head_[list_in(IdleGroup::embryonic, TimeoutClass(c))];
        if (head != 0 && (oldest == 0 || slots_[head].last_activity < slots_[oldest].last_activity)) oldest = head;
    }
    return oldest;
}

FlowId FlowTable::oldest_started_by(Ipv4Address host) const {
    FlowId oldest = 0;
    for (std::size_t c = 0; c < class_count; ++c) {
        std::size_t seen = 0;
        FlowId head = idle_head_[list_in(IdleGroup::lan_started, TimeoutClass(c))];
        for (FlowId id = head; id != 0 && seen < eviction_scan_depth; id = slots_[id].idle_next, ++seen) {
            const Flow& f = slots_[id];
            if (f.internal.address != host) continue;
            if (oldest == 0 || f.last_activity < slots_[oldest].last_activity) oldest = id;
            break;
        }
    }
    return oldest;
}

FlowId FlowTable::oldest_of_all() const {
    FlowId oldest = 0;
    for (FlowId head : idle_head_)
        if (head != 0 && (oldest == 0 || slots_[head].last_activity < slots_[oldest].last_activity)) oldest = head;
    return oldest;
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
    bool embryonic = flow.embryonic && is_embryonic(flow);  // once answered, never again
    // Already last on its list (a busy flow): nothing to move. Moving costs the records
    // of both neighbours, two cache misses per packet with a million flows.
    if (timeout_class == flow.timeout_class && embryonic == flow.embryonic && idle_tail_[list_of(flow)] == id) return;
    idle_unlink(id);
    flow.timeout_class = timeout_class;
    if (flow.embryonic && !embryonic) --embryonic_count_;
    flow.embryonic = embryonic;
    idle_append(id);
}

std::size_t FlowTable::expire_idle(Instant now) {
    std::size_t reclaimed = 0;
    for (std::size_t list = 0; list < list_count; ++list) {
        while (idle_head_[list] != 0 && is_expired(slots_[idle_head_[list]], now)) {
            expired_total_ += remove(idle_head_[list]);
            ++reclaimed;
        }
    }
    return reclaimed;
}

std::size_t FlowTable::remove_if(const std::function<bool(const Flow&)>& selected) {
    std::size_t removed = 0;
    for (FlowId id = 1; id <= high_water_; ++id) {
        if (slots_[id].in_use && selected(slots_[id])) {
            expired_total_ += remove(id);
            ++removed;
        }
    }
    return removed;
}

void FlowTable::for_each(const std::function<void(const Flow&)>& visit) const {
    for (FlowId id = 1; id <= high_water_; ++id)
        if (slots_[id].in_use) visit(slots_[id]);
}

FlowId FlowTable::for_each_from(FlowId from, std::size_t max_flows,
                                const std::function<void(const Flow&)>& visit) const {
    std::size_t visited = 0, looked_at = 0;
    const std::size_t max_looked_at = 8 * max_flows;
    for (FlowId id = std::max<FlowId>(from, 1); id <= high_water_; ++id) {
        if (visited == max_flows || looked_at == max_looked_at) return id;
        ++looked_at;
        if (slots_[id].in_use) {
            visit(slots_[id]);
            ++visited;
        }
    }
    return 0;
}

std::size_t FlowTable::remove(FlowId id) {
    std::size_t removed = 1;
    Flow& f = slots_[id];
    if (FlowId peer = f.peer; peer != 0) {
        f.peer = 0;
        slots_[peer].peer = 0;
        removed += remove(peer);
    }
    idle_unlink(id);
    unindex(id);
    if (f.mapping != 0) mappings_.release(f.mapping);
    if (started_by_lan(f)) flows_per_host_.remove(f.internal.address);
    if (f.embryonic) --embryonic_count_;
    f.in_use = false;
    f.embryonic = false;
    f.idle_next = free_head_;
    free_head_ = id;
    --live_count_;
    return removed;
}

void FlowTable::idle_unlink(FlowId id) {
    Flow& f = slots_[id];
    std::size_t c = list_of(f);
    if (f.idle_prev != 0) slots_[f.idle_prev].idle_next = f.idle_next;
    else idle_head_[c] = f.idle_next;
    if (f.idle_next != 0) slots_[f.idle_next].idle_prev = f.idle_prev;
    else idle_tail_[c] = f.idle_prev;
    f.idle_prev = f.idle_next = 0;
}

void FlowTable::idle_append(FlowId id) {
    Flow& f = slots_[id];
    std::size_t c = list_of(f);
    f.idle_prev = idle_tail_[c];
    f.idle_next = 0;
    if (idle_tail_[c] != 0) slots_[idle_tail_[c]].idle_next = id;
    else idle_head_[c] = id;
    idle_tail_[c] = id;
}

}  // namespace gw

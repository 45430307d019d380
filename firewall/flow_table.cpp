#include "flow_table.hpp"

namespace gw {
namespace {

std::uint64_t pack(Endpoint e) { return (std::uint64_t(e.address.host_order()) << 16) | e.port.value; }

Instant seconds(std::uint32_t s) { return std::chrono::seconds(s); }

}  // namespace

std::size_t FlowTable::TupleKeyHash::operator()(const TupleKey& k) const noexcept {
    std::uint64_t x = k.endpoint_a * 0x9e3779b97f4a7c15ULL ^ (k.endpoint_b + std::uint64_t(k.protocol));
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return std::size_t(x ^ (x >> 31));
}

FlowTable::TupleKey FlowTable::internal_key(Protocol p, Endpoint internal, Endpoint remote) {
    return {pack(internal), pack(remote), p};
}

FlowTable::TupleKey FlowTable::external_key(Protocol p, Port external, Endpoint remote) {
    return {external.value, pack(remote), p};
}

FlowTable::TupleKey FlowTable::address_key(Protocol p, Port external, Ipv4Address remote) {
    return {external.value, remote.host_order(), p};
}

FlowTable::FlowTable(const NatConfig& config, MappingTable& mappings)
    : mappings_(mappings), max_flows_(config.max_mappings) {
    timeouts_[std::size_t(TimeoutClass::udp)] = seconds(config.timeouts.udp);
    timeouts_[std::size_t(TimeoutClass::icmp)] = seconds(config.timeouts.icmp);
    timeouts_[std::size_t(TimeoutClass::tcp_transitory)] = seconds(config.timeouts.tcp_transitory);
    timeouts_[std::size_t(TimeoutClass::tcp_established)] = seconds(config.timeouts.tcp_established);
    // Reserved up front so Flow pointers stay valid across inserts.
    slots_.reserve(std::size_t(max_flows_) + 1);
    slots_.emplace_back();
}

bool FlowTable::is_expired(const Flow& f, Instant now) const {
    return now >= f.last_activity + timeouts_[std::size_t(f.timeout_class)];
}

Flow* FlowTable::find_by_internal(Protocol protocol, Endpoint internal, Endpoint remote, Instant now) {
    auto it = by_internal_.find(internal_key(protocol, internal, remote));
    if (it == by_internal_.end()) return nullptr;
    if (is_expired(slots_[it->second], now)) {
        remove(it->second);
        return nullptr;
    }
    return &slots_[it->second];
}

Flow* FlowTable::find_by_external(Protocol protocol, Port external, Endpoint remote, Instant now) {
    auto it = by_external_.find(external_key(protocol, external, remote));
    if (it == by_external_.end()) return nullptr;
    if (is_expired(slots_[it->second], now)) {
        remove(it->second);
        return nullptr;
    }
    return &slots_[it->second];
}

bool FlowTable::has_sent_to_address(Protocol protocol, Port external, Ipv4Address remote_address) const {
    return flows_per_remote_address_.count(address_key(protocol, external, remote_address)) != 0;
}

FlowId FlowTable::insert(const Flow& flow, Instant now) {
    if (live_count_ >= max_flows_) expire_idle(now);
    if (live_count_ >= max_flows_) return 0;
    FlowId id;
    if (!free_slots_.empty()) {
        id = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slots_.emplace_back();
        id = FlowId(slots_.size() - 1);
    }
    Flow& f = slots_[id];
    f = flow;
    f.in_use = true;
    f.last_activity = now;
    f.idle_prev = f.idle_next = 0;
    by_internal_[internal_key(f.protocol, f.internal, f.remote)] = id;
    by_external_[external_key(f.protocol, f.external, f.remote)] = id;
    ++flows_per_remote_address_[address_key(f.protocol, f.external, f.remote.address)];
    idle_append(id);
    ++live_count_;
    return id;
}

void FlowTable::touch(Flow& flow, TimeoutClass timeout_class, Instant now) {
    FlowId id = id_of(flow);
    idle_unlink(id);
    flow.timeout_class = timeout_class;
    // Replayed captures may run backwards by a little; never move activity back in time.
    if (now > flow.last_activity) flow.last_activity = now;
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
    for (FlowId id = 1; id < slots_.size(); ++id) {
        if (slots_[id].in_use && selected(slots_[id])) {
            remove(id);
            ++removed;
        }
    }
    return removed;
}

void FlowTable::for_each(const std::function<void(const Flow&)>& visit) const {
    for (std::size_t i = 1; i < slots_.size(); ++i)
        if (slots_[i].in_use) visit(slots_[i]);
}

void FlowTable::remove(FlowId id) {
    Flow& f = slots_[id];
    if (FlowId peer = f.peer; peer != 0) {
        f.peer = 0;
        slots_[peer].peer = 0;
        remove(peer);
    }
    idle_unlink(id);
    // Only the entries that name this flow: another flow may have taken a shared key.
    auto erase_if_ours = [id](auto& index, const TupleKey& key) {
        if (auto it = index.find(key); it != index.end() && it->second == id) index.erase(it);
    };
    erase_if_ours(by_internal_, internal_key(f.protocol, f.internal, f.remote));
    erase_if_ours(by_external_, external_key(f.protocol, f.external, f.remote));
    auto count = flows_per_remote_address_.find(address_key(f.protocol, f.external, f.remote.address));
    if (count != flows_per_remote_address_.end() && --count->second == 0) flows_per_remote_address_.erase(count);
    if (f.mapping != 0) mappings_.release(f.mapping);
    f.in_use = false;
    free_slots_.push_back(id);
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

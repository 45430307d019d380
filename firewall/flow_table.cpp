#include "flow_table.hpp"

#include "firewall/flow_table_core_impl.hpp"

namespace gw {
namespace {

std::uint64_t pack(Endpoint e) { return (std::uint64_t(e.address.host_order()) << 16) | e.port.value; }

// Two 48-bit endpoints and a protocol folded into one word before mixing: cheap, and
// the finaliser spreads every input bit over the whole hash.
std::uint64_t hash_of(std::uint64_t a, std::uint64_t b, Protocol p) {
    return mix_hash(a * 0x9e3779b97f4a7c15ULL ^ (b << 8 | std::uint64_t(p)) ^ (b >> 56));
}

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
    : FlowTableCore(config.max_mappings, config.timeouts, config.limits),
      mappings_(mappings),
      by_internal_(config.max_mappings),
      by_external_(config.max_mappings),
      by_remote_address_(config.max_mappings) {}

std::size_t FlowTable::memory_bytes() const {
    return records_memory_bytes() + by_internal_.memory_bytes() + by_external_.memory_bytes() +
           by_remote_address_.memory_bytes();
}

bool FlowTable::is_embryonic(const Flow& f) {
    if (f.origin != FlowOrigin::wan) return false;
    if (f.protocol != Protocol::tcp) return !f.reply_seen;
    // A spoofed SYN gets its SYN-ACK from the LAN server (so a reply is seen) but never
    // the final ACK: until established, the flow is what a flood is made of.
    TcpState state = f.tcp.state();
    return state == TcpState::syn_sent || state == TcpState::syn_received || state == TcpState::syn_sent2;
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

void FlowTable::prefetch_new_flow_slots(Protocol protocol, Port external, Endpoint remote) const noexcept {
    by_external_.prefetch(external_hash(protocol, external, remote));
    by_remote_address_.prefetch(address_hash(protocol, external, remote.address));
}

bool FlowTable::has_sent_to_address(Protocol protocol, Port external, Ipv4Address remote_address) const {
    return by_remote_address_.find(address_hash(protocol, external, remote_address), [&](FlowId candidate) {
        const Flow& f = slots_[candidate];
        return f.external == external && f.remote.address == remote_address && f.protocol == protocol;
    }) != 0;
}

// A key already indexed is taken over by the new flow (as the maps this replaced did);
// the older flow stays reachable under its other key until it goes.
void FlowTable::index(FlowId id) {
    Flow& f = slots_[id];
    f.same_address_prev = f.same_address_next = 0;
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

// A hairpin flow takes its peer with it; a flow gives back its mapping reference.
std::size_t FlowTable::end_links(FlowId id) {
    std::size_t removed = 0;
    Flow& f = slots_[id];
    if (FlowId peer = f.peer; peer != 0) {
        f.peer = 0;
        slots_[peer].peer = 0;
        removed += remove(peer);
    }
    if (f.mapping != 0) mappings_.release(f.mapping);
    return removed;
}

template class FlowTableCore<FlowTable, Flow, Ipv4Address>;

}  // namespace gw

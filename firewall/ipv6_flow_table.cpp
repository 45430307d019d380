#include "firewall/ipv6_flow_table.hpp"

#include <cstring>

#include "firewall/flow_table_core_impl.hpp"
#include "firewall/ipv6_packet_view.hpp"

namespace gw {

std::uint64_t Ipv6FlowKey::hash() const noexcept {
    std::uint64_t words[4];
    std::memcpy(&words[0], lan_address.bytes().data(), 16);
    std::memcpy(&words[2], remote_address.bytes().data(), 16);
    std::uint64_t h = mix_hash(words[0] ^ (std::uint64_t(protocol) << 56));
    h = mix_hash(h ^ words[1]);
    h = mix_hash(h ^ words[2]);
    h = mix_hash(h ^ words[3]);
    return mix_hash(h ^ (std::uint64_t(lan_port) << 16 | remote_port));
}

TimeoutClass ipv6_timeout_class(const Ipv6Flow& flow) noexcept {
    switch (flow.key.protocol) {
        case ipv6_protocol::tcp:
            return tcp_flow_timeout_class(flow.tcp.timeout_class());
        case ipv6_protocol::icmpv6: return TimeoutClass::icmp;
        default: return TimeoutClass::udp;
    }
}

Ipv6FlowTable::Ipv6FlowTable(std::uint32_t max_flows, const NatTimeouts& timeouts, const FlowLimits& limits)
    : FlowTableCore(max_flows, timeouts, limits), index_(max_flows) {}

// As IPv4's (FlowTable::is_embryonic), and an exchange a remote host started to the
// gateway itself too: a spoofed-SYN flood to a port the input rules open is made of them
// as much as one through a pinhole. (The gateway's own IPv4 input flows are not counted
// yet: IPv4's input path has no cap of its own to replace.)
bool Ipv6FlowTable::is_embryonic(const Ipv6Flow& f) noexcept {
    if (f.origin != Ipv6FlowOrigin::wan && f.origin != Ipv6FlowOrigin::to_gateway) return false;
    if (f.key.protocol != ipv6_protocol::tcp) return !f.reply_seen;
    TcpState state = f.tcp.state();
    return state == TcpState::syn_sent || state == TcpState::syn_received || state == TcpState::syn_sent2;
}

Ipv6Flow* Ipv6FlowTable::find(const Ipv6FlowKey& key, Instant now) noexcept {
    Ipv6FlowId id = index_.find(key.hash(), [&](Ipv6FlowId candidate) { return slots_[candidate].key == key; });
    return live_or_reclaimed(id, now);
}

// A key already indexed (by an expired flow not reclaimed yet) is taken over by the new one.
void Ipv6FlowTable::index(Ipv6FlowId id) noexcept {
    const Ipv6FlowKey& key = slots_[id].key;
    std::uint64_t h = key.hash();
    Ipv6FlowId same = index_.find(h, [&](Ipv6FlowId c) { return slots_[c].key == key; });
    if (same == 0) index_.insert(h, id);
    else index_.replace(h, same, id);
}

void Ipv6FlowTable::unindex(Ipv6FlowId id) noexcept {
    // Only the entry that names this flow: a newer flow may have taken its key.
    index_.erase(slots_[id].key.hash(), id, [this](Ipv6FlowId c) { return slots_[c].key.hash(); });
}

template class FlowTableCore<Ipv6FlowTable, Ipv6Flow, Ipv6Address>;

}  // namespace gw

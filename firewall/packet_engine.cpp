#include "packet_engine.hpp"

#include "address_checks.hpp"

namespace gw {

PacketEngine::PacketEngine(const EngineSetup& setup)
    : setup_(setup),
      mappings_(setup.nat),
      flows_(setup.nat, mappings_),
      forwards_(setup.firewall),
      rules_(setup.firewall) {
    reserve_static_forward_ports(setup.firewall, true);
}

// Static forwards own their external ports: dynamic mappings never take them.
void PacketEngine::reserve_static_forward_ports(const FirewallConfig& firewall, bool reserve) {
    for (const auto& [protocol, ports] : static_forward_ports(firewall))
        for (std::uint32_t port = ports.first; port <= ports.last; ++port)
            reserve ? mappings_.reserve(protocol, Port{std::uint16_t(port)})
                    : mappings_.unreserve(protocol, Port{std::uint16_t(port)});
}

std::size_t PacketEngine::expire_idle(Instant now) noexcept { return flows_.expire_idle(now); }

bool PacketEngine::open_port_mapping(const DynamicForward& mapping) {
    if (!forwards_.open(mapping)) return false;
    mappings_.reserve(mapping.protocol, mapping.external);
    return true;
}

void PacketEngine::close_port_mapping(Protocol protocol, Port external) {
    if (!forwards_.close(protocol, external)) return;
    mappings_.unreserve(protocol, external);
    flows_.remove_if([&](const Flow& f) {
        return f.protocol == protocol && f.external == external &&
               (f.origin == FlowOrigin::wan || f.origin == FlowOrigin::hairpin_server);
    });
}

EngineCounters PacketEngine::counters() const {
    EngineCounters snapshot = counters_;
    snapshot.flows_expired = flows_.expired_total();
    snapshot.flows_evicted = flows_.evicted_total();
    snapshot.mappings_expired = mappings_.released_total();
    return snapshot;
}

TimeoutClass PacketEngine::timeout_class_of(const Flow& flow) const {
    switch (flow.protocol) {
        case Protocol::udp: return TimeoutClass::udp;
        case Protocol::icmp: return TimeoutClass::icmp;
        case Protocol::tcp:
            // RFC 5382 REQ-5: only an established connection earns the long timeout.
            return flow.tcp.timeout_class() == TcpTimeoutClass::established ? TimeoutClass::tcp_established
                                                                             : TimeoutClass::tcp_transitory;
    }
    return TimeoutClass::udp;
}

bool PacketEngine::track_tcp(Flow& flow, const PacketView& p, bool from_originator) {
    if (flow.protocol != Protocol::tcp) return true;
    // A first fragment carries only part of the payload: judge its flags, not its window.
    if (p.is_fragment()) return tcp_flags_valid(p.tcp->flags);
    auto segment = tcp_segment_from(*p.tcp, p.l4_length);
    if (!segment) return false;
    auto direction = from_originator ? FlowDirection::original : FlowDirection::reply;
    return flow.tcp.track(direction, *segment) == TcpJudgement::accept;
}

std::optional<TcpTracker> PacketEngine::start_tracker(const PacketView& p, TcpPickup pickup) {
    auto segment = tcp_segment_from(*p.tcp, p.l4_length);
    if (!segment) return std::nullopt;
    return TcpTracker::start(*segment, pickup);
}

RuleDecision PacketEngine::decide_by_rules(RuleDirection direction, const PacketView& p,
                                           std::string_view interface, Instant now, const Endpoint* lan_destination) {
    PacketFacts facts{};
    facts.direction = direction;
    facts.protocol = p.protocol;
    facts.source = p.ip->source();
    facts.destination = p.ip->destination();
    facts.has_ports = p.tcp || p.udp;
    if (facts.has_ports) {
        read_port(p, Side::source, facts.source_port);
        read_port(p, Side::destination, facts.destination_port);
    }
    facts.has_icmp_type = p.icmp != nullptr;
    if (p.icmp) facts.icmp_type = p.icmp->type;
    facts.arrival_interface = interface;
    if (lan_destination) {
        facts.destination = lan_destination->address;
        if (facts.has_ports) facts.destination_port = lan_destination->port;
    }
    return rules_.decide(facts, now);
}

bool PacketEngine::mapping_admits(Protocol protocol, Port external, Ipv4Address remote) const {
    switch (setup_.firewall.filtering) {
        case FilteringBehaviour::endpoint_independent: return true;
        case FilteringBehaviour::address_dependent: return flows_.has_sent_to_address(protocol, external, remote);
        // The exact endpoint already has its flow: whoever gets here is someone else.
        case FilteringBehaviour::address_and_port_dependent: return false;
    }
    return false;
}

EngineResult PacketEngine::forwarded_outbound(const PacketView& p) {
    ++counters_.outbound_packets;
    counters_.outbound_bytes += p.datagram.size();
    return {Verdict::forward};
}

EngineResult PacketEngine::forwarded_inbound(const PacketView& p) {
    ++counters_.inbound_packets;
    counters_.inbound_bytes += p.datagram.size();
    return {Verdict::forward};
}

EngineResult PacketEngine::delivered_locally() {
    ++counters_.local_packets;
    return {Verdict::deliver_locally};
}

EngineResult PacketEngine::dropped(DropReason reason, const FirewallRule* rule, bool log) {
    counters_.drops.count(reason);
    return {Verdict::drop, reason, rule, log};
}

EngineResult PacketEngine::refused_by(const RuleDecision& decision, DropReason reason) {
    EngineResult result = dropped(reason, decision.rule, decision.log);
    if (decision.action == RuleAction::reject) result.verdict = Verdict::reject;
    return result;
}

}  // namespace gw

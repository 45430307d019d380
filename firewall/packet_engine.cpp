#include "packet_engine.hpp"

#include "address_checks.hpp"
#include "nat/checksum.hpp"

namespace gw {

PacketEngine::PacketEngine(const EngineSetup& setup)
    : setup_(setup),
      mappings_(setup.nat),
      flows_(setup.nat, mappings_),
      ip_identification_(setup.nat.port_key),
      forwards_(setup.firewall),
      rules_(setup.firewall),
      ipv6_(setup.firewall.ipv6, setup.nat.timeouts, setup.nat.limits, setup.lan_interface, setup.wan_interface) {
    reserve_static_forward_ports(setup.firewall, true);
}

// Static forwards own their external ports: dynamic mappings never take them.
void PacketEngine::reserve_static_forward_ports(const FirewallConfig& firewall, bool reserve) {
    for (const auto& [protocol, ports] : static_forward_ports(firewall))
        for (std::uint32_t port = ports.first; port <= ports.last; ++port)
            reserve ? mappings_.reserve(protocol, Port{std::uint16_t(port)})
                    : mappings_.unreserve(protocol, Port{std::uint16_t(port)});
}

std::size_t PacketEngine::expire_idle(Instant now) noexcept { return flows_.expire_idle(now) + ipv6_.expire_idle(now); }

EngineResult PacketEngine::judge_ipv6_outbound(std::span<const std::uint8_t> packet, Instant now,
                                               L4Checksum state) noexcept {
    EngineResult result = ipv6_.judge_outbound(packet, rules_, now, state);
    if (result.verdict == Verdict::drop || result.verdict == Verdict::reject) counters_.drops.count(result.reason);
    return result;
}

EngineResult PacketEngine::judge_ipv6_inbound(std::span<const std::uint8_t> packet, Instant now,
                                              L4Checksum state) noexcept {
    EngineResult result = ipv6_.judge_inbound(packet, rules_, now, state);
    if (result.verdict == Verdict::drop || result.verdict == Verdict::reject) counters_.drops.count(result.reason);
    return result;
}

EngineResult PacketEngine::judge_ipv6_input(std::span<const std::uint8_t> packet, bool from_lan, Instant now,
                                            L4Checksum state) noexcept {
    Ipv6LanServices services;
    if (setup_.upnp_http) services.upnp_http_port = setup_.upnp_http->port.value;
    EngineResult result = ipv6_.judge_input(packet, from_lan, services, rules_, now, state);
    if (result.verdict == Verdict::drop || result.verdict == Verdict::reject) counters_.drops.count(result.reason);
    else ++counters_.local_packets;
    return result;
}

EngineResult PacketEngine::track_ipv6_local_output(std::span<const std::uint8_t> packet, Instant now) noexcept {
    ++counters_.local_packets;
    return ipv6_.track_local_output(packet, now);
}

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
            return tcp_flow_timeout_class(flow.tcp.timeout_class());
    }
    return TimeoutClass::udp;
}

bool PacketEngine::track_tcp(Flow& flow, const PacketView& p, bool from_originator) {
    if (flow.protocol != Protocol::tcp) return true;
    // A first fragment is judged like any segment, by flags, state and window, as the
    // part of the segment it holds (the rest follows it unseen; fragment_table.hpp).
    auto segment = tcp_segment_from(*p.tcp, p.l4_length);
    if (!segment) return false;
    auto direction = from_originator ? FlowDirection::original : FlowDirection::reply;
    return flow.tcp.track(direction, *segment) == TcpJudgement::accept;
}

// A segment that changes its connection's state (SYN, FIN, RST) must be the one its
// sender sent: a corrupted or carelessly forged one would otherwise close or restart the
// flow for a packet its receiver then discards (as netfilter's nf_conntrack_checksum
// guards conntrack). Only those are summed, and only whole segments with a complete
// checksum: they are small and rare, data segments are not.
bool PacketEngine::tcp_checksum_fails(const PacketView& p, L4Checksum state) {
    using H = wire::TcpHeader;
    if (!p.tcp || state != L4Checksum::complete || p.is_fragment()) return false;
    if (!(p.tcp->flags & (H::syn | H::fin | H::rst))) return false;
    std::uint32_t pseudo = pseudo_header_sum(p.ip->source(), p.ip->destination(), Protocol::tcp,
                                             std::uint16_t(p.l4_length));
    return ChecksumDelta::fold(ones_complement_sum({p.l4, p.l4_length}, pseudo)) != 0xffff;
}

// Inbound after translation the destination is the LAN side; outbound the source is
// the WAN address and the flow's external port.
FirstFragmentVerdict PacketEngine::tcp_first_fragment_verdict(const PacketView& p, bool inbound, Instant now) {
    FirstFragmentVerdict verdict;
    if (!p.tcp) return verdict;
    Endpoint source{p.ip->source(), {}}, destination{p.ip->destination(), {}};
    read_port(p, Side::source, source.port);
    read_port(p, Side::destination, destination.port);
    Flow* flow = inbound ? flows_.find_by_internal(Protocol::tcp, destination, source, now)
                         : flows_.find_by_external(Protocol::tcp, source.port, destination, now);
    if (!flow) return verdict;
    verdict.flow = flows_.id_of(*flow);
    verdict.from_originator = inbound ? flow->origin == FlowOrigin::wan : flow->origin == FlowOrigin::lan;
    verdict.sequence_of_byte_0 = p.tcp->sequence.get() - std::uint32_t(p.tcp->header_length());
    return verdict;
}

bool PacketEngine::track_tcp_fragment(const FirstFragmentVerdict& first, const FragmentPiece& later) {
    if (first.flow == 0) return true;
    Flow& flow = flows_.get(first.flow);
    if (!flow.in_use || flow.protocol != Protocol::tcp) return true;  // the flow ended meanwhile
    auto direction = first.from_originator ? FlowDirection::original : FlowDirection::reply;
    return flow.tcp.take_fragment(direction, first.sequence_of_byte_0 + later.start,
                                  first.sequence_of_byte_0 + later.end);
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
    facts.length = std::uint32_t(p.datagram.size());
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

EngineResult PacketEngine::forwarded_outbound(PacketView& p) {
    // RFC 7857 §10: after translation every LAN host's datagrams share one source address,
    // so their own numbers could meet at the remote's reassembly.
    if (!is_atomic(*p.ip) && !p.is_later_fragment())
        rewrite_identification(p, ip_identification_.next(p.ip->destination(), p.protocol));
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

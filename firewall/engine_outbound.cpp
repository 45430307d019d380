// Packets from the LAN on their way out of the WAN interface.
#include "address_checks.hpp"
#include "engine_endpoints.hpp"
#include "packet_engine.hpp"

namespace gw {

EngineResult PacketEngine::translate_outbound(std::span<std::uint8_t> buffer, L4Checksum state,
                                              Instant now) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    if (!parsed.ok()) return dropped(parsed.reason);
    PacketView& p = parsed.view;
    if (p.ip->source() == setup_.nat.wan_address) return dropped(DropReason::source_is_gateway);
    if (!is_inside(p.ip->source(), setup_.firewall.lan_networks)) return dropped(DropReason::spoofed_lan_source);
    // Later fragments carry no ports; the address is the same for every mapping, so
    // they are translated without one (and so never leave with a LAN address).
    if (p.is_later_fragment()) {
        rewrite_address(p, Side::source, setup_.nat.wan_address);
        return forwarded_outbound(p);
    }
    if (p.protocol != std::uint8_t(Protocol::tcp) && p.protocol != std::uint8_t(Protocol::udp) && !p.icmp)
        return dropped(DropReason::unsupported_protocol);
    if (is_icmp_error(p)) return outbound_icmp_error(p, now);
    if (p.icmp && !is_icmp_echo(p)) return dropped(DropReason::unsupported_icmp_type);
    Endpoint internal, remote;
    lan_side_ends(p, internal, remote);
    if (Flow* flow = flows_.find_by_internal(Protocol(p.protocol), internal, remote, now))
        return outbound_known(*flow, p, state, now);
    return outbound_new(p, state, now);
}

EngineResult PacketEngine::outbound_known(Flow& flow, PacketView& p, L4Checksum state, Instant now) {
    bool from_originator = flow.origin == FlowOrigin::lan;
    if (!track_tcp(flow, p, from_originator)) return dropped(DropReason::invalid_tcp);
    if (!from_originator) flow.reply_seen = true;
    flows_.touch(flow, timeout_class_of(flow), now);
    rewrite_endpoint(p, Side::source, {setup_.nat.wan_address, flow.external}, state);
    return forwarded_outbound(p);
}

EngineResult PacketEngine::outbound_new(PacketView& p, L4Checksum state, Instant now) {
    // Reclaim first, so that a port or slot held only by expired flows is free again
    // (it costs only the flows that actually expired).
    flows_.expire_idle(now);
    auto protocol = Protocol(p.protocol);
    // Only queries the LAN starts can be mapped; an echo reply with no flow answers a
    // request nothing let in.
    if (p.icmp && p.icmp->type != wire::IcmpHeader::echo_request) return dropped(DropReason::unsupported_icmp_type);
    Flow flow;
    flow.protocol = protocol;
    flow.origin = FlowOrigin::lan;
    lan_side_ends(p, flow.internal, flow.remote);
    if (protocol == Protocol::tcp) {
        // Like nf_conntrack_tcp_loose: a LAN connection already open when the daemon
        // (re)started is picked up mid-stream rather than cut.
        auto tracker = start_tracker(p, TcpPickup::allow);
        if (!tracker) return dropped(DropReason::invalid_tcp);
        flow.tcp = *tracker;
    }
    RuleDecision decision = decide_by_rules(RuleDirection::outbound, p, setup_.lan_interface, now);
    if (decision.action != RuleAction::accept)
        return refused_by(decision, decision.rule ? DropReason::denied_by_rule : DropReason::denied_by_policy);

    AcquireResult mapping = mappings_.acquire(protocol, flow.internal);
    if (mapping.id == 0) return dropped(mapping.reason);
    if (mapping.created) ++counters_.mappings_created;
    flow.mapping = mapping.id;
    flow.external = mappings_.get(mapping.id).external;
    flow.timeout_class = timeout_class_of(flow);
    DropReason refusal;
    FlowId id = flows_.insert(flow, now, refusal);
    if (id == 0) {
        mappings_.release(mapping.id);
        return dropped(refusal);
    }
    ++counters_.flows_created;
    rewrite_endpoint(p, Side::source, {setup_.nat.wan_address, flow.external}, state);
    EngineResult result = forwarded_outbound(p);
    result.rule = decision.rule;
    result.log = decision.log;
    return result;
}

}  // namespace gw

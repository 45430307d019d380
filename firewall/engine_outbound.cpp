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
    // Fail-closed while the WAN has no address (DHCP pending): nothing to translate to.
    if (setup_.nat.wan_address == Ipv4Address{}) return dropped(DropReason::no_wan_address);
    if (p.ip->source() == setup_.nat.wan_address) return dropped(DropReason::source_is_gateway);
    if (!is_inside(p.ip->source(), setup_.firewall.lan_networks)) return dropped(DropReason::spoofed_lan_source);
    if (p.is_later_fragment()) return outbound_later_fragment(p, now);
    if (!p.is_first_fragment()) return outbound_datagram(p, state, now);
    FragmentPiece first = FragmentPiece::of(p);  // keyed as it arrived, before translation
    if (auto reason = fragments_.check_first(first, now); reason != DropReason::none) return dropped(reason);
    EngineResult result = outbound_datagram(p, state, now);
    if (result.verdict == Verdict::forward) {
        FirstFragmentVerdict verdict = tcp_first_fragment_verdict(p, false, now);
        verdict.identification = p.ip->identification();  // as forwarded_outbound numbered it
        fragments_.remember_first(first, verdict, now);
    }
    return result;
}

// Later fragments carry no ports: they follow their first fragment, which the flow and
// the rules judged, and only if it was let out (live, the kernel has reassembled IPv4
// before the queue, so this is the replay's path: fragment_table.hpp). The address to
// write is the same for every mapping (so none ever leaves with a LAN address); the
// identification is the one the first fragment left with, or the remote could not join them.
EngineResult PacketEngine::outbound_later_fragment(PacketView& p, Instant now) {
    FragmentPiece piece = FragmentPiece::of(p);
    auto admitted = fragments_.admit_later(piece, now);
    if (admitted.reason != DropReason::none) return dropped(admitted.reason);
    if (!track_tcp_fragment(admitted.verdict, piece)) return dropped(DropReason::invalid_tcp);
    rewrite_address(p, Side::source, setup_.nat.wan_address);
    rewrite_identification(p, admitted.verdict.identification);
    return forwarded_outbound(p);
}

// An unfragmented packet or a first fragment, its source checked.
EngineResult PacketEngine::outbound_datagram(PacketView& p, L4Checksum state, Instant now) {
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
    if (tcp_checksum_fails(p, state)) return dropped(DropReason::bad_tcp_checksum);
    if (!track_tcp(flow, p, from_originator)) return dropped(DropReason::invalid_tcp);
    if (!from_originator) flow.reply_seen = true;
    flows_.touch(flow, timeout_class_of(flow), now);
    count_on(flow, p.datagram.size());
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
        if (tcp_checksum_fails(p, state)) return dropped(DropReason::bad_tcp_checksum);
        // Like nf_conntrack_tcp_loose: a LAN connection already open when the daemon
        // (re)started is picked up mid-stream rather than cut.
        auto tracker = start_tracker(p, TcpPickup::allow);
        if (!tracker) return dropped(DropReason::invalid_tcp);
        flow.tcp = *tracker;
    }
    RuleDecision decision = decide_by_rules(RuleDirection::outbound, p, setup_.lan_interface, now);
    if (decision.action != RuleAction::accept)
        return refused_by(decision, decision.rule ? DropReason::denied_by_rule : DropReason::denied_by_policy);

    AcquireResult mapping = acquire_for_lan_flow(protocol, flow.internal, now);
    if (mapping.id == 0) return refused_mapping(p, mapping.reason, now);
    if (mapping.created) ++counters_.mappings_created;
    flow.mapping = mapping.id;
    flow.external = mappings_.get(mapping.id).external;
    flow.timeout_class = timeout_class_of(flow);
    count_packet(flow, p.datagram.size());
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

EngineResult PacketEngine::refused_mapping(const PacketView& p, DropReason reason, Instant now) {
    EngineResult result = dropped(reason);
    const bool no_mapping = reason == DropReason::host_port_limit || reason == DropReason::ports_exhausted ||
                            reason == DropReason::mapping_table_full;
    // Never about a fragment (RFC 1122 3.2.2 answers the datagram, and only its first
    // fragment could be quoted whole); the ICMP queries that reach here are echo requests.
    if (!no_mapping || !setup_.nat.unreachable_when_full || p.is_fragment()) return result;
    if (!no_mapping_unreachables_.admit(now)) {
        ++counters_.no_mapping_unreachables_suppressed;
        return result;
    }
    ++counters_.no_mapping_unreachables;
    result.unreachable = true;
    return result;
}

// Each flow holds at most one mapping, so a full mapping table means a full flow table
// whose every flow holds a mapping of its own: evicting one frees one. A host at its own
// port limit gives up its half-open or closing TCP flows first (a client making many short
// connections holds one port per connection in TIME_WAIT); a port comes free once the
// last flow on it goes, which for such connections is the first one recycled.
AcquireResult PacketEngine::acquire_for_lan_flow(Protocol protocol, Endpoint internal, Instant now) {
    AcquireResult mapping = mappings_.acquire(protocol, internal);
    constexpr int most_recycled_for_a_port = 4;
    for (int i = 0; mapping.reason == DropReason::host_port_limit && i < most_recycled_for_a_port; ++i) {
        if (!flows_.recycle_transitory_flow_of(internal.address)) break;
        mapping = mappings_.acquire(protocol, internal);
    }
    if (mapping.reason != DropReason::mapping_table_full) return mapping;
    if (DropReason refusal = flows_.make_room_for_lan_flow(internal.address, now); refusal != DropReason::none)
        return {0, refusal, false};
    return mappings_.acquire(protocol, internal);
}

}  // namespace gw

// Packets that arrived on the WAN interface, before the routing decision.
#include "address_checks.hpp"
#include "engine_endpoints.hpp"
#include "packet_engine.hpp"

namespace gw {

EngineResult PacketEngine::translate_inbound(std::span<std::uint8_t> buffer, L4Checksum state,
                                             Instant now) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    if (!parsed.ok()) return dropped(parsed.reason);
    PacketView& p = parsed.view;
    Ipv4Address source = p.ip->source();
    // Anti-spoofing: the internet cannot be our LAN, our own address, or a martian.
    if (source == setup_.nat.wan_address || is_martian_source(source) ||
        is_inside(source, setup_.firewall.lan_networks))
        return dropped(DropReason::martian_wan_source);
    // The NAT upstream announcing a restart to 224.0.0.1:5350 or to us: the gateway's own,
    // before any forward or mapping of port 5350 could take it.
    if (announces_from_upstream(p)) return delivered_locally();
    // Only the WAN address is ours to translate; anything else arriving on the WAN
    // (LAN addresses included) is someone trying to route through us.
    if (p.ip->destination() != setup_.nat.wan_address) {
        // SSDP's multicast group too: the IGD answers the LAN only.
        if (is_upnp_port(p)) ++counters_.upnp_from_wan_refused;
        return dropped(DropReason::not_addressed_to_gateway);
    }
    if (p.is_later_fragment()) return inbound_later_fragment(p, now);
    if (!p.is_first_fragment()) return inbound_datagram(p, state, now);
    FragmentPiece first = FragmentPiece::of(p);  // keyed as it arrived, before translation
    if (auto reason = fragments_.check_first(first, now); reason != DropReason::none) return dropped(reason);
    EngineResult result = inbound_datagram(p, state, now);
    if (result.verdict == Verdict::forward) {
        FirstFragmentVerdict verdict = tcp_first_fragment_verdict(p, true, now);
        verdict.internal_destination = p.ip->destination();
        fragments_.remember_first(first, verdict, now);
    } else if (result.verdict == Verdict::deliver_locally) {
        FirstFragmentVerdict to_gateway;
        to_gateway.to_gateway = true;
        fragments_.remember_first(first, to_gateway, now);
    }
    return result;
}

// An unfragmented packet or a first fragment, its addresses checked.
EngineResult PacketEngine::inbound_datagram(PacketView& p, L4Checksum state, Instant now) {
    if (p.protocol != std::uint8_t(Protocol::tcp) && p.protocol != std::uint8_t(Protocol::udp) && !p.icmp)
        return input_new(p, setup_.wan_interface, now);
    if (is_icmp_error(p)) return inbound_icmp_error(p, now);
    if (p.icmp && !is_icmp_echo(p)) return input_new(p, setup_.wan_interface, now);

    Endpoint remote;
    Port local_port;
    wan_side_ends(p, remote, local_port);
    Flow* flow = flows_.find_by_external(Protocol(p.protocol), local_port, remote, now);
    // An echo's identifier is its requester's: a request from the WAN belongs only to a
    // flow the WAN started, a reply only to one started on our side.
    if (flow && p.icmp) {
        bool wan_started = flow->origin == FlowOrigin::wan || flow->origin == FlowOrigin::to_gateway;
        if (wan_started != (p.icmp->type == wire::IcmpHeader::echo_request)) flow = nullptr;
    }
    if (flow) return inbound_known(*flow, p, state, now);
    return inbound_new(p, state, now);
}

EngineResult PacketEngine::inbound_known(Flow& flow, PacketView& p, L4Checksum state, Instant now) {
    bool from_originator = flow.origin == FlowOrigin::wan || flow.origin == FlowOrigin::to_gateway;
    if (tcp_checksum_fails(p, state)) return dropped(DropReason::bad_tcp_checksum);
    if (!track_tcp(flow, p, from_originator)) return dropped(DropReason::invalid_tcp);
    if (!from_originator) flow.reply_seen = true;
    flows_.touch(flow, timeout_class_of(flow), now);
    count_on(flow, p.datagram.size());
    if (flow.origin == FlowOrigin::gateway || flow.origin == FlowOrigin::to_gateway) return delivered_locally();
    rewrite_endpoint(p, Side::destination, flow.internal, state);
    return forwarded_inbound(p);
}

// No flow: a mapping's filter, a forward or the DMZ may let it in; otherwise it is
// for the gateway itself.
EngineResult PacketEngine::inbound_new(PacketView& p, L4Checksum state, Instant now) {
    // A mapping whose flows have all expired must admit no one, reclaimed or not yet.
    flows_.expire_idle(now);
    auto protocol = Protocol(p.protocol);
    Endpoint remote;
    Port local_port;
    wan_side_ends(p, remote, local_port);
    // An echo reply with no flow answers no request of ours: the gateway's, if anyone's.
    if (p.icmp && p.icmp->type == wire::IcmpHeader::echo_reply) return input_new(p, setup_.wan_interface, now);

    std::optional<ForwardTarget> target = p.icmp ? std::nullopt : forwards_.target_of(protocol, local_port);
    // A forward someone asked for (static or UPnP) wins over a NAT mapping that happened
    // to hold the port before it: that mapping keeps its own flows, nothing new.
    if (target && !target->dmz) {
        if (target->forward && !ForwardTable::admits(*target->forward, remote.address))
            return dropped(DropReason::forward_source_not_allowed);
        if (target->remote_host && *target->remote_host != remote.address)
            return dropped(DropReason::forward_source_not_allowed);
        return inbound_to_target(p, state, now, target->internal, 0);
    }
    const Mapping* m = p.icmp ? nullptr : mappings_.find_by_external(protocol, local_port);
    if (m) {
        if (!mapping_admits(protocol, local_port, remote.address)) return dropped(DropReason::filtered_by_mapping);
        MappingId id = mappings_.acquire(protocol, m->internal).id;
        return inbound_to_target(p, state, now, m->internal, id);
    }
    if (target) return inbound_to_target(p, state, now, target->internal, 0);  // the DMZ host
    if (setup_.firewall.dmz_host && p.icmp)  // pings go to the DMZ host too
        return inbound_to_target(p, state, now, {*setup_.firewall.dmz_host, local_port}, 0);
    return input_new(p, setup_.wan_interface, now);
}

EngineResult PacketEngine::inbound_to_target(PacketView& p, L4Checksum state, Instant now, Endpoint target,
                                             MappingId mapping) {
    auto release = [&] {
        if (mapping != 0) mappings_.release(mapping);
    };
    // A forward, mapping or DMZ host naming the gateway itself, a network or broadcast
    // address would hand the WAN the gateway's own services (its SSDP and IGD, issue 14),
    // or every LAN host at once: whatever the front end that made it, never deliver.
    if (delivers_to_gateway(target.address, setup_.firewall.lan_networks, setup_.lan_addresses) ||
        target.address == setup_.nat.wan_address) {
        release();
        return dropped(DropReason::wan_flow_to_gateway);
    }
    Flow flow;
    flow.protocol = Protocol(p.protocol);
    flow.origin = FlowOrigin::wan;
    flow.internal = target;
    flow.mapping = mapping;
    wan_side_ends(p, flow.remote, flow.external);
    if (flow.protocol == Protocol::tcp) {
        if (tcp_checksum_fails(p, state)) {
            release();
            return dropped(DropReason::bad_tcp_checksum);
        }
        // From the WAN a connection must start with a SYN: no mid-stream pickup.
        auto tracker = start_tracker(p, TcpPickup::refuse);
        if (!tracker) {
            release();
            return dropped(DropReason::invalid_tcp);
        }
        flow.tcp = *tracker;
    }
    // Rules see the LAN-side destination, as the administrator names it.
    RuleDecision decision = decide_by_rules(RuleDirection::inbound, p, setup_.wan_interface, now, &target);
    // A forward, the DMZ or an opened mapping is an accept placed after the rules.
    if (decision.rule && decision.action != RuleAction::accept) {
        release();
        return refused_by(decision, DropReason::denied_by_rule);
    }
    flow.timeout_class = timeout_class_of(flow);
    DropReason refusal;
    FlowId id = flows_.insert(flow, now, refusal);
    if (id == 0) {
        release();
        return dropped(refusal);
    }
    ++counters_.flows_created;
    count_on(flows_.get(id), p.datagram.size());
    rewrite_endpoint(p, Side::destination, target, state);
    EngineResult result = forwarded_inbound(p);
    result.rule = decision.rule;
    result.log = decision.log;
    return result;
}

EngineResult PacketEngine::inbound_later_fragment(PacketView& p, Instant now) {
    // Follows its first fragment (fragment_table.hpp), or is dropped and counted: without
    // it we cannot know the LAN host, and it never reaches the LAN.
    FragmentPiece piece = FragmentPiece::of(p);
    auto admitted = fragments_.admit_later(piece, now);
    if (admitted.reason != DropReason::none) return dropped(admitted.reason);
    if (admitted.verdict.to_gateway) return delivered_locally();
    if (!track_tcp_fragment(admitted.verdict, piece)) return dropped(DropReason::invalid_tcp);
    rewrite_address(p, Side::destination, admitted.verdict.internal_destination);
    return forwarded_inbound(p);
}

}  // namespace gw

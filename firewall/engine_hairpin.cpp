// Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8): a LAN host that talks to the WAN
// address reaches the LAN host behind that port (a forward, the DMZ, or another
// host's mapping), and each side sees the other as the WAN address — the client sees
// the port it dialled, the server the client's external port — so replies come back
// through the gateway instead of straight across the LAN.
//
// Both rewrites happen before routing, on the packet that arrived on the LAN
// interface for the WAN address; the daemon lets the kernel accept the WAN address
// as a source there (accept_local on the LAN interface).
#include "address_checks.hpp"
#include "engine_endpoints.hpp"
#include "packet_engine.hpp"

namespace gw {

EngineResult PacketEngine::translate_hairpin(std::span<std::uint8_t> buffer, L4Checksum state, Instant now,
                                             LinkSource link) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    if (!parsed.ok()) return dropped(parsed.reason);
    PacketView& p = parsed.view;
    // Fail-closed while the WAN has no address (DHCP pending): nothing to translate to.
    if (setup_.nat.wan_address == Ipv4Address{}) return dropped(DropReason::no_wan_address);
    if (DropReason refusal = lan_source_refusal(p.ip->source(), link); refusal != DropReason::none)
        return dropped(refusal);
    if (p.ip->destination() != setup_.nat.wan_address) return dropped(DropReason::not_addressed_to_gateway);
    // Only TCP and UDP are hairpinned; anything else for the WAN address is input.
    if (p.is_fragment() || !(p.tcp || p.udp)) return input_new(p, setup_.lan_interface, now);
    Endpoint sender, dialled;
    lan_side_ends(p, sender, dialled);
    if (Flow* flow = flows_.find_by_internal(Protocol(p.protocol), sender, dialled, now))
        return hairpin_known(*flow, p, state, now);
    return hairpin_new(p, state, now);
}

EngineResult PacketEngine::hairpin_known(Flow& flow, PacketView& p, L4Checksum state, Instant now) {
    if (flow.peer == 0) return dropped(DropReason::no_mapping);  // not a hairpin flow
    Flow& peer = flows_.get(flow.peer);
    bool from_client = flow.origin == FlowOrigin::hairpin_client;
    Flow& tracked = from_client ? flow : peer;
    if (!track_tcp(tracked, p, from_client)) return dropped(DropReason::invalid_tcp);
    if (!from_client) tracked.reply_seen = true;
    TimeoutClass timeout = timeout_class_of(tracked);
    flows_.touch(flow, timeout, now);
    flows_.touch(peer, timeout, now);
    count_packet(flow, p.datagram.size());  // on the sender's flow of the pair
    rewrite_endpoint(p, Side::destination, peer.internal, state);
    rewrite_endpoint(p, Side::source, {setup_.nat.wan_address, flow.external}, state);
    return forwarded_outbound(p);
}

EngineResult PacketEngine::hairpin_new(PacketView& p, L4Checksum state, Instant now) {
    flows_.expire_idle(now);
    auto protocol = Protocol(p.protocol);
    Endpoint client, dialled;
    lan_side_ends(p, client, dialled);

    // Where the dialled port leads, exactly as for a packet from the WAN.
    Endpoint server;
    MappingId server_mapping = 0;
    auto target = forwards_.target_of(protocol, dialled.port);
    const Mapping* m = mappings_.find_by_external(protocol, dialled.port);
    if (target && !target->dmz) {
        server = target->internal;  // a forward wins over a mapping, as from the WAN
    } else if (m) {
        // RFC 4787 REQ-9: filtered like any sender, seen as the client's external address.
        if (!mapping_admits(protocol, dialled.port, setup_.nat.wan_address))
            return dropped(DropReason::filtered_by_mapping);
        server = m->internal;
        if (m->internal != client) {  // a host dialling its own mapping talks to itself: no extra reference
            server_mapping = mappings_.acquire(protocol, m->internal).id;
            if (server_mapping == 0) return input_new(p, setup_.lan_interface, now);
        }
    } else if (target) {
        server = target->internal;  // the DMZ host
    } else {
        return input_new(p, setup_.lan_interface, now);
    }
    auto release_server = [&] {
        if (server_mapping != 0) mappings_.release(server_mapping);
    };
    // The client's own traffic: its outbound rules decide (a forward's allowed_sources
    // speak of WAN sources, and LAN hosts are not filtered like the internet).
    RuleDecision decision = decide_by_rules(RuleDirection::outbound, p, setup_.lan_interface, now);
    if (decision.action != RuleAction::accept) {
        release_server();
        return refused_by(decision, decision.rule ? DropReason::denied_by_rule : DropReason::denied_by_policy);
    }
    std::optional<TcpTracker> tracker;
    if (protocol == Protocol::tcp && !(tracker = start_tracker(p, TcpPickup::refuse))) {
        release_server();
        return dropped(DropReason::invalid_tcp);
    }
    AcquireResult client_mapping = acquire_for_lan_flow(protocol, client, now);
    if (client_mapping.id == 0) {
        release_server();
        return refused_mapping(p, client_mapping.reason, now);
    }
    if (client_mapping.created) ++counters_.mappings_created;
    Port client_external = mappings_.get(client_mapping.id).external;

    Flow client_flow;
    client_flow.protocol = protocol;
    client_flow.origin = FlowOrigin::hairpin_client;
    client_flow.internal = client;
    client_flow.remote = dialled;
    client_flow.external = client_external;
    client_flow.mapping = client_mapping.id;
    if (tracker) client_flow.tcp = *tracker;
    client_flow.timeout_class = timeout_class_of(client_flow);
    Flow server_flow = client_flow;
    server_flow.origin = FlowOrigin::hairpin_server;
    server_flow.internal = server;
    server_flow.remote = {setup_.nat.wan_address, client_external};
    server_flow.external = dialled.port;
    server_flow.mapping = server_mapping;

    count_packet(client_flow, p.datagram.size());
    DropReason refusal;
    FlowId a = flows_.insert(client_flow, now, refusal);
    FlowId b = a == 0 ? 0 : flows_.insert(server_flow, now, refusal);
    if (b == 0) {
        // A failed insert still owns its mapping reference; the inserted one releases its own.
        if (a == 0) mappings_.release(client_mapping.id);
        release_server();
        return dropped(refusal);
    }
    flows_.link(a, b);
    counters_.flows_created += 2;
    rewrite_endpoint(p, Side::destination, server, state);
    rewrite_endpoint(p, Side::source, {setup_.nat.wan_address, client_external}, state);
    EngineResult result = forwarded_outbound(p);
    result.rule = decision.rule;
    result.log = decision.log;
    return result;
}

}  // namespace gw

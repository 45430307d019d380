// ICMP errors the gateway's own kernel builds (issue 18.2): fragmentation needed and
// time exceeded from ip_forward, host unreachable from a failed neighbour lookup,
// parameter problem from the options. The kernel builds them about the datagram as it
// routes it, and an inbound datagram is routed after translate_inbound rewrote it at
// PREROUTING: the error quotes the LAN host's address and port. Sent to the WAN sender
// as is, the sender cannot match it to its socket (inbound path-MTU discovery breaks,
// RFC 5508 REQ-10 for time exceeded) and the LAN address leaks. So the quoted datagram
// is put back as the sender sent it (to the WAN address and external port), every
// checksum kept right; and no error leaves by the WAN still naming a LAN address.
//
// Errors about outbound datagrams mostly need nothing: ip_forward's TTL and MTU checks
// come before FORWARD, where translate_outbound rewrites, so they quote the LAN host's
// packet as it sent it, and they go to that host (tests/integration/
// gateway_icmp_errors_are_translated.sh). Two kinds do quote a translated datagram, whose
// source is then the WAN address, so the kernel sends them to itself (OUTPUT -o lo,
// queued for ICMP errors only, daemon/queue_rules.cpp): a hairpinned datagram with TTL 1
// (translate_hairpin rewrote it before routing), and an outbound one that failed after
// FORWARD (no neighbour answered on the WAN side). Those go back to the LAN host that
// sent the datagram, quoting it as it sent it.
#include "engine_endpoints.hpp"
#include "packet_engine.hpp"

namespace gw {
namespace {

// The datagram as the kernel quotes it: the IP header and at least 8 transport bytes
// (up to 576 bytes in all, RFC 1812 4.3.2.3).
ParseResult parse_quoted(PacketView& outer) {
    return parse_quoted_ipv4({outer.l4 + sizeof(wire::IcmpHeader), outer.l4_length - sizeof(wire::IcmpHeader)});
}

}  // namespace

bool PacketEngine::is_lan_side_address(Ipv4Address address) const noexcept {
    return address != setup_.nat.wan_address && lan_class_of(address) != LanAddressClass::outside_lan;
}

// The quote's addresses, read from the raw header when it could not be parsed whole
// (an error the kernel builds always holds the 20 bytes).
bool PacketEngine::quote_names_lan_address(const PacketView& outer) const noexcept {
    std::size_t length = outer.l4_length - sizeof(wire::IcmpHeader);
    if (length < sizeof(wire::Ipv4Header)) return false;
    const auto* quoted = reinterpret_cast<const wire::Ipv4Header*>(outer.l4 + sizeof(wire::IcmpHeader));
    return is_lan_side_address(quoted->source()) || is_lan_side_address(quoted->destination());
}

// Addressed to the WAN address: see the top. `q` quotes a datagram from the WAN address.
EngineResult PacketEngine::local_icmp_error_to_wan_address(PacketView& outer, PacketView& q, Instant now) {
    if (q.ip->source() != setup_.nat.wan_address || !(q.tcp || q.udp || is_icmp_echo(q))) return delivered_locally();
    auto protocol = Protocol(q.protocol);
    Port external;
    read_port(q, Side::source, external);
    Endpoint destination{q.ip->destination(), {}};
    if (!q.icmp) read_port(q, Side::destination, destination.port);
    const Flow* sender = nullptr;  // the flow of the LAN host that sent the datagram
    Endpoint dialled = destination;
    if (lan_class_of(destination.address) == LanAddressClass::host) {
        // Hairpinned: the quote is the server side's packet; its peer is the client's flow,
        // whose remote end is the WAN endpoint the client dialled.
        const Flow* server = flows_.find_by_internal(protocol, destination, {setup_.nat.wan_address, external}, now);
        if (server && server->origin == FlowOrigin::hairpin_server && server->peer != 0) {
            sender = &flows_.get(server->peer);
            dialled = sender->remote;
        }
    } else if (const Flow* flow = flows_.find_by_external(protocol, external, destination, now);
               flow && flow->origin == FlowOrigin::lan) {
        sender = flow;
    }
    if (!sender) return delivered_locally();  // about the gateway's own traffic: stays here
    ChecksumDelta changed = rewrite_endpoint(q, Side::source, sender->internal, L4Checksum::complete);
    if (dialled != destination)
        changed.add(rewrite_endpoint(q, Side::destination, dialled, L4Checksum::complete));
    update_icmp_checksum(outer, changed);
    // The kernel routes it again (nf_reroute at LOCAL_OUT): out of the LAN, from the WAN address.
    rewrite_address(outer, Side::destination, sender->internal.address);
    ++counters_.local_packets;
    ++counters_.gateway_icmp_errors_translated;
    return {Verdict::forward};
}

EngineResult PacketEngine::local_icmp_error(PacketView& outer, Instant now) {
    if (outer.ip->destination() == setup_.nat.wan_address) {
        ParseResult quoted = parse_quoted(outer);
        return quoted.ok() ? local_icmp_error_to_wan_address(outer, quoted.view, now) : delivered_locally();
    }
    // Only -o LAN and -o WAN are queued at OUTPUT (and the above from lo): an error to
    // anything but a LAN host leaves by the WAN.
    const bool to_lan = lan_class_of(outer.ip->destination()) == LanAddressClass::host;
    if (to_lan) return delivered_locally();  // the LAN may see LAN addresses
    ParseResult quoted = parse_quoted(outer);
    if (!quoted.ok()) {
        if (quote_names_lan_address(outer)) return dropped(DropReason::gateway_icmp_error_without_flow);
        return delivered_locally();
    }
    PacketView& q = quoted.view;
    // About a datagram from the WAN that translate_inbound sent on to a LAN host: its
    // destination is the flow's internal end, its source the remote end.
    if (lan_class_of(q.ip->destination()) == LanAddressClass::host && (q.tcp || q.udp || is_icmp_echo(q))) {
        Endpoint internal{q.ip->destination(), {}}, remote{q.ip->source(), {}};
        read_port(q, Side::destination, internal.port);
        if (!q.icmp) read_port(q, Side::source, remote.port);
        // Not activity of the flow: no touch, as for the errors that pass through.
        const Flow* flow = flows_.find_by_internal(Protocol(q.protocol), internal, remote, now);
        if (flow && (flow->origin == FlowOrigin::lan || flow->origin == FlowOrigin::wan)) {
            ChecksumDelta changed = rewrite_endpoint(q, Side::destination, {setup_.nat.wan_address, flow->external},
                                                     L4Checksum::complete);
            update_icmp_checksum(outer, changed);
            // The sender knows the gateway by its WAN address only (the kernel picks the
            // source by route, which a second address on the WAN side could change).
            if (is_lan_side_address(outer.ip->source())) rewrite_address(outer, Side::source, setup_.nat.wan_address);
            ++counters_.local_packets;
            ++counters_.gateway_icmp_errors_translated;
            return {Verdict::forward};
        }
    }
    if (is_lan_side_address(q.ip->source()) || is_lan_side_address(q.ip->destination()))
        return dropped(DropReason::gateway_icmp_error_without_flow);
    return delivered_locally();  // about the gateway's own traffic: no LAN address in it
}

}  // namespace gw

// RFC 5508 section 7: ICMP errors about a known flow are RELATED traffic and are
// translated too — the outer header like any packet of the flow, and the datagram
// they quote as the reverse of what the NAT did to it — so that the host's stack can
// match the error to its socket (port unreachable, PMTU discovery). Errors about no
// flow are dropped: they would otherwise let anyone probe the LAN.
#include "engine_endpoints.hpp"
#include "nat/checksum.hpp"
#include "packet_engine.hpp"

namespace gw {
namespace {

ParseResult parse_quoted(PacketView& outer) {
    return parse_quoted_ipv4({outer.l4 + sizeof(wire::IcmpHeader), outer.l4_length - sizeof(wire::IcmpHeader)});
}

// `echo_type` is the only echo the quoted datagram may be: an error from the WAN
// quotes a request we sent out, one from the LAN the reply delivered to it.
bool quotes_translatable_datagram(const PacketView& quoted, std::uint8_t echo_type) {
    if (quoted.tcp || quoted.udp) return true;
    // RFC 1122 3.2.2: no ICMP error is sent about an ICMP error, so only echoes qualify.
    return quoted.icmp && quoted.icmp->type == echo_type;
}

// RFC 5508 REQ-3: an error whose ICMP checksum fails is dropped, not translated (an
// incremental update would pass the damage on looking deliberate). Errors are small
// and rare, so the full computation costs nothing that matters.
bool icmp_checksum_valid(const PacketView& outer) { return internet_checksum({outer.l4, outer.l4_length}) == 0; }

// REQ-3 (a): nor one whose quoted IP header fails its own checksum; the parser has
// already checked that the whole header is there.
bool quoted_ip_checksum_valid(const PacketView& quoted) {
    return internet_checksum({reinterpret_cast<const std::uint8_t*>(quoted.ip), quoted.ip->header_length()}) == 0;
}

// Port and protocol unreachable are said by the destination host itself (RFC 1122
// 3.2.2.1, RFC 792): only the flow's remote end can send them. Anyone else who sends
// one is closing a LAN host's socket from afar (RFC 5927 §5.2 for TCP's hard errors).
bool is_end_host_error(const wire::IcmpHeader& icmp) {
    constexpr std::uint8_t protocol_unreachable = 2, port_unreachable = 3;
    return icmp.type == wire::IcmpHeader::destination_unreachable &&
           (icmp.code == protocol_unreachable || icmp.code == port_unreachable);
}

}  // namespace

// From the WAN, about a datagram that left with our address.
EngineResult PacketEngine::inbound_icmp_error(PacketView& outer, Instant now) {
    // Errors fit in 576 bytes (RFC 1812 4.3.2.3); a fragmented one is not worth reassembling.
    if (outer.is_fragment()) return dropped(DropReason::malformed_icmp_error);
    if (!icmp_checksum_valid(outer)) return dropped(DropReason::bad_icmp_error_checksum);
    ParseResult quoted = parse_quoted(outer);
    if (!quoted.ok() || !quotes_translatable_datagram(quoted.view, wire::IcmpHeader::echo_request))
        return dropped(DropReason::malformed_icmp_error);
    PacketView& q = quoted.view;
    if (!quoted_ip_checksum_valid(q)) return dropped(DropReason::bad_quoted_ip_checksum);
    if (q.ip->source() != setup_.nat.wan_address) return dropped(DropReason::no_mapping_for_icmp_error);
    // The quoted datagram went from us to the remote: its destination is the remote end.
    // Never our own address: a hairpinned datagram (and a punch) never left by the WAN.
    if (q.ip->destination() == setup_.nat.wan_address) return dropped(DropReason::no_mapping_for_icmp_error);
    Endpoint remote{q.ip->destination(), {}};
    if (!q.icmp) read_port(q, Side::destination, remote.port);
    Port external;
    read_port(q, Side::source, external);
    // An error is not activity of the flow: no touch, so forged errors cannot keep it alive.
    const Flow* flow = flows_.find_by_external(Protocol(q.protocol), external, remote, now);
    if (!flow) return dropped(DropReason::no_mapping_for_icmp_error);
    if (is_end_host_error(*outer.icmp) && outer.ip->source() != flow->remote.address)
        return dropped(DropReason::icmp_unreachable_not_from_remote);
    // Routers on the path may send the rest (frag needed, time exceeded), so for TCP the
    // quoted segment must be one our side may still have in flight (RFC 5927 §4.1): a
    // blind attacker would have to guess a sequence number within the window.
    if (q.tcp) {
        bool internal_started = flow->origin == FlowOrigin::lan || flow->origin == FlowOrigin::gateway;
        if (!flow->tcp.sequence_in_flight(internal_started ? FlowDirection::original : FlowDirection::reply,
                                          q.tcp->sequence.get()))
            return dropped(DropReason::icmp_error_outside_tcp_window);
    }
    if (flow->origin == FlowOrigin::gateway || flow->origin == FlowOrigin::to_gateway) return delivered_locally();
    ChecksumDelta changed = rewrite_endpoint(q, Side::source, flow->internal, L4Checksum::complete);
    update_icmp_checksum(outer, changed);
    rewrite_address(outer, Side::destination, flow->internal.address);
    return forwarded_inbound(outer);
}

// From a LAN host, about a datagram delivered to it: the quoted destination is the
// host's internal endpoint, which must become our WAN endpoint again.
EngineResult PacketEngine::outbound_icmp_error(PacketView& outer, Instant now) {
    if (outer.is_fragment()) return dropped(DropReason::malformed_icmp_error);
    if (!icmp_checksum_valid(outer)) return dropped(DropReason::bad_icmp_error_checksum);
    ParseResult quoted = parse_quoted(outer);
    if (!quoted.ok() || !quotes_translatable_datagram(quoted.view, wire::IcmpHeader::echo_reply))
        return dropped(DropReason::malformed_icmp_error);
    PacketView& q = quoted.view;
    if (!quoted_ip_checksum_valid(q)) return dropped(DropReason::bad_quoted_ip_checksum);
    // A host may only complain about what it received, or it could probe (or tear
    // down, via PMTU) another host's flows.
    if (q.ip->destination() != outer.ip->source()) return dropped(DropReason::icmp_error_for_other_host);
    Endpoint internal{q.ip->destination(), {}}, remote{q.ip->source(), {}};
    read_port(q, Side::destination, internal.port);
    if (!q.icmp) read_port(q, Side::source, remote.port);
    const Flow* flow = flows_.find_by_internal(Protocol(q.protocol), internal, remote, now);
    if (!flow) return dropped(DropReason::no_mapping_for_icmp_error);
    ChecksumDelta changed = rewrite_endpoint(q, Side::destination, {setup_.nat.wan_address, flow->external},
                                             L4Checksum::complete);
    update_icmp_checksum(outer, changed);
    rewrite_address(outer, Side::source, setup_.nat.wan_address);
    return forwarded_outbound(outer);
}

}  // namespace gw

namespace gw {

// RFC 5508 REQ-7: from a LAN host, about a hairpinned datagram delivered to it, so for
// the WAN address. Both ends of the quoted datagram are rewritten to what the original
// sender sent (its internal endpoint to the receiver's external one), and the error goes
// to that sender from the WAN address — the destination being the quoted source after
// translation (REQ-7a) — as if it had come back from the WAN.
EngineResult PacketEngine::hairpin_icmp_error(PacketView& outer, Instant now) {
    if (!icmp_checksum_valid(outer)) return dropped(DropReason::bad_icmp_error_checksum);
    ParseResult quoted = parse_quoted(outer);
    // Only TCP and UDP are hairpinned (an echo to the WAN address is the gateway's).
    if (!quoted.ok() || !(quoted.view.tcp || quoted.view.udp)) return dropped(DropReason::malformed_icmp_error);
    PacketView& q = quoted.view;
    if (!quoted_ip_checksum_valid(q)) return dropped(DropReason::bad_quoted_ip_checksum);
    if (q.ip->destination() != outer.ip->source()) return dropped(DropReason::icmp_error_for_other_host);
    if (q.ip->source() != setup_.nat.wan_address) return dropped(DropReason::no_mapping_for_icmp_error);
    Endpoint internal{q.ip->destination(), {}}, remote{q.ip->source(), {}};
    read_port(q, Side::destination, internal.port);
    read_port(q, Side::source, remote.port);
    // Only a pair delivers: a punch (no peer) brought its host nothing to complain about.
    // An error is not activity of the flow: no touch.
    const Flow* flow = flows_.find_by_internal(Protocol(q.protocol), internal, remote, now);
    if (!flow || flow->peer == 0) return dropped(DropReason::no_mapping_for_icmp_error);
    const Flow& sender = flows_.get(flow->peer);
    ChecksumDelta changed = rewrite_endpoint(q, Side::source, sender.internal, L4Checksum::complete);
    changed.add(rewrite_endpoint(q, Side::destination, {setup_.nat.wan_address, flow->external},
                                 L4Checksum::complete));
    update_icmp_checksum(outer, changed);
    rewrite_address(outer, Side::source, setup_.nat.wan_address);
    rewrite_address(outer, Side::destination, sender.internal.address);
    return forwarded_outbound(outer);
}

}  // namespace gw

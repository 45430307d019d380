// RFC 5508 section 7: ICMP errors about a translated flow are translated too — the
// outer header like any packet of the flow, and the datagram they quote as the
// reverse of what the NAT did to it — so that the LAN host's stack can match the
// error to its socket (port unreachable, PMTU discovery via "fragmentation needed").
#include "checksum.hpp"
#include "translator.hpp"

namespace gw {
namespace {

// The datagram quoted after the 8-byte ICMP header.
ParseResult parse_quoted(PacketView& outer) {
    return parse_quoted_ipv4({outer.l4 + sizeof(wire::IcmpHeader), outer.l4_length - sizeof(wire::IcmpHeader)});
}

// `echo_type` is the only echo the quoted datagram may be: what the NAT maps is a
// request going out, so an error from the WAN quotes a request and an error from the
// LAN quotes the reply delivered to it. Anything else (the gateway's own echo reply,
// say) is no flow of the NAT's, whatever its identifier.
bool quotes_translatable_datagram(const PacketView& quoted, std::uint8_t echo_type) {
    if (quoted.tcp || quoted.udp) return true;
    // RFC 1122 3.2.2: no ICMP error is sent about an ICMP error, so only echoes qualify.
    return quoted.icmp && quoted.icmp->type == echo_type;
}

// RFC 5508 REQ-3: an error whose ICMP checksum fails is dropped, not translated (an
// incremental update would otherwise pass the damage on looking deliberate). Errors
// are small and rare, so the full computation costs nothing that matters.
bool icmp_checksum_valid(const PacketView& outer) {
    return internet_checksum({outer.l4, outer.l4_length}) == 0;
}

void update_icmp_checksum(PacketView& outer, const ChecksumDelta& changed) {
    outer.icmp->checksum.set(changed.apply_to_checksum(outer.icmp->checksum.get()));
}

}  // namespace

// From the WAN, about a datagram we sent out: the quoted source is our WAN endpoint.
TranslationResult Translator::inbound_icmp_error(PacketView& outer, Instant now) {
    // Errors fit in 576 bytes (RFC 1812 4.3.2.3); a fragmented one is not worth reassembling.
    if (outer.is_fragment()) return dropped(DropReason::malformed_icmp_error);
    if (!icmp_checksum_valid(outer)) return dropped(DropReason::bad_icmp_error_checksum);
    ParseResult quoted = parse_quoted(outer);
    if (!quoted.ok() || !quotes_translatable_datagram(quoted.view, wire::IcmpHeader::echo_request))
        return dropped(DropReason::malformed_icmp_error);
    PacketView& q = quoted.view;
    // About a datagram that did not leave with our address: no flow of ours.
    if (q.ip->source() != config_.wan_address) return dropped(DropReason::no_mapping_for_icmp_error);
    Port external;
    read_port(q, Side::source, external);
    // An error is not activity of the flow: no touch, so forged errors cannot keep a mapping alive.
    const Mapping* m = mappings_.find_by_external(Protocol(q.protocol), external, now);
    // Not a mapping: an error about the gateway's own traffic.
    if (!m) return delivered_locally();
    ChecksumDelta changed = rewrite_endpoint(q, Side::source, m->internal, L4Checksum::complete);
    update_icmp_checksum(outer, changed);
    rewrite_address(outer, Side::destination, m->internal.address);
    return forwarded_inbound(outer);
}

// From a LAN host, about a datagram the NAT delivered to it: the quoted destination
// is the host's internal endpoint, which must become our WAN endpoint again.
TranslationResult Translator::outbound_icmp_error(PacketView& outer, Instant now) {
    if (outer.is_fragment()) return dropped(DropReason::malformed_icmp_error);
    if (!icmp_checksum_valid(outer)) return dropped(DropReason::bad_icmp_error_checksum);
    ParseResult quoted = parse_quoted(outer);
    if (!quoted.ok() || !quotes_translatable_datagram(quoted.view, wire::IcmpHeader::echo_reply))
        return dropped(DropReason::malformed_icmp_error);
    PacketView& q = quoted.view;
    // A host may only complain about what it received, or it could probe (or tear
    // down, via PMTU) another host's flows.
    if (q.ip->destination() != outer.ip->source()) return dropped(DropReason::icmp_error_for_other_host);
    Port internal_port;
    read_port(q, Side::destination, internal_port);
    const Mapping* m = mappings_.find_by_internal(Protocol(q.protocol), {q.ip->destination(), internal_port}, now);
    if (!m) return dropped(DropReason::no_mapping_for_icmp_error);
    ChecksumDelta changed = rewrite_endpoint(q, Side::destination, {config_.wan_address, m->external},
                                             L4Checksum::complete);
    update_icmp_checksum(outer, changed);
    rewrite_address(outer, Side::source, config_.wan_address);
    return forwarded_outbound(outer);
}

}  // namespace gw

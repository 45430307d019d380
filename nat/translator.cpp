#include "translator.hpp"

#include "tcp_timeout.hpp"

namespace gw {
namespace {

bool is_icmp_error_type(std::uint8_t type) {
    // RFC 5508 REQ-3: these errors, received for a translated flow, are translated.
    return type == wire::IcmpHeader::destination_unreachable || type == wire::IcmpHeader::time_exceeded ||
           type == wire::IcmpHeader::parameter_problem;
}

FragmentKey fragment_key_of(const PacketView& p) {
    return FragmentKey{p.ip->source(), p.ip->destination(), p.protocol, p.ip->identification()};
}

}  // namespace

Translator::Translator(const NatConfig& config) : config_(config), mappings_(config) {}

TranslationResult Translator::translate_outbound(std::span<std::uint8_t> buffer, L4Checksum state,
                                                 Instant now) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    if (!parsed.ok()) return dropped(parsed.reason);
    PacketView& p = parsed.view;
    // A LAN host must not appear as the gateway itself.
    if (p.ip->source() == config_.wan_address) return dropped(DropReason::source_is_gateway);
    // Later fragments carry no ports; the address is the same for every mapping, so
    // they are translated without one (and so never leave with a LAN address).
    if (p.is_later_fragment()) {
        rewrite_address(p, Side::source, config_.wan_address);
        return forwarded_outbound(p);
    }
    switch (Protocol(p.protocol)) {
        case Protocol::tcp:
        case Protocol::udp: return outbound_transport(p, state, now);
        case Protocol::icmp: return outbound_icmp(p, now);
    }
    return dropped(DropReason::unsupported_protocol);
}

TranslationResult Translator::outbound_transport(PacketView& p, L4Checksum state, Instant now) {
    auto protocol = Protocol(p.protocol);
    Port internal_port;
    read_port(p, Side::source, internal_port);
    InsertResult inserted = mappings_.find_or_insert(protocol, {p.ip->source(), internal_port}, now);
    if (!inserted.mapping) return dropped(inserted.reason);
    if (inserted.created) ++counters_.mappings_created;
    Mapping& m = *inserted.mapping;
    TimeoutClass timeout = protocol == Protocol::tcp ? tcp_timeout_after(m.tcp, p.tcp->flags, Direction::outbound)
                                                     : TimeoutClass::udp;
    mappings_.touch(m, timeout, now);
    rewrite_endpoint(p, Side::source, {config_.wan_address, m.external}, state);
    return forwarded_outbound(p);
}

TranslationResult Translator::outbound_icmp(PacketView& p, Instant now) {
    if (is_icmp_error_type(p.icmp->type)) return outbound_icmp_error(p, now);
    // Only queries the LAN starts can be mapped; an echo reply from the LAN would
    // answer a request no mapping ever let in.
    if (p.icmp->type != wire::IcmpHeader::echo_request) return dropped(DropReason::unsupported_icmp_type);
    Port identifier;
    read_port(p, Side::source, identifier);
    InsertResult inserted = mappings_.find_or_insert(Protocol::icmp, {p.ip->source(), identifier}, now);
    if (!inserted.mapping) return dropped(inserted.reason);
    if (inserted.created) ++counters_.mappings_created;
    mappings_.touch(*inserted.mapping, TimeoutClass::icmp, now);
    rewrite_endpoint(p, Side::source, {config_.wan_address, inserted.mapping->external}, L4Checksum::complete);
    return forwarded_outbound(p);
}

TranslationResult Translator::translate_inbound(std::span<std::uint8_t> buffer, L4Checksum state,
                                                Instant now) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    if (!parsed.ok()) return dropped(parsed.reason);
    PacketView& p = parsed.view;
    // Only the WAN address is ours to translate; anything else arriving on the WAN
    // (LAN addresses included) is someone trying to route through us.
    if (p.ip->destination() != config_.wan_address) return dropped(DropReason::not_addressed_to_gateway);
    if (p.is_later_fragment()) return inbound_later_fragment(p, now);
    switch (Protocol(p.protocol)) {
        case Protocol::tcp:
        case Protocol::udp: return inbound_transport(p, state, now);
        case Protocol::icmp:
            if (is_icmp_error_type(p.icmp->type)) return inbound_icmp_error(p, now);
            if (p.icmp->type == wire::IcmpHeader::echo_reply) return inbound_transport(p, state, now);
            return delivered_locally();  // echo requests and the rest are for the gateway
    }
    return delivered_locally();
}

TranslationResult Translator::inbound_transport(PacketView& p, L4Checksum state, Instant now) {
    auto protocol = Protocol(p.protocol);
    Port external;
    read_port(p, Side::destination, external);
    Mapping* m = mappings_.find_by_external(protocol, external, now);
    // Not a mapping: the gateway's own traffic, or nothing; never the LAN.
    if (!m) return delivered_locally();
    TimeoutClass timeout = protocol == Protocol::tcp    ? tcp_timeout_after(m->tcp, p.tcp->flags, Direction::inbound)
                           : protocol == Protocol::udp ? TimeoutClass::udp
                                                       : TimeoutClass::icmp;
    mappings_.touch(*m, timeout, now);
    if (p.is_first_fragment()) fragments_.remember(fragment_key_of(p), m->internal.address, now);
    rewrite_endpoint(p, Side::destination, m->internal, state);
    return forwarded_inbound(p);
}

TranslationResult Translator::inbound_later_fragment(PacketView& p, Instant now) {
    auto internal = fragments_.find(fragment_key_of(p), now);
    // Without its first fragment we cannot know the LAN host: the gateway's own stack
    // gets it (and discards it when reassembly times out). It never reaches the LAN.
    if (!internal) return delivered_locally();
    rewrite_address(p, Side::destination, *internal);
    return forwarded_inbound(p);
}

std::size_t Translator::expire_idle(Instant now) noexcept { return mappings_.expire_idle(now); }

TranslatorCounters Translator::counters() const {
    TranslatorCounters snapshot = counters_;
    snapshot.mappings_expired = mappings_.expired_total();
    return snapshot;
}

TranslationResult Translator::forwarded_outbound(const PacketView& p) {
    ++counters_.outbound_packets;
    counters_.outbound_bytes += p.datagram.size();
    return {Verdict::forward, DropReason::none};
}

TranslationResult Translator::forwarded_inbound(const PacketView& p) {
    ++counters_.inbound_packets;
    counters_.inbound_bytes += p.datagram.size();
    return {Verdict::forward, DropReason::none};
}

TranslationResult Translator::delivered_locally() {
    ++counters_.local_packets;
    return {Verdict::deliver_locally, DropReason::none};
}

TranslationResult Translator::dropped(DropReason reason) {
    counters_.drops.count(reason);
    return {Verdict::drop, reason};
}

}  // namespace gw

// ICMPv6 through the IPv6 firewall, as RFC 4890 §4.3 recommends for transit traffic:
//
//   §4.3.1 must not be dropped: Destination Unreachable (1, all codes), Packet Too Big
//     (2), Time Exceeded (3) code 0, Parameter Problem (4) codes 1 and 2 — here when the
//     datagram they quote belongs to a tracked flow (a stateful firewall's reading:
//     errors about nothing we forwarded are scans); Echo Request (128) / Reply (129) as
//     flows the LAN starts, an inbound Echo Request as firewall.ipv6.inbound_echo_request says.
//   §4.3.2 normally not dropped (Time Exceeded code 1, Parameter Problem code 0, Mobile
//     IPv6 144-147): dropped here — no reassembly happens on the path, and no Mobile IPv6.
//   §4.3.3 link-scope (router and neighbour discovery, redirects, MLD, SEND, multicast
//     router discovery): never forwarded, whatever the addresses say.
//   §4.3.4 / §4.3.5 unallocated, experimental, node information, router renumbering:
//     dropped.
#include "firewall/ipv6_firewall.hpp"

namespace gw {
namespace {

namespace proto = ipv6_protocol;

namespace type {
inline constexpr std::uint8_t destination_unreachable = 1, packet_too_big = 2, time_exceeded = 3,
                              parameter_problem = 4, echo_request = 128, echo_reply = 129;
}

// RFC 4890 §4.3.3: meaningful on one link only.
bool is_link_scope_type(std::uint8_t t) noexcept {
    switch (t) {
        case 130: case 131: case 132:  // MLD query, report, done
        case 133: case 134: case 135: case 136: case 137:  // RS, RA, NS, NA, redirect
        case 141: case 142:  // inverse neighbour discovery
        case 143:  // MLDv2 report
        case 148: case 149:  // SEND certification path
        case 151: case 152: case 153:  // multicast router discovery
            return true;
        default: return false;
    }
}

enum class ErrorKind { forwarded_if_tracked, filtered, not_an_error };

ErrorKind error_kind(std::uint8_t t, std::uint8_t code) noexcept {
    switch (t) {
        case type::destination_unreachable:
        case type::packet_too_big: return ErrorKind::forwarded_if_tracked;
        case type::time_exceeded: return code == 0 ? ErrorKind::forwarded_if_tracked : ErrorKind::filtered;
        case type::parameter_problem:
            return code == 1 || code == 2 ? ErrorKind::forwarded_if_tracked : ErrorKind::filtered;
        default: return t < 128 ? ErrorKind::filtered : ErrorKind::not_an_error;  // RFC 4443 §2.1: 0-127 are errors
    }
}

}  // namespace

EngineResult Ipv6Firewall::icmpv6_error(const Ipv6PacketView& v, bool quoted_from_lan, Instant now) {
    // RFC 4443 §2.1: the invoking packet follows the 8-byte ICMPv6 header.
    if (v.upper_layer.size() < 8) return dropped(DropReason::malformed_icmp_error);
    Ipv6Parse quoted = parse_quoted_ipv6(v.upper_layer.subspan(8));
    if (!quoted.view) return dropped(DropReason::malformed_icmp_error);
    const Ipv6PacketView& inner = *quoted.view;
    // The error goes back to whoever sent the quoted packet; anything else is forged.
    if (inner.source != v.destination) return dropped(DropReason::icmpv6_error_without_flow);
    // A quoted echo reply or error has no flow of its own: only a request starts one.
    if (inner.protocol == proto::icmpv6 && inner.icmp_type != type::echo_request)
        return dropped(DropReason::icmpv6_error_without_flow);
    Ipv6FlowKey key = ipv6_flow_key(inner, quoted_from_lan);
    // Errors do not refresh the flow: a stream of them must not keep a dead flow alive.
    if (!flows_.find(key, now)) return dropped(DropReason::icmpv6_error_without_flow);
    // Port unreachable and an unrecognised next header are the destination host's own
    // words (RFC 4443 §3.1, §3.4; as IPv4's port and protocol unreachable): from anyone
    // else they would close a socket from afar (RFC 5927 §5.2, issue 14 item 9).
    constexpr std::uint8_t port_unreachable = 4, unrecognized_next_header = 1;
    const bool end_host_error = (v.icmp_type == type::destination_unreachable && v.icmp_code == port_unreachable) ||
                                (v.icmp_type == type::parameter_problem && v.icmp_code == unrecognized_next_header);
    if (end_host_error && v.source != inner.destination) return dropped(DropReason::icmp_unreachable_not_from_remote);
    return forwarded();
}

EngineResult Ipv6Firewall::outbound_icmpv6(const Ipv6PacketView& v, RuleTable& rules, Instant now) {
    if (is_link_scope_type(v.icmp_type)) return dropped(DropReason::icmpv6_link_scope_type);
    switch (error_kind(v.icmp_type, v.icmp_code)) {
        case ErrorKind::forwarded_if_tracked: return icmpv6_error(v, false, now);  // about a WAN packet to the LAN
        case ErrorKind::filtered: return dropped(DropReason::icmpv6_type_filtered);
        case ErrorKind::not_an_error: break;
    }
    Ipv6FlowKey key = ipv6_flow_key(v, true);
    Ipv6Flow* flow = flows_.find(key, now);
    if (v.icmp_type == type::echo_request)
        return flow ? continue_flow(*flow, v, true, now) : outbound_new(v, key, rules, now, true);
    if (v.icmp_type == type::echo_reply) {
        if (flow) return continue_flow(*flow, v, true, now);
        // Answering a request no flow let in: the outbound rules decide, no flow starts.
        return outbound_new(v, key, rules, now, false);
    }
    return dropped(DropReason::icmpv6_type_filtered);
}

EngineResult Ipv6Firewall::inbound_icmpv6(const Ipv6PacketView& v, RuleTable& rules, Instant now) {
    if (is_link_scope_type(v.icmp_type)) return dropped(DropReason::icmpv6_link_scope_type);
    switch (error_kind(v.icmp_type, v.icmp_code)) {
        case ErrorKind::forwarded_if_tracked: return icmpv6_error(v, true, now);  // about a LAN packet to the WAN
        case ErrorKind::filtered: return dropped(DropReason::icmpv6_type_filtered);
        case ErrorKind::not_an_error: break;
    }
    Ipv6FlowKey key = ipv6_flow_key(v, false);
    Ipv6Flow* flow = flows_.find(key, now);
    if (v.icmp_type == type::echo_reply) {
        if (flow) return continue_flow(*flow, v, false, now);
        return inbound_new(v, key, rules, now, false);  // unsolicited: the inbound rules and policy
    }
    if (v.icmp_type == type::echo_request) {
        if (flow) return continue_flow(*flow, v, false, now);
        switch (config_.inbound_echo_request) {
            case InboundEchoRequest::accept: return start_flow(v, key, Ipv6FlowOrigin::wan, 0, nullptr, now);
            case InboundEchoRequest::drop: return dropped(DropReason::icmpv6_type_filtered);
            case InboundEchoRequest::policy: return inbound_new(v, key, rules, now, true);
        }
    }
    return dropped(DropReason::icmpv6_type_filtered);
}

}  // namespace gw

namespace gw {

// To the gateway itself (RFC 4890 §4.4): link-scope messages and errors about its own
// flows are what it needs to work; echo follows the input rules and policy, as IPv4's does.
EngineResult Ipv6Firewall::input_icmpv6(const Ipv6PacketView& v, bool from_lan, RuleTable& rules, Instant now) {
    if (is_link_scope_type(v.icmp_type)) return delivered();
    if (v.icmp_type < 128) {
        // Every code: Time Exceeded in reassembly and a Parameter Problem's erroneous
        // header field are about the gateway's own packets here (§4.4.1).
        if (v.icmp_type > type::parameter_problem) return dropped(DropReason::icmpv6_type_filtered);
        EngineResult result = icmpv6_error(v, true, now);
        return result.verdict == Verdict::forward ? delivered() : result;
    }
    Ipv6FlowKey key = ipv6_flow_key(v, false);
    Ipv6Flow* flow = flows_.find(key, now);
    if (v.icmp_type == type::echo_request || v.icmp_type == type::echo_reply) {
        if (flow) {
            EngineResult result = continue_flow(*flow, v, false, now);
            return result.verdict == Verdict::forward ? delivered() : result;
        }
        // An unanswered echo reply starts nothing; a request's flow lets its reply out tracked.
        return input_new(v, from_lan, Ipv6LanServices{}, rules, now,
                         v.icmp_type == type::echo_request && !v.destination.is_multicast());
    }
    return dropped(DropReason::icmpv6_type_filtered);
}

}  // namespace gw

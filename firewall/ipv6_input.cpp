// The gateway's own IPv6 (issue 13): what comes to its addresses obeys the input rules and
// policy as IPv4's does (engine_local.cpp), whether or not IPv6 is forwarded; what it
// sends is tracked in the one IPv6 flow table, so that its replies come back in.
//
// Let in whatever the policy says, because the gateway cannot work without them:
//   - ICMPv6 link-scope messages (neighbour and router discovery, MLD; RFC 4890 §4.4.1),
//     which the kernel validates itself (hop limit 255, link-local sources);
//   - ICMPv6 errors quoting one of the gateway's own flows (§4.4.1: Destination
//     Unreachable, Packet Too Big, Time Exceeded, Parameter Problem), ipv6_icmp.cpp;
//   - DHCPv6 replies to its client (UDP 547 -> 546 on a link-local address, RFC 8415
//     §7.2): the request went to a multicast group, so no flow can match the answer.
#include "firewall/ipv6_firewall.hpp"

namespace gw {
namespace {

namespace proto = ipv6_protocol;

constexpr std::uint16_t dhcpv6_server_port = 547, dhcpv6_client_port = 546, ssdp_port = 1900;

bool is_dhcpv6_reply_to_client(const Ipv6PacketView& v) noexcept {
    return v.protocol == proto::udp && v.has_ports && v.source_port == dhcpv6_server_port &&
           v.destination_port == dhcpv6_client_port && v.destination.is_link_local();
}

bool is_lan_service(const Ipv6PacketView& v, const Ipv6LanServices& services) noexcept {
    if (!services.upnp_http_port || !v.has_ports) return false;
    if (v.protocol == proto::udp) return v.destination_port == ssdp_port;
    return v.protocol == proto::tcp && v.destination_port == *services.upnp_http_port;
}

}  // namespace

EngineResult Ipv6Firewall::judge_input(std::span<const std::uint8_t> packet, bool from_lan,
                                       const Ipv6LanServices& lan_services, RuleTable& rules, Instant now,
                                       L4Checksum state) noexcept {
    Ipv6Parse parsed = parse_ipv6(packet);
    if (!parsed.view) return dropped(parsed.reason);
    const Ipv6PacketView& v = *parsed.view;
    // BCP 38 in reverse, as for forwarding: the LAN's own prefix cannot come from outside.
    if (!from_lan && inside_lan(v.source)) return dropped(DropReason::martian_wan_source);
    if (v.fragment && v.fragment->is_later()) return later_fragment(v, true, now);
    const bool first_fragment = v.fragment && !v.fragment->is_atomic();
    if (first_fragment)
        if (DropReason reason = fragments_.check_first(fragment_piece(v), now); reason != DropReason::none)
            return dropped(reason);
    if (tcp_checksum_fails(v, state)) return dropped(DropReason::bad_tcp_checksum);
    EngineResult result;
    if (v.protocol == proto::icmpv6) {
        result = input_icmpv6(v, from_lan, rules, now);
    } else if (is_dhcpv6_reply_to_client(v)) {
        result = delivered();
    } else {
        Ipv6FlowKey key = ipv6_flow_key(v, false);
        Ipv6Flow* flow = flows_.find(key, now);
        if (flow) {
            result = continue_flow(*flow, v, false, now);
            if (result.verdict == Verdict::forward) result = delivered();
        } else {
            // A multicast destination has no single end to answer from: judged, not tracked.
            const bool has_replies = (v.protocol == proto::tcp || v.protocol == proto::udp) && v.has_ports &&
                                     !v.destination.is_multicast();
            result = input_new(v, from_lan, lan_services, rules, now, has_replies);
        }
    }
    if (first_fragment && result.verdict == Verdict::deliver_locally)
        remember_first_fragment(v, packet, false, true, now);
    return result;
}

EngineResult Ipv6Firewall::input_new(const Ipv6PacketView& v, bool from_lan, const Ipv6LanServices& lan_services,
                                     RuleTable& rules, Instant now, bool creates_flow) {
    PacketFacts facts = facts_of(v, RuleDirection::input);
    // Any interface but the LAN's is outside, as the IPv4 input path reads it.
    facts.arrival_interface = from_lan ? lan_interface_ : wan_interface_;
    RuleDecision decision = rules.decide(facts, now);
    if (!decision.rule && from_lan && is_lan_service(v, lan_services)) decision.action = RuleAction::accept;
    if (decision.action != RuleAction::accept) return refused_by(decision);
    EngineResult result{Verdict::deliver_locally, DropReason::none, decision.rule, decision.log};
    if (!creates_flow) return result;
    // A flood to a port an input rule opens is held like any other (flow_table_core.hpp):
    // its unanswered exchanges are embryonic, capped and evicted first, so the gateway's
    // own connections always find room. One the table has no room for is delivered
    // untracked, as IPv4's input is: admission is the rules' anyway, and the gateway's
    // answer starts a flow of its own (track_local_output).
    EngineResult started = start_flow(v, ipv6_flow_key(v, false), Ipv6FlowOrigin::to_gateway, 0, decision.rule, now);
    if (started.verdict != Verdict::forward) {
        if (started.reason == DropReason::invalid_tcp) return started;
        ++counters_.inbound_exchanges_untracked;
    }
    return result;
}

EngineResult Ipv6Firewall::track_local_output(std::span<const std::uint8_t> packet, Instant now) noexcept {
    Ipv6Parse parsed = parse_ipv6(packet);
    if (!parsed.view) return delivered();
    const Ipv6PacketView& v = *parsed.view;
    // Nothing answers from a multicast group (neighbour discovery, MLD, SSDP, DHCPv6
    // solicits): a flow for them would only hold a slot.
    if (v.destination.is_multicast() || (v.fragment && v.fragment->is_later()) || !v.has_ports) return delivered();
    const bool echo_request = v.protocol == proto::icmpv6 && v.icmp_type == 128;
    if (v.protocol != proto::tcp && v.protocol != proto::udp && !echo_request) return delivered();
    Ipv6FlowKey key = ipv6_flow_key(v, true);
    if (Ipv6Flow* flow = flows_.find(key, now)) {
        continue_flow(*flow, v, true, now);  // a segment the tracker refuses still leaves: the kernel's business
        return delivered();
    }
    start_flow(v, key, Ipv6FlowOrigin::gateway, 0, nullptr, now);  // a FIN or RST starts nothing; full: untracked
    return delivered();
}

}  // namespace gw

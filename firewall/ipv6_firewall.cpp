#include "firewall/ipv6_firewall.hpp"

#include <algorithm>
#include <chrono>

namespace gw {
namespace {

namespace proto = ipv6_protocol;

// The gateway's own IPv6 flows when nothing is forwarded: a router's own connections
// (DNS, NTP, ssh in) are few; past this a new one of its own goes untracked (its replies
// then meet the input policy), a remote's is refused (ipv6_flow_table_full).
constexpr std::uint32_t local_only_flows = 4096;

// Linux's ipfrag_time, as the IPv4 fragment table uses.
constexpr Instant fragment_lifetime = std::chrono::seconds(30);

bool is_link_scope(const Ipv6Address& a) noexcept {
    return a.is_link_local() || a.is_multicast() || a.is_unspecified();
}

}  // namespace

Ipv6FlowKey ipv6_flow_key(const Ipv6PacketView& v, bool from_lan) noexcept {
    Ipv6FlowKey key;
    key.protocol = v.protocol;
    if (!v.has_ports) {
        key.lan_address = from_lan ? v.source : v.destination;
        key.remote_address = from_lan ? v.destination : v.source;
        return key;
    }
    const bool echo = v.protocol == proto::icmpv6;  // identifier in source_port, nothing for the remote
    key.lan_address = from_lan ? v.source : v.destination;
    key.remote_address = from_lan ? v.destination : v.source;
    if (echo) {
        key.lan_port = v.source_port;
    } else {
        key.lan_port = from_lan ? v.source_port : v.destination_port;
        key.remote_port = from_lan ? v.destination_port : v.source_port;
    }
    return key;
}

Ipv6Firewall::Ipv6Firewall(const Ipv6FirewallConfig& config, const NatTimeouts& timeouts, std::string lan_interface,
                           std::string wan_interface)
    : config_(config),
      timeouts_(timeouts),
      lan_interface_(std::move(lan_interface)),
      wan_interface_(std::move(wan_interface)),
      // Without LAN prefixes nothing is forwarded and the table holds only the gateway's
      // own flows (its input is judged whatever lan.ipv6_networks says, issue 13).
      flows_(config.enabled() ? std::max<std::uint32_t>(config.max_flows, 1) : local_only_flows) {}

bool Ipv6Firewall::inside_lan(const Ipv6Address& a) const noexcept {
    return std::any_of(config_.lan_networks.begin(), config_.lan_networks.end(),
                       [&](const Ipv6Network& n) { return n.contains(a); });
}

DropReason Ipv6Firewall::address_problem(const Ipv6PacketView& v, bool from_lan) const noexcept {
    // RFC 4291 §2.5.6: link-local addresses are never forwarded; multicast forwarding is
    // not ours to do (no multicast routing), and :: is no source a router passes on.
    if (is_link_scope(v.source) || is_link_scope(v.destination)) return DropReason::ipv6_link_scope_address;
    if (from_lan) return inside_lan(v.source) ? DropReason::none : DropReason::spoofed_lan_source;
    if (inside_lan(v.source)) return DropReason::martian_wan_source;  // BCP 38 in reverse: our prefix from outside
    if (!inside_lan(v.destination)) return DropReason::ipv6_destination_outside_lan;
    return DropReason::none;
}

PacketFacts Ipv6Firewall::facts_of(const Ipv6PacketView& v, RuleDirection direction) const noexcept {
    PacketFacts f;
    f.direction = direction;
    f.protocol = v.protocol;
    f.ipv6 = true;
    f.ipv6_source = v.source;
    f.ipv6_destination = v.destination;
    f.has_ports = v.has_ports && v.protocol != proto::icmpv6;
    f.source_port = Port{v.source_port};
    f.destination_port = Port{v.destination_port};
    // ICMP type conditions are IPv4's (protocol icmp): an ICMPv6 type never matches one.
    f.arrival_interface = direction == RuleDirection::outbound ? lan_interface_ : wan_interface_;
    return f;
}

Instant Ipv6Firewall::timeout_of(const Ipv6Flow& flow) const noexcept {
    std::uint32_t seconds = timeouts_.udp;
    if (flow.key.protocol == proto::tcp)
        // RFC 5382 REQ-5: only an established connection earns the long timeout.
        seconds = flow.tcp.timeout_class() == TcpTimeoutClass::established ? timeouts_.tcp_established
                                                                            : timeouts_.tcp_transitory;
    else if (flow.key.protocol == proto::icmpv6)
        seconds = timeouts_.icmp;
    return std::chrono::seconds(seconds);
}

void Ipv6Firewall::remember_first_fragment(const Ipv6PacketView& v, Instant now) noexcept {
    if (!v.fragment || v.fragment->is_atomic()) return;
    fragments_[next_fragment_] = {v.source, v.destination, v.fragment->identification, now + fragment_lifetime};
    next_fragment_ = (next_fragment_ + 1) % fragments_.size();
}

bool Ipv6Firewall::follows_first_fragment(const Ipv6PacketView& v, Instant now) const noexcept {
    return std::any_of(fragments_.begin(), fragments_.end(), [&](const FirstFragment& f) {
        return f.expires > now && f.identification == v.fragment->identification && f.source == v.source &&
               f.destination == v.destination;
    });
}

EngineResult Ipv6Firewall::judge_outbound(std::span<const std::uint8_t> packet, RuleTable& rules, Instant now) noexcept {
    Ipv6Parse parsed = parse_ipv6(packet);
    if (!parsed.view) return dropped(parsed.reason);
    const Ipv6PacketView& v = *parsed.view;
    if (DropReason problem = address_problem(v, true); problem != DropReason::none) return dropped(problem);
    EngineResult result;
    if (v.fragment && v.fragment->is_later()) {
        result = follows_first_fragment(v, now) ? forwarded() : dropped(DropReason::fragment_without_first);
    } else if (v.protocol == proto::icmpv6) {
        result = outbound_icmpv6(v, rules, now);
    } else {
        Ipv6FlowKey key = ipv6_flow_key(v, true);
        Ipv6Flow* flow = flows_.find(key, now);
        result = flow ? continue_flow(*flow, v, true, now) : outbound_new(v, key, rules, now, true);
        if (result.verdict == Verdict::forward) remember_first_fragment(v, now);
    }
    if (result.verdict == Verdict::forward) ++counters_.outbound_packets;
    return result;
}

EngineResult Ipv6Firewall::judge_inbound(std::span<const std::uint8_t> packet, RuleTable& rules, Instant now) noexcept {
    Ipv6Parse parsed = parse_ipv6(packet);
    if (!parsed.view) return dropped(parsed.reason);
    const Ipv6PacketView& v = *parsed.view;
    if (DropReason problem = address_problem(v, false); problem != DropReason::none) return dropped(problem);
    EngineResult result;
    if (v.fragment && v.fragment->is_later()) {
        result = follows_first_fragment(v, now) ? forwarded() : dropped(DropReason::fragment_without_first);
    } else if (v.protocol == proto::icmpv6) {
        result = inbound_icmpv6(v, rules, now);
    } else {
        Ipv6FlowKey key = ipv6_flow_key(v, false);
        Ipv6Flow* flow = flows_.find(key, now);
        result = flow ? continue_flow(*flow, v, false, now) : inbound_new(v, key, rules, now, true);
        if (result.verdict == Verdict::forward) remember_first_fragment(v, now);
    }
    if (result.verdict == Verdict::forward) ++counters_.inbound_packets;
    return result;
}

EngineResult Ipv6Firewall::refused_by(const RuleDecision& decision) {
    EngineResult result =
        dropped(decision.rule ? DropReason::denied_by_rule : DropReason::denied_by_policy, decision.rule, decision.log);
    if (decision.action == RuleAction::reject) result.verdict = Verdict::reject;  // answered by build_ipv6_reject
    return result;
}

EngineResult Ipv6Firewall::outbound_new(const Ipv6PacketView& v, const Ipv6FlowKey& key, RuleTable& rules, Instant now,
                                        bool creates_flow) {
    RuleDecision decision = rules.decide(facts_of(v, RuleDirection::outbound), now);
    if (decision.action != RuleAction::accept) return refused_by(decision);
    if (!creates_flow) return {Verdict::forward, DropReason::none, decision.rule, decision.log};
    return start_flow(v, key, Ipv6FlowOrigin::lan, 0, decision.rule, now);
}

EngineResult Ipv6Firewall::inbound_new(const Ipv6PacketView& v, const Ipv6FlowKey& key, RuleTable& rules, Instant now,
                                       bool creates_flow) {
    RuleDecision decision = rules.decide(facts_of(v, RuleDirection::inbound), now);
    std::uint16_t pinhole = 0;
    // An explicit rule decides before any pinhole: the operator's drop rule wins over a
    // UPnP client's opening. With no rule matching, a pinhole comes before the policy.
    if (!decision.rule) {
        PinholeProbe probe{v.protocol, v.source, v.destination, v.has_ports && v.protocol != proto::icmpv6,
                           v.source_port, v.destination_port};
        pinhole = pinholes_.match(probe);
        if (pinhole != 0) decision.action = RuleAction::accept;
    }
    if (decision.action != RuleAction::accept) return refused_by(decision);
    if (pinhole != 0) pinholes_.count_packet(pinhole);
    if (!creates_flow) return {Verdict::forward, DropReason::none, decision.rule, decision.log};
    EngineResult result = start_flow(v, key, Ipv6FlowOrigin::wan, pinhole, decision.rule, now);
    if (result.verdict == Verdict::forward && pinhole != 0) ++counters_.pinhole_flows;
    return result;
}

EngineResult Ipv6Firewall::start_flow(const Ipv6PacketView& v, const Ipv6FlowKey& key, Ipv6FlowOrigin origin,
                                      std::uint16_t pinhole, const FirewallRule* rule, Instant now) {
    Ipv6Flow flow;
    flow.key = key;
    flow.origin = origin;
    flow.pinhole = pinhole;
    if (v.protocol == proto::tcp) {
        std::optional<TcpSegment> segment =
            tcp_segment_from(*reinterpret_cast<const wire::TcpHeader*>(v.upper_layer.data()), v.upper_layer.size());
        // A LAN host's established connection survives a restart of the daemon (netfilter's
        // pickup); a WAN host must open with a SYN.
        // The gateway's own connections are picked up too, as the IPv4 engine's are.
        TcpPickup pickup = origin == Ipv6FlowOrigin::wan ? TcpPickup::refuse : TcpPickup::allow;
        std::optional<TcpTracker> tracker = segment ? TcpTracker::start(*segment, pickup) : std::nullopt;
        if (!tracker) return dropped(DropReason::invalid_tcp, rule);
        flow.tcp = *tracker;
    }
    flow.last_activity = now;
    flow.packets = 1;
    flow.expires = now + timeout_of(flow);
    if (!flows_.insert(flow, now)) return dropped(DropReason::ipv6_flow_table_full, rule);
    ++counters_.flows_created;
    return {Verdict::forward, DropReason::none, rule, rule && rule->log};
}

EngineResult Ipv6Firewall::continue_flow(Ipv6Flow& flow, const Ipv6PacketView& v, bool from_lan, Instant now) {
    const bool near_end_started = flow.origin == Ipv6FlowOrigin::lan || flow.origin == Ipv6FlowOrigin::gateway;
    const bool from_originator = from_lan == near_end_started;
    if (v.protocol == proto::tcp) {
        std::optional<TcpSegment> segment =
            tcp_segment_from(*reinterpret_cast<const wire::TcpHeader*>(v.upper_layer.data()), v.upper_layer.size());
        if (!segment) return dropped(DropReason::invalid_tcp);
        auto direction = from_originator ? FlowDirection::original : FlowDirection::reply;
        if (flow.tcp.track(direction, *segment) != TcpJudgement::accept) return dropped(DropReason::invalid_tcp);
    }
    if (!from_originator) flow.reply_seen = true;
    if (!from_lan && flow.pinhole != 0) pinholes_.count_packet(flow.pinhole);
    ++flow.packets;
    flow.last_activity = now;
    flow.expires = now + timeout_of(flow);
    return forwarded();
}

bool Ipv6Firewall::open_pinhole(const Pinhole& pinhole) {
    std::optional<Pinhole> before;
    for (const auto& e : pinholes_.entries())
        if (e.pinhole.id == pinhole.id) before = e.pinhole;
    if (!pinholes_.open(pinhole)) return false;
    // A replaced pinhole that now matches something else shuts what it had let in.
    if (before && !(*before == pinhole))
        flows_.remove_if([&](const Ipv6Flow& f) { return f.pinhole == pinhole.id; });
    return true;
}

bool Ipv6Firewall::close_pinhole(std::uint16_t id) {
    if (!pinholes_.close(id)) return false;
    flows_.remove_if([&](const Ipv6Flow& f) { return f.pinhole == id; });
    return true;
}

}  // namespace gw

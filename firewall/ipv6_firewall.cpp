#include "firewall/ipv6_firewall.hpp"

#include <algorithm>

#include "nat/checksum.hpp"

namespace gw {
namespace {

namespace proto = ipv6_protocol;

// The gateway's own IPv6 flows when nothing is forwarded: a router's own connections
// (DNS, NTP, ssh in) are few; past this a new one of its own goes untracked (its replies
// then meet the input policy), as is a remote's admitted exchange (inbound_exchanges_untracked).
constexpr std::uint32_t local_only_flows = 4096;

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

Ipv6Firewall::Ipv6Firewall(const Ipv6FirewallConfig& config, const NatTimeouts& timeouts, const FlowLimits& limits,
                           std::string lan_interface, std::string wan_interface)
    : config_(config),
      lan_interface_(std::move(lan_interface)),
      wan_interface_(std::move(wan_interface)),
      // Without LAN prefixes nothing is forwarded and the table holds only the gateway's
      // own flows (its input is judged whatever lan.ipv6_networks says, issue 13).
      flows_(config.enabled() ? std::max<std::uint32_t>(config.max_flows, 1) : local_only_flows, timeouts, limits) {}

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
    f.length = std::uint32_t(v.length);
    f.has_ports = v.has_ports && v.protocol != proto::icmpv6;
    f.source_port = Port{v.source_port};
    f.destination_port = Port{v.destination_port};
    // ICMP type conditions are IPv4's (protocol icmp): an ICMPv6 type never matches one.
    f.arrival_interface = direction == RuleDirection::outbound ? lan_interface_ : wan_interface_;
    return f;
}

// As IPv4's (PacketEngine::tcp_checksum_fails): a segment that changes its connection's
// state (SYN, FIN, RST) must be the one its sender sent, or a corrupted or carelessly
// forged one would close or restart the flow for a packet its receiver then discards.
// Only those are summed, and only whole segments with a complete checksum.
bool Ipv6Firewall::tcp_checksum_fails(const Ipv6PacketView& v, L4Checksum state) noexcept {
    using H = wire::TcpHeader;
    if (v.protocol != proto::tcp || state != L4Checksum::complete || v.upper_layer.size() < sizeof(H)) return false;
    if (v.fragment && !v.fragment->is_atomic()) return false;
    if (!(v.upper_layer[13] & (H::syn | H::fin | H::rst))) return false;
    std::uint16_t pseudo = pseudo_header_sum(v.source, v.destination, proto::tcp, std::uint32_t(v.upper_layer.size()));
    return ChecksumDelta::fold(ones_complement_sum(v.upper_layer, pseudo)) != 0xffff;
}

Ipv6FragmentPiece Ipv6Firewall::fragment_piece(const Ipv6PacketView& v) noexcept {
    Ipv6FragmentPiece piece;
    piece.key = {v.source, v.destination, v.fragment->identification};
    piece.start = std::uint32_t(v.fragment->offset_units) * 8;
    piece.end = piece.start + v.fragment->data_length;
    piece.last = !v.fragment->more;
    piece.ip_header_length = v.fragment->header_offset - Ipv6PacketView::fixed_header_length;
    return piece;
}

// What a forwarded or delivered first fragment means for the rest of its datagram: where
// it went and, for a tracked TCP segment, its flow and the sequence number of the
// fragmentable part's byte 0, so that later fragments extend the tracked sequence space.
void Ipv6Firewall::remember_first_fragment(const Ipv6PacketView& v, std::span<const std::uint8_t> packet,
                                           bool from_lan, bool to_gateway, Instant now) noexcept {
    FirstFragmentVerdict verdict;
    verdict.to_gateway = to_gateway;
    if (v.protocol == proto::tcp) {
        if (const Ipv6Flow* flow = flows_.find(ipv6_flow_key(v, from_lan), now)) {
            const auto& tcp = *reinterpret_cast<const wire::TcpHeader*>(v.upper_layer.data());
            const bool near_end_started = flow->origin == Ipv6FlowOrigin::lan || flow->origin == Ipv6FlowOrigin::gateway;
            const auto fragmentable_start = std::size_t(v.fragment->header_offset) + 8;
            const auto tcp_at = std::size_t(v.upper_layer.data() - packet.data());
            verdict.flow = flows_.id_of(*flow);
            verdict.from_originator = from_lan == near_end_started;
            verdict.sequence_of_byte_0 =
                tcp.sequence.get() - std::uint32_t(tcp_at - fragmentable_start) - std::uint32_t(tcp.header_length());
        }
    }
    fragments_.remember_first(fragment_piece(v), verdict, now);
}

// A later fragment carries no ports: it follows its first fragment, on the path that
// took (forwarded, or delivered to the gateway), or is dropped and counted.
EngineResult Ipv6Firewall::later_fragment(const Ipv6PacketView& v, bool to_gateway, Instant now) noexcept {
    Ipv6FragmentPiece piece = fragment_piece(v);
    auto admitted = fragments_.admit_later(piece, now);
    if (admitted.reason != DropReason::none) return dropped(admitted.reason);
    if (admitted.verdict.to_gateway != to_gateway) return dropped(DropReason::fragment_without_first);
    if (admitted.verdict.flow != 0) {
        Ipv6Flow& flow = flows_.get(admitted.verdict.flow);
        if (flow.in_use && flow.key.protocol == proto::tcp) {  // else the flow ended meanwhile
            auto direction = admitted.verdict.from_originator ? FlowDirection::original : FlowDirection::reply;
            const std::uint32_t byte_0 = admitted.verdict.sequence_of_byte_0;
            if (!flow.tcp.take_fragment(direction, byte_0 + piece.start, byte_0 + piece.end))
                return dropped(DropReason::invalid_tcp);
        }
    }
    return to_gateway ? delivered() : forwarded();
}

// Every forwarded packet: parsed, its addresses checked, then a later fragment follows
// its first; anything else is judged by `judge_whole` (ICMPv6 or the flow path), and a
// first fragment that passes is remembered for the rest of its datagram.
template <class JudgeWhole>
EngineResult Ipv6Firewall::judge_forwarded(std::span<const std::uint8_t> packet, bool from_lan, L4Checksum state,
                                           Instant now, JudgeWhole&& judge_whole) noexcept {
    Ipv6Parse parsed = parse_ipv6(packet);
    if (!parsed.view) return dropped(parsed.reason);
    const Ipv6PacketView& v = *parsed.view;
    if (DropReason problem = address_problem(v, from_lan); problem != DropReason::none) return dropped(problem);
    if (v.fragment && v.fragment->is_later()) return later_fragment(v, false, now);
    const bool first_fragment = v.fragment && !v.fragment->is_atomic();
    if (first_fragment)
        if (DropReason reason = fragments_.check_first(fragment_piece(v), now); reason != DropReason::none)
            return dropped(reason);
    if (tcp_checksum_fails(v, state)) return dropped(DropReason::bad_tcp_checksum);
    EngineResult result = judge_whole(v);
    if (first_fragment && result.verdict == Verdict::forward) remember_first_fragment(v, packet, from_lan, false, now);
    return result;
}

EngineResult Ipv6Firewall::judge_outbound(std::span<const std::uint8_t> packet, RuleTable& rules, Instant now,
                                          L4Checksum state) noexcept {
    EngineResult result = judge_forwarded(packet, true, state, now, [&](const Ipv6PacketView& v) {
        if (v.protocol == proto::icmpv6) return outbound_icmpv6(v, rules, now);
        Ipv6FlowKey key = ipv6_flow_key(v, true);
        Ipv6Flow* flow = flows_.find(key, now);
        return flow ? continue_flow(*flow, v, true, now) : outbound_new(v, key, rules, now, true);
    });
    if (result.verdict == Verdict::forward) ++counters_.outbound_packets;
    return result;
}

EngineResult Ipv6Firewall::judge_inbound(std::span<const std::uint8_t> packet, RuleTable& rules, Instant now,
                                         L4Checksum state) noexcept {
    EngineResult result = judge_forwarded(packet, false, state, now, [&](const Ipv6PacketView& v) {
        if (v.protocol == proto::icmpv6) return inbound_icmpv6(v, rules, now);
        Ipv6FlowKey key = ipv6_flow_key(v, false);
        Ipv6Flow* flow = flows_.find(key, now);
        return flow ? continue_flow(*flow, v, false, now) : inbound_new(v, key, rules, now, true);
    });
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
    count_packet(flow, v.length);
    flow.timeout_class = ipv6_timeout_class(flow);
    // Reclaim first, as IPv4's new flows do: a host's count must not hold flows whose time is up.
    flows_.expire_idle(now);
    DropReason refusal;
    if (flows_.insert(flow, now, refusal) == 0) {
        // IPv4's reasons, but for the table's size, which has its own key (firewall.ipv6.max_flows).
        return dropped(refusal == DropReason::flow_table_full ? DropReason::ipv6_flow_table_full : refusal, rule);
    }
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
    count_packet(flow, v.length);
    flows_.touch(flow, ipv6_timeout_class(flow), now);
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

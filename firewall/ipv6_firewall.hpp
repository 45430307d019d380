// The IPv6 forwarding firewall (issue 8): no NAT, stateful, default-deny inbound.
//
//   outbound (LAN -> WAN, FORWARD -i lan -o wan): a flow the LAN host started goes on;
//     a new one is decided by the outbound rules and policy and then tracked.
//   inbound (WAN -> LAN, FORWARD -i wan -o lan): a packet of a tracked flow goes on; a
//     new one is let in by an inbound rule that accepts it, then by a pinhole (the
//     control plane's, pinhole_table.hpp), then by the inbound policy — drop by default.
//   ICMPv6 as RFC 4890 §4.3 recommends for transit traffic (ipv6_icmp.cpp).
//   Link-local, multicast and unspecified addresses are never forwarded.
//
// The rule table is the IPv4 engine's (rules with IPv6 networks, or none, apply here);
// the caller passes it with each packet, so that a reload reaches both. Timeouts are
// the NAT's (nat.timeouts): one set of RFC timeouts for every flow.
//
// Pure: no I/O, no clock (time comes in as `now`), no globals. Not thread safe: owned
// by PacketEngine, which the packet workers share under one lock.
//
// Fragments are followed as IPv4's are (nat/fragment_table.hpp, keyed by RFC 8200's
// reassembly key): a later fragment follows its forwarded first fragment, overlaps and
// malformed pieces are dropped; nothing is reassembled. The TCP checksum of segments that
// change a connection's state (SYN, FIN, RST) is verified, as for IPv4.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "firewall/engine_result.hpp"
#include "firewall/firewall_config.hpp"
#include "firewall/flow_snapshot.hpp"
#include "firewall/ipv6_flow_table.hpp"
#include "firewall/ipv6_packet_view.hpp"
#include "firewall/pinhole_table.hpp"
#include "firewall/rule_table.hpp"
#include "nat/endpoint_rewrite.hpp"
#include "nat/fragment_table.hpp"
#include "nat/nat_config.hpp"

namespace gw {

// The gateway's services open to the LAN (and only to it) over IPv6 unless a rule says
// otherwise: the UPnP IGD's HTTP port and SSDP (UDP 1900), as PacketEngine opens them over IPv4.
struct Ipv6LanServices {
    std::optional<std::uint16_t> upnp_http_port;
};

struct Ipv6FirewallCounters {
    std::uint64_t outbound_packets = 0, inbound_packets = 0;
    std::uint64_t flows_created = 0;
    std::uint64_t pinhole_flows = 0;  // flows a pinhole let in
    // Exchanges to the gateway the input rules admitted but the flow table had no room
    // for (the embryonic cap, nat.limits.embryonic_inbound): delivered untracked (ipv6_input.cpp).
    std::uint64_t inbound_exchanges_untracked = 0;
};

class Ipv6Firewall {
public:
    // The flow table's timeouts and limits are the NAT's (nat.timeouts, nat.limits): one
    // set for every flow of either family.
    Ipv6Firewall(const Ipv6FirewallConfig& config, const NatTimeouts& timeouts, const FlowLimits& limits,
                 std::string lan_interface, std::string wan_interface);

    // A LAN packet routed to the WAN / a WAN packet routed to the LAN. Verdict forward,
    // drop, or reject (a rule or policy said so: answer with build_ipv6_reject); the packet
    // is never changed.
    // `state`: whether the TCP checksum is finished (L4Checksum::complete) and can be verified.
    EngineResult judge_outbound(std::span<const std::uint8_t> packet, RuleTable& rules, Instant now,
                                L4Checksum state = L4Checksum::complete) noexcept;
    EngineResult judge_inbound(std::span<const std::uint8_t> packet, RuleTable& rules, Instant now,
                               L4Checksum state = L4Checksum::complete) noexcept;

    // The gateway's own IPv6 (issue 13; ipv6_input.cpp): a packet for one of its addresses
    // (INPUT, any interface but lo; `from_lan`: it arrived on the LAN interface) is
    // delivered when it belongs to a flow the gateway or an admitted remote started, or is
    // what the gateway needs (neighbour discovery, router advertisements, MLD, DHCPv6
    // replies, ICMPv6 errors about its own flows: RFC 4890 §4.4), else the input rules and
    // the input policy decide, as for IPv4 (`lan_services`: the LAN-only services open to
    // the LAN unless a rule says otherwise). Verdict deliver_locally, drop or reject.
    EngineResult judge_input(std::span<const std::uint8_t> packet, bool from_lan, const Ipv6LanServices& lan_services,
                             RuleTable& rules, Instant now, L4Checksum state = L4Checksum::complete) noexcept;
    // What the gateway sends (OUTPUT, any interface but lo): tracked so that the replies
    // pass the input policy. Always deliver_locally: its own packets are the kernel's business.
    EngineResult track_local_output(std::span<const std::uint8_t> packet, Instant now) noexcept;

    // Control plane, between batches. Opening an id already open replaces it; closing
    // also ends the flows it let in, so the path is shut at once.
    bool open_pinhole(const Pinhole& pinhole);
    bool close_pinhole(std::uint16_t id);
    // Packets the pinhole has let in (flows' first packets and every later inbound one);
    // nullopt for an id not open.
    std::optional<std::uint64_t> pinhole_packets(std::uint16_t id) const { return pinholes_.packets(id); }

    // Reload: the echo-request choice changes live; the networks and the table size are
    // the caller's to refuse (PacketEngine::reconfigure).
    void reconfigure(const Ipv6FirewallConfig& config) { config_.inbound_echo_request = config.inbound_echo_request; }
    // nat.timeouts changed (reload): the NAT's, shared by every flow of both families.
    void set_timeouts(const NatTimeouts& timeouts) { flows_.set_timeouts(timeouts); }

    std::size_t expire_idle(Instant now) noexcept { return flows_.expire_idle(now); }

    // The flow-table handover across a graceful restart (flow_snapshot.hpp), as IPv4's
    // (PacketEngine::save_flows): every live flow with the idle time it has left at `now`;
    // and, in the next process before its first packet, those flows put back with
    // `downtime` taken off their timers (ipv6_handover.cpp).
    std::vector<SavedIpv6Flow> save_flows(Instant now) const;
    FlowRestoreCounts restore_flows(const std::vector<SavedIpv6Flow>& flows, std::chrono::milliseconds downtime,
                                    Instant now);
    const Ipv6FlowTable& flows() const noexcept { return flows_; }
    // PacketEngine::end_ipv6_flows_from.
    Ipv6FlowId end_flows_from(Ipv6FlowId from, std::size_t max_records,
                              const std::function<bool(const Ipv6Flow&)>& selected, std::size_t& ended) {
        return flows_.remove_if_from(from, max_records, selected, ended);
    }
    const PinholeTable& pinholes() const noexcept { return pinholes_; }
    const Ipv6FirewallCounters& counters() const noexcept { return counters_; }
    const Ipv6FirewallConfig& config() const noexcept { return config_; }
    const Ipv6FragmentTable& fragments() const noexcept { return fragments_; }

private:
    template <class JudgeWhole>
    EngineResult judge_forwarded(std::span<const std::uint8_t> packet, bool from_lan, L4Checksum state, Instant now,
                                 JudgeWhole&& judge_whole) noexcept;
    static bool tcp_checksum_fails(const Ipv6PacketView& v, L4Checksum state) noexcept;
    static Ipv6FragmentPiece fragment_piece(const Ipv6PacketView& v) noexcept;
    void remember_first_fragment(const Ipv6PacketView& v, std::span<const std::uint8_t> packet, bool from_lan,
                                 bool to_gateway, Instant now) noexcept;
    EngineResult later_fragment(const Ipv6PacketView& v, bool to_gateway, Instant now) noexcept;

    EngineResult outbound_icmpv6(const Ipv6PacketView& v, RuleTable& rules, Instant now);
    EngineResult inbound_icmpv6(const Ipv6PacketView& v, RuleTable& rules, Instant now);
    // An ICMPv6 error (RFC 4890 §4.3.1 types and codes only) passes when the datagram it
    // quotes belongs to a tracked flow; `quoted_from_lan`: the quoted packet went LAN -> WAN.
    EngineResult icmpv6_error(const Ipv6PacketView& v, bool quoted_from_lan, Instant now);

    // A new flow the LAN host starts / a WAN host starts, once the checks have passed.
    EngineResult outbound_new(const Ipv6PacketView& v, const Ipv6FlowKey& key, RuleTable& rules, Instant now,
                              bool creates_flow);
    EngineResult inbound_new(const Ipv6PacketView& v, const Ipv6FlowKey& key, RuleTable& rules, Instant now,
                             bool creates_flow);
    EngineResult start_flow(const Ipv6PacketView& v, const Ipv6FlowKey& key, Ipv6FlowOrigin origin,
                            std::uint16_t pinhole, const FirewallRule* rule, Instant now);
    EngineResult continue_flow(Ipv6Flow& flow, const Ipv6PacketView& v, bool from_lan, Instant now);

    EngineResult input_icmpv6(const Ipv6PacketView& v, bool from_lan, RuleTable& rules, Instant now);
    // A new exchange addressed to the gateway: the input rules, then the LAN services, then
    // the input policy; a flow starts when it is admitted and can have replies.
    EngineResult input_new(const Ipv6PacketView& v, bool from_lan, const Ipv6LanServices& lan_services,
                           RuleTable& rules, Instant now, bool creates_flow);

    // Checks every forwarded packet passes first; none = passes.
    DropReason address_problem(const Ipv6PacketView& v, bool from_lan) const noexcept;
    bool inside_lan(const Ipv6Address& a) const noexcept;
    PacketFacts facts_of(const Ipv6PacketView& v, RuleDirection direction) const noexcept;
    static EngineResult delivered() { return {Verdict::deliver_locally, DropReason::none, nullptr, false}; }

    // A rule's or policy's drop or reject (Verdict::reject: the daemon answers it).
    static EngineResult refused_by(const RuleDecision& decision);
    static EngineResult forwarded() { return {Verdict::forward, DropReason::none, nullptr, false}; }
    static EngineResult dropped(DropReason reason, const FirewallRule* rule = nullptr, bool log = false) {
        return {Verdict::drop, reason, rule, log};
    }

    Ipv6FirewallConfig config_;
    std::string lan_interface_, wan_interface_;
    Ipv6FlowTable flows_;
    PinholeTable pinholes_;
    Ipv6FragmentTable fragments_;
    Ipv6FirewallCounters counters_;
};

// The flow key of a packet as the LAN side sees it: the LAN end first.
Ipv6FlowKey ipv6_flow_key(const Ipv6PacketView& v, bool from_lan) noexcept;

}  // namespace gw

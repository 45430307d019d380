// The packet path's one pass: parse, check the source, find the flow (or decide
// whether a new one may start: filtering behaviour, forwards, DMZ, rules, default
// policies), track it (TCP state machine), translate it, and return the verdict.
// NAT and firewall decide together, on one flow record.
//
// Pure: no I/O, no clock, no globals; time comes in with every call. Not thread safe:
// the daemon has one engine, which every packet worker (a batch at a time) and the main
// loop (control commands, expiry, reload) use under one engine lock
// (daemon/queue_worker.hpp); gatewayd --replay has its own.
#pragma once

#include <array>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "firewall/address_checks.hpp"
#include "firewall/engine_result.hpp"
#include "firewall/firewall_config.hpp"
#include "firewall/ipv6_firewall.hpp"
#include "firewall/flow_snapshot.hpp"
#include "firewall/flow_table.hpp"
#include "firewall/forward_table.hpp"
#include "firewall/rate_limiter.hpp"
#include "firewall/rule_table.hpp"
#include "nat/drop_reason.hpp"
#include "nat/endpoint_rewrite.hpp"
#include "nat/fragment_table.hpp"
#include "nat/ip_identification.hpp"
#include "nat/mapping_table.hpp"
#include "nat/nat_config.hpp"

namespace gw {

struct EngineCounters {
    DropCounters drops;
    std::uint64_t outbound_packets = 0, outbound_bytes = 0;
    std::uint64_t inbound_packets = 0, inbound_bytes = 0;
    std::uint64_t local_packets = 0;
    std::uint64_t flows_created = 0, flows_expired = 0;
    std::uint64_t flows_evicted = 0;  // ended early to make room in a full table (flow_table.hpp)
    std::uint64_t mappings_created = 0, mappings_expired = 0;
    // UPnP refusals made on the packet path (also counted as drops): SSDP or HTTP to the
    // UPnP ports arriving on the WAN side, refused by the input policy. What LAN clients
    // send the IGD is judged whole by its HTTP front end (igd/http_front_end.hpp).
    std::uint64_t upnp_from_wan_refused = 0;
    // RFC 5508 REQ-8: ICMP administratively prohibited asked for (EngineResult::unreachable)
    // about LAN packets no mapping could be made for, and those the rate limit held back.
    std::uint64_t no_mapping_unreachables = 0, no_mapping_unreachables_suppressed = 0;
    // ICMP errors the gateway's own kernel built about a translated datagram, given back
    // the external endpoint in their quote (engine_local_icmp_errors.cpp, issue 18.2).
    std::uint64_t gateway_icmp_errors_translated = 0;
};

// Which of the engine's entry points a packet goes to (see PacketEngine).
// ipv6_outbound / ipv6_inbound: IPv6 routed LAN -> WAN / WAN -> LAN (FORWARD), judged by
// the IPv6 firewall (ipv6_firewall.hpp) and never rewritten. ipv6_input_from_lan /
// ipv6_input_from_outside / ipv6_local_output: IPv6 to the gateway itself from the LAN
// interface / from any other but lo (INPUT), and sent by it (OUTPUT).
enum class EnginePath : std::uint8_t {
    outbound, inbound, hairpin, input_from_lan, local_output, ipv6_outbound, ipv6_inbound,
    ipv6_input_from_lan, ipv6_input_from_outside, ipv6_local_output
};

// Whether the host that sent a LAN frame owns its source address: the frame's source
// MAC against the kernel's neighbour entry for that address (daemon/lan_neighbours.hpp).
// The engine cannot see frames; its adapter can, and says what it saw. not_checked:
// nobody could tell (pcap replay, unit tests), and only the address is judged.
enum class LinkSource : std::uint8_t { not_checked, owner, no_neighbour, other_owner };

struct EnginePacket {
    std::span<std::uint8_t> bytes;
    EnginePath path = EnginePath::outbound;
    L4Checksum checksum = L4Checksum::complete;  // not used by input_from_lan / local_output
    LinkSource link = LinkSource::not_checked;   // input_from_lan and hairpin only
};

struct EngineSetup {
    NatConfig nat;
    FirewallConfig firewall;  // firewall.lan_networks already filled in
    std::string lan_interface, wan_interface;
    // The UPnP IGD's HTTP front end (LAN address, port) when it runs: it and SSDP are
    // open to the LAN unless a rule says otherwise.
    std::optional<Endpoint> upnp_http;
    // The NAT-PMP/PCP server (LAN address, UDP 5351) when it runs: open to the LAN
    // unless a rule says otherwise, like the IGD; from the WAN only the input rules apply.
    std::optional<Endpoint> port_control;
    // The LAN interface's IPv4 addresses: with the WAN address, the gateway's own. Never a
    // LAN host's source, never the internal end of a mapping or forward (issue 14).
    std::vector<Ipv4Address> lan_addresses;
};

class PacketEngine {
public:
    explicit PacketEngine(const EngineSetup& setup);

    // From the LAN, routed towards the WAN (FORWARD -i lan -o wan).
    EngineResult translate_outbound(std::span<std::uint8_t> packet, L4Checksum state, Instant now) noexcept;
    // Arrived on the WAN interface, before routing (PREROUTING -i wan).
    EngineResult translate_inbound(std::span<std::uint8_t> packet, L4Checksum state, Instant now) noexcept;
    // From the LAN to one of the gateway's own addresses (INPUT -i lan). `link`: what
    // the frame's source MAC says of the source (LinkSource); a source that is not a LAN
    // host, or not proven to be the host that owns it, is dropped.
    EngineResult judge_input_from_lan(std::span<std::uint8_t> packet, Instant now,
                                      LinkSource link = LinkSource::not_checked) noexcept;
    // From the LAN to the WAN address, before routing: hairpinning (RFC 4787 REQ-9),
    // or input to the gateway when the port leads nowhere. Sources judged as above.
    EngineResult translate_hairpin(std::span<std::uint8_t> packet, L4Checksum state, Instant now,
                                   LinkSource link = LinkSource::not_checked) noexcept;
    // What an address is to the LAN (address_checks.hpp), with the gateway's addresses
    // as they are now (the WAN address may change).
    LanAddressClass lan_class_of(Ipv4Address address) const noexcept;
    // Sent by the gateway itself (OUTPUT): tracked so that its replies are let in. Its
    // ICMP errors about a translated datagram are rewritten to quote the external
    // endpoint (Verdict::forward); one that would carry a LAN address to the WAN about no
    // known flow is dropped (gateway_icmp_error_without_flow). Errors to the WAN address
    // itself about a LAN host's translated datagram (hairpinned with TTL 1, or failed after
    // FORWARD) are readdressed to that host, quoting what it sent.
    EngineResult track_local_output(std::span<std::uint8_t> packet, Instant now) noexcept;

    // The packet's entry point above.
    EngineResult judge(const EnginePacket& packet, Instant now) noexcept;
    // The packets in order, results[i] for packets[i]: exactly what judge() called on
    // each in turn gives (verdicts, rewrites, counters, flows), faster when the flows are
    // many, since the flow lookups' cache misses of a group of packets overlap
    // (engine_batch.cpp). `results` holds at least packets.size() entries.
    void judge_batch(std::span<const EnginePacket> packets, Instant now, std::span<EngineResult> results) noexcept;

    std::size_t expire_idle(Instant now) noexcept;  // IPv4 and IPv6 flows

    // IPv6 forwarding (issue 8), with the rule table above; the drop is counted with the
    // IPv4 engine's drops (EngineCounters::drops).
    EngineResult judge_ipv6_outbound(std::span<const std::uint8_t> packet, Instant now,
                                     L4Checksum state = L4Checksum::complete) noexcept;
    EngineResult judge_ipv6_inbound(std::span<const std::uint8_t> packet, Instant now,
                                    L4Checksum state = L4Checksum::complete) noexcept;
    // IPv6 to and from the gateway itself (issue 13): the input rules and policy, as for
    // IPv4; drops counted with the others, deliveries in local_packets.
    EngineResult judge_ipv6_input(std::span<const std::uint8_t> packet, bool from_lan, Instant now,
                                  L4Checksum state = L4Checksum::complete) noexcept;
    EngineResult track_ipv6_local_output(std::span<const std::uint8_t> packet, Instant now) noexcept;
    // Pinholes from the control plane (OpenPinhole / ClosePinhole / QueryPinholePackets).
    bool open_pinhole(const Pinhole& pinhole) { return ipv6_.open_pinhole(pinhole); }
    bool close_pinhole(std::uint16_t id) { return ipv6_.close_pinhole(id); }
    std::optional<std::uint64_t> pinhole_packets(std::uint16_t id) const { return ipv6_.pinhole_packets(id); }
    const Ipv6Firewall& ipv6() const { return ipv6_; }

    // Control plane (applied by the packet worker between batches): open a port mapping
    // a client was granted, close it when its lease ends or it is deleted — closing
    // also ends the flows that came in through it, so the path is shut at once.
    bool open_port_mapping(const DynamicForward& mapping);
    void close_port_mapping(Protocol protocol, Port external);
    // Is a dynamic mapping open on this port (a UPnP lease or a time-limited forward)?
    bool has_port_mapping(Protocol protocol, Port external) const { return forwards_.has_dynamic(protocol, external); }

    // Reload (STYLE 14): builds the new rule and forward tables beside the old ones and
    // swaps them in; flows, NAT mappings and dynamic mappings stay, under the new idle
    // timeouts from now on (FlowTableCore::set_timeouts). What cannot change live
    // (interfaces, WAN address, port range, table sizes and limits) is refused: the result
    // names each such key with both values and the engine is left untouched. Empty = applied.
    // A dynamic mapping whose port a new static forward now owns is closed (named in
    // `closed_mappings`), since static forwards own their ports.
    struct ReconfigureResult {
        std::vector<std::string> refused;                // "KEY cannot change while running (...)"
        std::vector<DynamicForward> closed_mappings;
    };
    ReconfigureResult reconfigure(const EngineSetup& setup);
    // What reconfigure(setup) would refuse, without changing anything: the control plane
    // asks first, so that it changes the mapping service only for a reload that happens.
    std::vector<std::string> reconfigure_refusals(const EngineSetup& setup) const;
    // The WAN interface got another address (wan.address: auto): translate to it from the
    // next packet. Every flow that used the old address ends — LAN flows and their NAT
    // mappings, flows let in through forwards, hairpin pairs, and the gateway's own flows
    // from it — and is counted as expired: their remote peers know the old address only,
    // so a flow rewritten to the new one mid-way would meet a RST or a stranger (Linux's
    // MASQUERADE drops its conntrack entries the same way). Static forwards and dynamic
    // port mappings stay: they are ports, valid on any address. Returns the flows ended.
    std::size_t change_wan_address(Ipv4Address address);
    // The LAN interface got another IPv4 address: the IGD's HTTP endpoint and the
    // NAT-PMP/PCP endpoint (those that run) move to it, their ports kept (issue 13).
    // `lan_addresses`: the LAN interface's addresses now, which source trust refuses as
    // LAN sources and no WAN-started flow may reach.
    void move_lan_services(Ipv4Address lan_address, std::vector<Ipv4Address> lan_addresses);
    const EngineSetup& setup() const { return setup_; }
    const ForwardTable& forwards() const { return forwards_; }

    EngineCounters counters() const;
    const FlowTable& flows() const { return flows_; }
    // gatewayctl flows delete / flows6 delete: ends the flows `selected` picks among the
    // next `max_records` records from `from` (FlowTableCore::remove_if_from; `ended`
    // grows by how many went). They end as if their time were up: counted as expired, a
    // NAT mapping no other flow holds released, a hairpin flow's peer with it; a later
    // packet of the connection is judged as a new one.
    FlowId end_flows_from(FlowId from, std::size_t max_records, const std::function<bool(const Flow&)>& selected,
                          std::size_t& ended) {
        return flows_.remove_if_from(from, max_records, selected, ended);
    }
    Ipv6FlowId end_ipv6_flows_from(Ipv6FlowId from, std::size_t max_records,
                                   const std::function<bool(const Ipv6Flow&)>& selected, std::size_t& ended) {
        return ipv6_.end_flows_from(from, max_records, selected, ended);
    }
    const MappingTable& mappings() const { return mappings_; }
    const RuleTable& rules() const { return rules_; }
    const FragmentTable& fragments() const { return fragments_; }
    Ipv4Address wan_address() const { return setup_.nat.wan_address; }

private:
    struct FlowKeyFacts;  // the tuple of a parsed packet, see packet_engine.cpp
    struct StagedLookup;  // a batch packet's flow lookup under way, see engine_batch.cpp
    void start_lookup(const EnginePacket& packet, StagedLookup& lookup) const noexcept;
    // A likely new LAN flow's mapping's index entry (returns its hash), then, once the
    // mapping has arrived, the flow index slots its external port leads to.
    std::uint64_t prefetch_mapping_index(const EnginePacket& packet) const noexcept;
    void prefetch_new_flow(const EnginePacket& packet) const noexcept;

    EngineResult outbound_datagram(PacketView& p, L4Checksum state, Instant now);
    EngineResult outbound_later_fragment(PacketView& p, Instant now);
    EngineResult outbound_known(Flow& flow, PacketView& p, L4Checksum state, Instant now);
    EngineResult outbound_new(PacketView& p, L4Checksum state, Instant now);
    EngineResult outbound_icmp_error(PacketView& outer, Instant now);
    EngineResult inbound_datagram(PacketView& p, L4Checksum state, Instant now);
    EngineResult inbound_known(Flow& flow, PacketView& p, L4Checksum state, Instant now);
    EngineResult inbound_new(PacketView& p, L4Checksum state, Instant now);
    EngineResult inbound_to_target(PacketView& p, L4Checksum state, Instant now, Endpoint target,
                                   MappingId mapping);
    EngineResult inbound_icmp_error(PacketView& outer, Instant now);
    EngineResult inbound_later_fragment(PacketView& p, Instant now);
    EngineResult input_new(PacketView& p, std::string_view interface, Instant now);
    // The gateway kernel's own ICMP error (engine_local_icmp_errors.cpp).
    EngineResult local_icmp_error(PacketView& outer, Instant now);
    EngineResult local_icmp_error_to_wan_address(PacketView& outer, PacketView& quoted, Instant now);
    // A LAN host's or LAN network's address, or one of the gateway's LAN-side addresses:
    // what must never leave by the WAN.
    bool is_lan_side_address(Ipv4Address address) const noexcept;
    bool quote_names_lan_address(const PacketView& outer) const noexcept;
    // Why a packet arriving on the LAN may not carry this source (none: it may).
    DropReason lan_source_refusal(Ipv4Address source, LinkSource link) const noexcept;
    EngineResult hairpin_known(Flow& flow, PacketView& p, L4Checksum state, Instant now);
    // `punch`: the sender's own punch towards the same endpoint (engine_hairpin.cpp), or null.
    EngineResult hairpin_new(PacketView& p, L4Checksum state, Instant now, Flow* punch);
    struct HairpinSetup;  // a new hairpin's two ends, see engine_hairpin.cpp
    EngineResult hairpin_filtered(HairpinSetup& h, const PacketView& p, Instant now);
    EngineResult hairpin_paired(HairpinSetup& h, PacketView& p, L4Checksum state, Instant now);
    EngineResult hairpin_icmp_error(PacketView& outer, Instant now);
    // The mapping for a flow a LAN host starts; when the mapping table is full, the flow
    // table evicts (FlowTable::make_room_for_lan_flow) and it is tried once more.
    AcquireResult acquire_for_lan_flow(Protocol protocol, Endpoint internal, Instant now);

    bool track_tcp(Flow& flow, const PacketView& p, bool from_originator);
    static bool tcp_checksum_fails(const PacketView& p, L4Checksum state);
    // A forwarded TCP first fragment's flow, for its later fragments (track_tcp_fragment).
    FirstFragmentVerdict tcp_first_fragment_verdict(const PacketView& p, bool inbound, Instant now);
    // False: the later fragment starts beyond its receiver's window.
    bool track_tcp_fragment(const FirstFragmentVerdict& first, const FragmentPiece& later);
    bool is_upnp_service(const PacketView& p) const;
    // UDP to the port-control server's endpoint.
    bool is_port_control_service(const PacketView& p) const;
    // SSDP or the IGD's HTTP port, to any of the gateway's addresses (what a WAN-side
    // probe for an exposed IGD sends).
    bool is_upnp_port(const PacketView& p) const;
    // RFC 4787 REQ-8: may a sender at `remote` use the mapping on `external`?
    bool mapping_admits(Protocol protocol, Port external, Ipv4Address remote) const;
    void reserve_static_forward_ports(const FirewallConfig& firewall, bool reserve);
    static std::optional<TcpTracker> start_tracker(const PacketView& p, TcpPickup pickup);
    TimeoutClass timeout_class_of(const Flow& flow) const;
    // `lan_destination`: for inbound rules, the LAN-side endpoint the packet will go to.
    RuleDecision decide_by_rules(RuleDirection direction, const PacketView& p, std::string_view interface,
                                 Instant now, const Endpoint* lan_destination = nullptr);

    // A packet of `length` bytes passed on the flow: counted on it and, for a flow a
    // forward or port mapping let in from the WAN (not a NAT mapping's filter), on that
    // forward (issue 16). Plain increments, plus an index or hash lookup for such flows.
    void count_on(Flow& flow, std::size_t length) noexcept {
        count_packet(flow, length);
        if (flow.origin == FlowOrigin::wan && flow.mapping == 0)
            forwards_.count_packet(flow.protocol, flow.external, length);
    }
    // Also numbers a non-atomic datagram leaving from the WAN address (ip_identification.hpp);
    // a later fragment keeps what the caller wrote, its first fragment's number.
    EngineResult forwarded_outbound(PacketView& p);
    EngineResult forwarded_inbound(const PacketView& p);
    EngineResult delivered_locally();
    EngineResult dropped(DropReason reason, const FirewallRule* rule = nullptr, bool log = false);
    EngineResult refused_by(const RuleDecision& decision, DropReason reason);
    // The drop of a LAN packet whose mapping `reason` refused, with an ICMP answer asked
    // for when it is due (RFC 5508 REQ-8, EngineResult::unreachable).
    EngineResult refused_mapping(const PacketView& p, DropReason reason, Instant now);

    EngineSetup setup_;
    MappingTable mappings_;
    FlowTable flows_;
    FragmentTable fragments_;
    IpIdentification ip_identification_;
    ForwardTable forwards_;
    RuleTable rules_;
    Ipv6Firewall ipv6_;
    EngineCounters counters_;
    // The gateway's own SSDP M-SEARCH out of the WAN (the control point looking for the
    // NAT upstream's IGD, issue 19): it goes to the multicast group, the IGDs answer from
    // their unicast address, so no flow can match; answers to its port are let in until
    // `until` (engine_local.cpp).
    struct SsdpSearch {
        Port local_port;
        Instant until{0};
    };
    std::optional<SsdpSearch> ssdp_search_;
    bool answers_own_ssdp_search(const PacketView& p, std::string_view interface, Instant now) const;
    // The PCP/NAT-PMP server upstream that the gateway itself last asked (UDP from the WAN
    // address to port 5351, seen by track_local_output; issue 19). Its unsolicited
    // announcements, from port 5351 to port 5350 of the WAN address or of 224.0.0.1
    // (RFC 6887 §14.1.3, RFC 6886 §3.2.1), are for the gateway's listener
    // (daemon/upstream_announcement_listener.hpp): no flow can match them, and the group's
    // would die as not_addressed_to_gateway (engine_local.cpp, engine_inbound.cpp).
    std::optional<Ipv4Address> port_control_upstream_;
    bool announces_from_upstream(const PacketView& p) const;
    // The whole gateway's budget of REQ-8 answers: a host hammering at its port limit must
    // not make the gateway an ICMP source at its packet rate.
    RateLimiter no_mapping_unreachables_{no_mapping_unreachable_limit};

public:
    static constexpr RateLimit no_mapping_unreachable_limit{.per_second = 10, .burst = 10};

public:
    // The flow-table handover across a graceful restart (flow_snapshot.hpp): every live
    // flow with the idle time it has left at `now`; and, in the next process before its
    // first packet, those flows put back on the same external ports with `downtime` taken
    // off their timers.
    std::vector<SavedFlow> save_flows(Instant now) const;
    using RestoreCounts = FlowRestoreCounts;
    RestoreCounts restore_flows(const std::vector<SavedFlow>& flows, std::chrono::milliseconds downtime, Instant now);
    // The same for the IPv6 firewall's flows (Ipv6Firewall::save_flows).
    std::vector<SavedIpv6Flow> save_ipv6_flows(Instant now) const { return ipv6_.save_flows(now); }
    RestoreCounts restore_ipv6_flows(const std::vector<SavedIpv6Flow>& flows, std::chrono::milliseconds downtime,
                                     Instant now) {
        return ipv6_.restore_flows(flows, downtime, now);
    }
};

}  // namespace gw

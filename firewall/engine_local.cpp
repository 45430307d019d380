// Traffic of the gateway itself: what it sends is tracked (so replies are let in
// under the input policy, the unicast answers to its SSDP M-SEARCH on the WAN included,
// and the announcements of the PCP/NAT-PMP server upstream it asks;
// its ICMP errors are seen to in engine_local_icmp_errors.cpp), and what comes to it from
// the LAN is judged by the input rules. WAN arrivals for the gateway reach input_new from translate_inbound.
#include "address_checks.hpp"
#include "engine_endpoints.hpp"
#include "packet_engine.hpp"

namespace gw {
namespace {

constexpr Ipv4Address ssdp_group = Ipv4Address::from_octets(239, 255, 255, 250);
constexpr std::uint16_t ssdp_port = 1900;
// An M-SEARCH asks for answers within MX seconds (UDA 1.1 §1.3.3; the control point's is
// 2): a little more, for an IGD that waits the whole MX.
constexpr Instant ssdp_search_answer_window{5000};
// RFC 6887 §14.1.3 and RFC 6886 §3.2.1: servers answer and announce from 5351, clients
// hear announcements on 5350, the group is all hosts.
constexpr std::uint16_t port_control_server_port = 5351;
constexpr std::uint16_t port_control_client_port = 5350;
constexpr Ipv4Address all_hosts_group = Ipv4Address::from_octets(224, 0, 0, 1);

Port source_port_of(const PacketView& p) {
    Port port;
    read_port(p, Side::source, port);
    return port;
}

// A search from the gateway (queue_rules.cpp lets only an M-SEARCH leave the WAN to the
// SSDP group, and only from a port other than 1900, which is our own SSDP server's).
bool is_ssdp_search(const PacketView& p) {
    Port destination;
    return p.udp && p.ip->destination() == ssdp_group && read_port(p, Side::destination, destination) &&
           destination.value == ssdp_port && source_port_of(p).value != ssdp_port;
}

}  // namespace

// Unicast UDP from port 1900 to the search's port on the WAN, within the window: an IGD
// answering the gateway's own M-SEARCH, however it is addressed.
bool PacketEngine::answers_own_ssdp_search(const PacketView& p, std::string_view interface, Instant now) const {
    Port source, destination;
    return ssdp_search_ && now < ssdp_search_->until && interface == setup_.wan_interface && p.udp &&
           read_port(p, Side::source, source) && source.value == ssdp_port &&
           read_port(p, Side::destination, destination) && destination == ssdp_search_->local_port;
}

// A whole UDP datagram from port 5351 of the upstream server the gateway asked, to port
// 5350 of the WAN address or of 224.0.0.1 (translate_inbound sees only WAN arrivals).
bool PacketEngine::announces_from_upstream(const PacketView& p) const {
    Port source, destination;
    return port_control_upstream_ && p.udp && !p.is_first_fragment() && !p.is_later_fragment() &&
           p.ip->source() == *port_control_upstream_ &&
           (p.ip->destination() == setup_.nat.wan_address || p.ip->destination() == all_hosts_group) &&
           read_port(p, Side::source, source) && source.value == port_control_server_port &&
           read_port(p, Side::destination, destination) && destination.value == port_control_client_port;
}

EngineResult PacketEngine::track_local_output(std::span<std::uint8_t> buffer, Instant now) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    // The gateway's own packets are the kernel's business; never drop them for form.
    if (!parsed.ok() || parsed.view.is_later_fragment()) return delivered_locally();
    PacketView& p = parsed.view;
    if (is_icmp_error(p)) return local_icmp_error(p, now);
    if (!(p.tcp || p.udp || (p.icmp && p.icmp->type == wire::IcmpHeader::echo_request))) return delivered_locally();
    // Nothing answers from a multicast group or the broadcast address (SSDP NOTIFY, the
    // NAT-PMP announcements): a flow for them would only hold a slot of the table.
    std::uint32_t destination = p.ip->destination().host_order();
    if (is_ssdp_search(p)) ssdp_search_ = SsdpSearch{source_port_of(p), now + ssdp_search_answer_window};
    // A PCP or NAT-PMP request of the gateway's own upstream client (bound to the WAN
    // address, daemon/upstream_udp.hpp): that server's announcements are let in.
    if (Port to; p.udp && p.ip->source() == setup_.nat.wan_address && read_port(p, Side::destination, to) &&
                 to.value == port_control_server_port)
        port_control_upstream_ = p.ip->destination();
    if ((destination >> 28) == 0xe || destination == 0xffffffffU) return delivered_locally();
    Endpoint local, remote;
    lan_side_ends(p, local, remote);
    auto protocol = Protocol(p.protocol);
    if (Flow* flow = flows_.find_by_internal(protocol, local, remote, now)) {
        bool from_originator = flow->origin == FlowOrigin::gateway;
        if (!from_originator) flow->reply_seen = true;
        track_tcp(*flow, p, from_originator);
        flows_.touch(*flow, timeout_class_of(*flow), now);
        count_packet(*flow, p.datagram.size());
        return delivered_locally();
    }
    Flow flow;
    flow.protocol = protocol;
    flow.origin = FlowOrigin::gateway;
    flow.internal = local;
    flow.remote = remote;
    flow.external = local.port;
    if (protocol == Protocol::tcp) {
        auto tracker = start_tracker(p, TcpPickup::allow);
        if (!tracker) return delivered_locally();  // a FIN or RST starts nothing
        flow.tcp = *tracker;
    }
    flow.timeout_class = timeout_class_of(flow);
    count_packet(flow, p.datagram.size());
    if (flows_.insert(flow, now) != 0) ++counters_.flows_created;
    return delivered_locally();
}

LanAddressClass PacketEngine::lan_class_of(Ipv4Address address) const noexcept {
    if (address == setup_.nat.wan_address) return LanAddressClass::gateway;
    return classify_lan_address(address, setup_.firewall.lan_networks, setup_.lan_addresses);
}

// Source trust on the LAN (issue 14; docs/architecture.md, "Who sent a LAN packet"): a packet
// speaks for a LAN host only when its source is a host address of a LAN network and the
// frame came from the MAC the kernel's neighbour table holds for that address. UDP
// services (NAT-PMP, PCP, SSDP) cannot tell a forged source otherwise, and the LAN
// interface's accept_local lets even the gateway's own address in.
DropReason PacketEngine::lan_source_refusal(Ipv4Address source, LinkSource link) const noexcept {
    switch (lan_class_of(source)) {
        case LanAddressClass::host: break;
        case LanAddressClass::gateway: return DropReason::lan_source_is_gateway;
        case LanAddressClass::network:
        case LanAddressClass::broadcast: return DropReason::lan_source_is_broadcast;
        case LanAddressClass::outside_lan: return DropReason::spoofed_lan_source;
    }
    switch (link) {
        case LinkSource::not_checked:
        case LinkSource::owner: return DropReason::none;
        case LinkSource::no_neighbour: return DropReason::lan_source_unresolved;
        case LinkSource::other_owner: return DropReason::lan_source_wrong_mac;
    }
    return DropReason::lan_source_wrong_mac;
}

EngineResult PacketEngine::judge_input_from_lan(std::span<std::uint8_t> buffer, Instant now, LinkSource link) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    if (!parsed.ok()) return dropped(parsed.reason);
    PacketView& p = parsed.view;
    if (DropReason refusal = lan_source_refusal(p.ip->source(), link); refusal != DropReason::none)
        return dropped(refusal);
    if (p.is_later_fragment()) return delivered_locally();
    if (p.tcp || p.udp || is_icmp_echo(p)) {
        Endpoint remote;
        Port local_port;
        wan_side_ends(p, remote, local_port);
        if (Flow* flow = flows_.find_by_external(Protocol(p.protocol), local_port, remote, now)) {
            bool from_originator = flow->origin == FlowOrigin::to_gateway;
            if (!track_tcp(*flow, p, from_originator)) return dropped(DropReason::invalid_tcp);
            if (!from_originator) flow->reply_seen = true;
            flows_.touch(*flow, timeout_class_of(*flow), now);
            count_packet(*flow, p.datagram.size());
            return delivered_locally();
        }
    }
    return input_new(p, setup_.lan_interface, now);
}

bool PacketEngine::is_upnp_service(const PacketView& p) const {
    if (!setup_.upnp_http) return false;
    Port port;
    if (p.udp && read_port(p, Side::destination, port)) return port.value == 1900;  // SSDP, unicast or multicast
    return p.tcp && p.ip->destination() == setup_.upnp_http->address && read_port(p, Side::destination, port) &&
           port == setup_.upnp_http->port;
}

bool PacketEngine::is_port_control_service(const PacketView& p) const {
    Port port;
    return setup_.port_control && p.udp && p.ip->destination() == setup_.port_control->address &&
           read_port(p, Side::destination, port) && port == setup_.port_control->port;
}

bool PacketEngine::is_upnp_port(const PacketView& p) const {
    if (!setup_.upnp_http) return false;
    Port port;
    if (p.udp && read_port(p, Side::destination, port)) return port.value == 1900;
    return p.tcp && read_port(p, Side::destination, port) && port == setup_.upnp_http->port;
}

// A new exchange addressed to the gateway itself: the input rules, then the input policy.
EngineResult PacketEngine::input_new(PacketView& p, std::string_view interface, Instant now) {
    RuleDecision decision = decide_by_rules(RuleDirection::input, p, interface, now);
    // The UPnP and NAT-PMP/PCP services are open to the LAN (and only to it) unless a
    // rule decided otherwise.
    if (!decision.rule && interface == setup_.lan_interface && (is_upnp_service(p) || is_port_control_service(p)))
        decision.action = RuleAction::accept;
    // An IGD upstream answering the gateway's own search: the reply to a flow of ours in
    // all but its addresses (the search went to the multicast group).
    if (!decision.rule && answers_own_ssdp_search(p, interface, now)) decision.action = RuleAction::accept;
    if (decision.action != RuleAction::accept) {
        if (interface == setup_.wan_interface && is_upnp_port(p)) ++counters_.upnp_from_wan_refused;
        EngineResult refused = refused_by(decision, decision.rule ? DropReason::denied_by_rule : DropReason::denied_by_policy);
        refused.input = true;
        return refused;
    }
    if (p.tcp || p.udp || is_icmp_echo(p)) {
        Flow flow;
        flow.protocol = Protocol(p.protocol);
        flow.origin = FlowOrigin::to_gateway;
        wan_side_ends(p, flow.remote, flow.external);
        flow.internal = {p.ip->destination(), flow.external};
        // Pickup as for LAN flows: after a restart an admitted session (SSH to the
        // gateway, say) goes on; a segment no flow can start on is delivered untracked.
        std::optional<TcpTracker> tracker;
        if (p.tcp) tracker = start_tracker(p, TcpPickup::allow);
        if (!p.tcp || tracker) {
            if (tracker) flow.tcp = *tracker;
            flow.timeout_class = timeout_class_of(flow);
            count_packet(flow, p.datagram.size());
            if (flows_.insert(flow, now) != 0) ++counters_.flows_created;
        }
    }
    EngineResult result = delivered_locally();
    result.rule = decision.rule;
    result.log = decision.log;
    result.input = true;
    return result;
}

}  // namespace gw

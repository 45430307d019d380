// Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8, RFC 5508 REQ-7): a LAN host that talks to
// the WAN address reaches the LAN host behind that port (a forward, the DMZ, or another
// host's mapping), and each side sees the other as the WAN address — the client sees the
// port it dialled, the server the client's external port — so replies come back through
// the gateway instead of straight across the LAN.
//
// Towards another host's mapping, a hairpinned packet is judged as it would be between two
// NATs: it leaves by its sender's mapping towards (WAN address, port dialled) and arrives
// at the receiver's mapping from (WAN address, sender's external port), where the
// receiver's filter (firewall.filtering, RFC 4787 REQ-8) judges it like any WAN sender's.
// It is the sender's outbound traffic even when that filter drops it: the dropped packet
// leaves a punch, one flow of the sender's towards that endpoint (under the sender's flow
// limit, expiring as its outbound flow would), which is what the receiver's own packets
// back then meet. So hole punching between two LAN hosts works in every filtering mode as
// between hosts behind two NATs: under address-and-port-dependent filtering the first
// punch is dropped and the answer to it passes; under address-dependent filtering a host
// that sent anything to the WAN address may be reached from it; endpoint-independent lets
// the first punch through. The punch becomes the pair's client flow (the TCP tracker's
// originator), so two SYNs crossing, the first dropped, are a simultaneous open.
//
// Both rewrites happen before routing, on the packet that arrived on the LAN interface
// for the WAN address; the daemon lets the kernel accept the WAN address as a source
// there (accept_local on the LAN interface). ICMP errors about hairpinned datagrams are
// translated back to the sender (engine_icmp_errors.cpp, hairpin_icmp_error).
#include "address_checks.hpp"
#include "engine_endpoints.hpp"
#include "packet_engine.hpp"

namespace gw {
namespace {

// A mapping reference held while a hairpin is set up: released on the way out unless a
// flow took it over.
class HeldMapping {
public:
    HeldMapping(MappingTable& table, MappingId id) : table_(table), id_(id) {}
    HeldMapping(const HeldMapping&) = delete;
    HeldMapping& operator=(const HeldMapping&) = delete;
    ~HeldMapping() {
        if (id_ != 0) table_.release(id_);
    }
    void hold(MappingId id) { id_ = id; }
    MappingId id() const { return id_; }
    void handed_to_flow() { id_ = 0; }

private:
    MappingTable& table_;
    MappingId id_;
};

// One half of a hairpin as its LAN host sees it: `internal` talks to `remote` (the WAN
// address and the other's port), through `external` on the WAN address.
Flow hairpin_flow(FlowOrigin origin, Protocol protocol, Endpoint internal, Endpoint remote, Port external,
                  MappingId mapping, const std::optional<TcpTracker>& tracker) {
    Flow f;
    f.protocol = protocol;
    f.origin = origin;
    f.internal = internal;
    f.remote = remote;
    f.external = external;
    f.mapping = mapping;
    if (tracker) f.tcp = *tracker;
    return f;
}

}  // namespace

EngineResult PacketEngine::translate_hairpin(std::span<std::uint8_t> buffer, L4Checksum state, Instant now,
                                             LinkSource link) noexcept {
    ParseResult parsed = parse_ipv4(buffer);
    if (!parsed.ok()) return dropped(parsed.reason);
    PacketView& p = parsed.view;
    // Fail-closed while the WAN has no address (DHCP pending): nothing to translate to.
    if (setup_.nat.wan_address == Ipv4Address{}) return dropped(DropReason::no_wan_address);
    if (DropReason refusal = lan_source_refusal(p.ip->source(), link); refusal != DropReason::none)
        return dropped(refusal);
    if (p.ip->destination() != setup_.nat.wan_address) return dropped(DropReason::not_addressed_to_gateway);
    if (p.is_fragment()) return input_new(p, setup_.lan_interface, now);
    if (is_icmp_error(p)) return hairpin_icmp_error(p, now);
    // Only TCP and UDP are hairpinned. An echo request names no LAN host: its identifier
    // is the sender's own (RFC 5508 REQ-7 asks hairpinned queries of Basic NAT only, not
    // of a NAPT), so it and anything else for the WAN address is input to the gateway.
    if (!(p.tcp || p.udp)) return input_new(p, setup_.lan_interface, now);
    Endpoint sender, dialled;
    lan_side_ends(p, sender, dialled);
    Flow* flow = flows_.find_by_internal(Protocol(p.protocol), sender, dialled, now);
    if (flow && flow->origin != FlowOrigin::hairpin_punch) return hairpin_known(*flow, p, state, now);
    return hairpin_new(p, state, now, flow);
}

EngineResult PacketEngine::hairpin_known(Flow& flow, PacketView& p, L4Checksum state, Instant now) {
    if (flow.peer == 0) return dropped(DropReason::no_mapping);  // not a hairpin flow
    Flow& peer = flows_.get(flow.peer);
    bool from_client = flow.origin == FlowOrigin::hairpin_client;
    Flow& tracked = from_client ? flow : peer;
    if (!track_tcp(tracked, p, from_client)) return dropped(DropReason::invalid_tcp);
    if (!from_client) tracked.reply_seen = true;
    TimeoutClass timeout = timeout_class_of(tracked);
    flows_.touch(flow, timeout, now);
    flows_.touch(peer, timeout, now);
    count_packet(flow, p.datagram.size());  // on the sender's flow of the pair
    rewrite_endpoint(p, Side::destination, peer.internal, state);
    rewrite_endpoint(p, Side::source, {setup_.nat.wan_address, flow.external}, state);
    return forwarded_outbound(p);
}

// A new hairpin's two ends while it is set up; the mapping references it holds are
// released on the way out unless a flow took them over.
struct PacketEngine::HairpinSetup {
    explicit HairpinSetup(MappingTable& mappings) : sender_mapping(mappings, 0), receiver_mapping(mappings, 0) {}
    Protocol protocol = Protocol::udp;
    Endpoint client, dialled, server;
    Endpoint client_as_seen;  // the WAN address and the client's external port
    Flow* punch = nullptr;    // the client's own punch towards `dialled`
    Flow* answered = nullptr;  // the receiver's flow on exactly `client_as_seen` (its punch)
    std::optional<TcpTracker> tracker;  // for a flow this packet starts
    HeldMapping sender_mapping, receiver_mapping;
};

// No pair yet. `punch`: the sender's own earlier punch towards the same endpoint, if any.
EngineResult PacketEngine::hairpin_new(PacketView& p, L4Checksum state, Instant now, Flow* punch) {
    flows_.expire_idle(now);  // the punch was found live at `now`: it stays
    HairpinSetup h(mappings_);
    h.protocol = Protocol(p.protocol);
    h.punch = punch;
    lan_side_ends(p, h.client, h.dialled);

    // Where the dialled port leads, exactly as for a packet from the WAN.
    bool filtered = false;  // a mapping's: its filter judges the packet
    auto target = forwards_.target_of(h.protocol, h.dialled.port);
    const Mapping* m = mappings_.find_by_external(h.protocol, h.dialled.port);
    if (target && !target->dmz) {
        h.server = target->internal;  // a forward wins over a mapping, as from the WAN
    } else if (m) {
        h.server = m->internal;
        filtered = true;
    } else if (target) {
        h.server = target->internal;  // the DMZ host
    } else {
        return input_new(p, setup_.lan_interface, now);
    }
    // The client's own traffic: its outbound rules decide (a forward's allowed_sources
    // speak of WAN sources, and LAN hosts are not filtered like the internet). A packet
    // they refuse never left, so it punches nothing.
    RuleDecision decision = decide_by_rules(RuleDirection::outbound, p, setup_.lan_interface, now);
    if (decision.action != RuleAction::accept)
        return refused_by(decision, decision.rule ? DropReason::denied_by_rule : DropReason::denied_by_policy);
    // The receiver's mapping stays while this is set up (taking the sender's may evict);
    // a host dialling its own mapping talks to itself and takes no extra reference.
    const bool to_other_mapping = filtered && h.server != h.client;
    if (to_other_mapping) {
        h.receiver_mapping.hold(mappings_.acquire(h.protocol, h.server).id);
        if (h.receiver_mapping.id() == 0) return input_new(p, setup_.lan_interface, now);
    }
    if (punch) {
        if (!track_tcp(*punch, p, true)) return dropped(DropReason::invalid_tcp);
    } else if (h.protocol == Protocol::tcp && !(h.tracker = start_tracker(p, TcpPickup::refuse))) {
        return dropped(DropReason::invalid_tcp);
    }
    Port client_port;
    if (punch) {
        client_port = punch->external;
    } else {
        AcquireResult acquired = acquire_for_lan_flow(h.protocol, h.client, now);
        if (acquired.id == 0) return refused_mapping(p, acquired.reason, now);
        if (acquired.created) ++counters_.mappings_created;
        h.sender_mapping.hold(acquired.id);
        client_port = mappings_.get(acquired.id).external;
    }
    h.client_as_seen = {setup_.nat.wan_address, client_port};

    // RFC 4787 REQ-8 at the receiver's mapping, the sender seen as (WAN address, its
    // external port). A flow of the receiver's on exactly that endpoint can only be its
    // punch towards the sender (the sender's packets back would have found their pair):
    // it is what address-and-port-dependent filtering asks for.
    if (to_other_mapping) h.answered = flows_.find_by_external(h.protocol, h.dialled.port, h.client_as_seen, now);
    if (to_other_mapping && !h.answered && !mapping_admits(h.protocol, h.dialled.port, setup_.nat.wan_address))
        return hairpin_filtered(h, p, now);
    EngineResult result = hairpin_paired(h, p, state, now);
    if (result.verdict != Verdict::forward) return result;
    result.rule = decision.rule;
    result.log = decision.log;
    return result;
}

// The receiver's filter drops the packet; it has still left by the sender's mapping, as
// its punch (kept, or refreshed).
EngineResult PacketEngine::hairpin_filtered(HairpinSetup& h, const PacketView& p, Instant now) {
    if (h.punch) {
        flows_.touch(*h.punch, timeout_class_of(*h.punch), now);
        count_packet(*h.punch, p.datagram.size());
        return dropped(DropReason::filtered_by_mapping);
    }
    Flow punch = hairpin_flow(FlowOrigin::hairpin_punch, h.protocol, h.client, h.dialled, h.client_as_seen.port,
                              h.sender_mapping.id(), h.tracker);
    punch.timeout_class = timeout_class_of(punch);
    count_packet(punch, p.datagram.size());
    DropReason refusal;
    if (flows_.insert(punch, now, refusal) == 0) return dropped(refusal);  // nothing kept: say why
    h.sender_mapping.handed_to_flow();
    ++counters_.flows_created;
    return dropped(DropReason::filtered_by_mapping);
}

// Admitted: the pair's two flows, linked, and the packet rewritten for the server.
EngineResult PacketEngine::hairpin_paired(HairpinSetup& h, PacketView& p, L4Checksum state, Instant now) {
    // When the receiver punched first, its punch is the pair's client (the TCP
    // originator) and this packet the first from the other end; otherwise the client is
    // the sender's punch, or a flow made as one until the other half exists (if that
    // cannot be made, the sender has still sent).
    const bool answers_punch = h.answered && !h.punch && h.answered->origin == FlowOrigin::hairpin_punch &&
                               h.answered->internal == h.server;
    if (answers_punch && !track_tcp(*h.answered, p, false)) return dropped(DropReason::invalid_tcp);
    Flow* existing = answers_punch ? h.answered : h.punch;
    FlowId client = existing ? flows_.id_of(*existing) : 0;
    DropReason refusal;
    if (client == 0) {
        Flow punch = hairpin_flow(FlowOrigin::hairpin_punch, h.protocol, h.client, h.dialled, h.client_as_seen.port,
                                  h.sender_mapping.id(), h.tracker);
        punch.timeout_class = timeout_class_of(punch);
        if ((client = flows_.insert(punch, now, refusal)) == 0) return dropped(refusal);
        h.sender_mapping.handed_to_flow();
        ++counters_.flows_created;
    }
    Flow& client_flow = flows_.get(client);
    flows_.touch(client_flow, timeout_class_of(client_flow), now);  // newest: not what an insert evicts
    HeldMapping& server_mapping = answers_punch ? h.sender_mapping : h.receiver_mapping;
    Flow server_flow = answers_punch
                           ? hairpin_flow(FlowOrigin::hairpin_server, h.protocol, h.client, h.dialled,
                                          h.client_as_seen.port, server_mapping.id(), std::nullopt)
                           : hairpin_flow(FlowOrigin::hairpin_server, h.protocol, h.server, h.client_as_seen,
                                          h.dialled.port, server_mapping.id(), std::nullopt);
    server_flow.timeout_class = client_flow.timeout_class;
    FlowId server = flows_.insert(server_flow, now, refusal);
    if (server == 0) return dropped(refusal);
    server_mapping.handed_to_flow();
    ++counters_.flows_created;
    if (!client_flow.in_use || client_flow.origin != FlowOrigin::hairpin_punch || server == client)
        return dropped(DropReason::flow_table_full);  // evicted to make room after all
    client_flow.origin = FlowOrigin::hairpin_client;
    if (answers_punch) client_flow.reply_seen = true;
    count_packet(answers_punch ? flows_.get(server) : client_flow, p.datagram.size());  // on the sender's flow
    flows_.link(client, server);
    rewrite_endpoint(p, Side::destination, h.server, state);
    rewrite_endpoint(p, Side::source, h.client_as_seen, state);
    return forwarded_outbound(p);
}

}  // namespace gw

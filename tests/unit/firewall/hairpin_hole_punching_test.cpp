// Hole punching between two LAN hosts through the gateway's WAN address (issue 18.1):
// RFC 4787 REQ-9 and RFC 5382 REQ-8 (a hairpinned packet arrives from its sender's
// external endpoint, and is filtered at the receiver's mapping as one from that endpoint),
// RFC 5508 REQ-7 (an ICMP error about a hairpinned datagram goes back translated). Each
// host first learns its external port from a WAN server, then sends to the other's, as
// a peer-to-peer application does; the dropped punch must count as its sender's
// outbound traffic, as it would between hosts behind two different NATs.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine_setup.hpp"
#include "firewall/flow_snapshot.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Endpoint peer_a = at(host_a, 5000), peer_b = at(host_b, 6000);
constexpr Ipv4Address host_c = Ipv4Address::from_octets(192, 168, 1, 12);
constexpr Endpoint stun_server = at(server, 3478);

struct Mode {
    std::string name;
    FilteringBehaviour filtering;
    bool first_punch_passes;
};

const std::vector<Mode> modes{
    {"endpoint-independent", FilteringBehaviour::endpoint_independent, true},
    {"address-dependent", FilteringBehaviour::address_dependent, false},
    {"address-and-port-dependent", FilteringBehaviour::address_and_port_dependent, false},
};

// `internal` learns its external endpoint from a WAN server: that makes its mapping.
Endpoint learn_external(PacketEngine& engine, Protocol protocol, Endpoint internal, Instant now = t0) {
    Packet ask = protocol == Protocol::udp ? udp(internal, stun_server, {'?'}) : tcp(internal, stun_server, tcp_flag::syn);
    REQUIRE(outbound(engine, ask, now).verdict == Verdict::forward);
    return mapped_endpoint(engine, protocol, internal);
}

EngineResult hairpin(PacketEngine& engine, Packet& packet, Instant now = t0) {
    return engine.translate_hairpin(packet, L4Checksum::complete, now);
}

// `packet` from `from` to `to`'s external endpoint arrives at `to` from `from`'s.
void require_delivered(PacketEngine& engine, Packet packet, Endpoint from_external, Endpoint to, Instant now = t0) {
    auto result = hairpin(engine, packet, now);
    INFO("dropped as " << drop_reason_name(result.reason));
    REQUIRE(result.verdict == Verdict::forward);
    CHECK(source_of(packet) == from_external);
    CHECK(destination_of(packet) == to);
    CHECK(checksum_errors(packet).empty());
}

const Flow* punch_of(const PacketEngine& engine, Endpoint internal, Endpoint remote) {
    const Flow* f = flow_between(engine, internal, remote);
    return f && f->origin == FlowOrigin::hairpin_punch ? f : nullptr;
}

}  // namespace

TEST_CASE("two LAN hosts punching at each other's external UDP endpoint reach each other in every filtering mode") {
    for (const Mode& mode : modes) {
        SECTION(mode.name) {
            PacketEngine engine(engine_setup(mode.filtering));
            Endpoint a_external = learn_external(engine, Protocol::udp, peer_a);
            Endpoint b_external = learn_external(engine, Protocol::udp, peer_b);

            Packet first = udp(peer_a, b_external, {'1'});
            auto result = hairpin(engine, first);
            if (mode.first_punch_passes) {
                CHECK(result.verdict == Verdict::forward);
            } else {
                // b has sent nothing to the WAN address: its filter drops a's punch...
                CHECK(result.reason == DropReason::filtered_by_mapping);
                // ...which still left by a's mapping, towards b's external endpoint.
                CHECK(punch_of(engine, peer_a, b_external) != nullptr);
            }
            require_delivered(engine, udp(peer_b, a_external, {'2'}), b_external, peer_a, t0 + 10ms);
            require_delivered(engine, udp(peer_a, b_external, {'3'}), a_external, peer_b, t0 + 20ms);
            require_delivered(engine, udp(peer_b, a_external, {'4'}), b_external, peer_a, t0 + 30ms);
            CHECK(engine.counters().drops[DropReason::filtered_by_mapping] == (mode.first_punch_passes ? 0 : 1));
        }
    }
}

TEST_CASE("a dropped hairpin punch stays the sender's flow only as long as an outbound UDP flow would") {
    EngineSetup setup = engine_setup(FilteringBehaviour::address_and_port_dependent);
    PacketEngine engine(setup);
    Endpoint a_external = learn_external(engine, Protocol::udp, peer_a);
    Endpoint b_external = learn_external(engine, Protocol::udp, peer_b);
    Packet punch = udp(peer_a, b_external);
    REQUIRE(hairpin(engine, punch).reason == DropReason::filtered_by_mapping);
    const Flow* kept = punch_of(engine, peer_a, b_external);
    REQUIRE(kept != nullptr);
    CHECK(kept->external == a_external.port);
    CHECK(kept->timeout_class == TimeoutClass::udp);
    CHECK(kept->peer == 0);

    // Both keep their mappings through the WAN server meanwhile.
    REQUIRE(learn_external(engine, Protocol::udp, peer_a, t0 + 200s) == a_external);
    REQUIRE(learn_external(engine, Protocol::udp, peer_b, t0 + 200s) == b_external);

    SECTION("a second punch refreshes it and is still dropped: one flow, two drops") {
        Packet again = udp(peer_a, b_external);
        CHECK(hairpin(engine, again, t0 + 200s).reason == DropReason::filtered_by_mapping);
        CHECK(engine.counters().drops[DropReason::filtered_by_mapping] == 2);
        std::size_t punches = 0;
        engine.flows().for_each([&](const Flow& f) { punches += f.origin == FlowOrigin::hairpin_punch; });
        CHECK(punches == 1);
        // 200 s + 250 s is past the first punch's 300 s, not the second's.
        require_delivered(engine, udp(peer_b, a_external), b_external, peer_a, t0 + 450s);
    }
    SECTION("once it has expired, the other host's answer is filtered like any stranger's") {
        Instant later = t0 + std::chrono::seconds(setup.nat.timeouts.udp) + 1s;
        Packet answer = udp(peer_b, a_external);
        CHECK(hairpin(engine, answer, later).reason == DropReason::filtered_by_mapping);
        CHECK(punch_of(engine, peer_a, b_external) == nullptr);
    }
}

TEST_CASE("a host's hairpin punches count against its flow limit") {
    EngineSetup setup = engine_setup(FilteringBehaviour::address_and_port_dependent);
    setup.nat.limits.flows_per_host = 3;
    PacketEngine engine(setup);
    learn_external(engine, Protocol::udp, peer_a);  // a's first flow
    std::vector<Endpoint> targets;
    for (std::uint16_t k = 0; k < 3; ++k) targets.push_back(learn_external(engine, Protocol::udp, at(host_b, 6000 + k)));
    Packet p1 = udp(peer_a, targets[0]), p2 = udp(peer_a, targets[1]), p3 = udp(peer_a, targets[2]);
    CHECK(hairpin(engine, p1).reason == DropReason::filtered_by_mapping);
    CHECK(hairpin(engine, p2).reason == DropReason::filtered_by_mapping);
    CHECK(hairpin(engine, p3).reason == DropReason::host_flow_limit);
    CHECK(punch_of(engine, peer_a, targets[2]) == nullptr);
}

TEST_CASE("under address-dependent filtering a host that sent to the WAN address may be reached from any of its ports") {
    // The remote address of a hairpinned packet is the gateway's own WAN address: a host
    // that sent anything to it (here a punch at a third host) has opened its mapping to
    // every LAN host's external endpoint, as to every port of a WAN host it sent to.
    for (auto filtering : {FilteringBehaviour::address_dependent, FilteringBehaviour::address_and_port_dependent}) {
        PacketEngine engine(engine_setup(filtering));
        Endpoint a_external = learn_external(engine, Protocol::udp, peer_a);
        Endpoint b_external = learn_external(engine, Protocol::udp, peer_b);
        Endpoint c_external = learn_external(engine, Protocol::udp, at(host_c, 7000));
        Packet to_c = udp(peer_b, c_external);
        REQUIRE(hairpin(engine, to_c).reason == DropReason::filtered_by_mapping);
        Packet from_a = udp(peer_a, b_external);
        auto result = hairpin(engine, from_a);
        if (filtering == FilteringBehaviour::address_dependent) {
            CHECK(result.verdict == Verdict::forward);
            CHECK(source_of(from_a) == a_external);
            CHECK(destination_of(from_a) == peer_b);
        } else {
            CHECK(result.reason == DropReason::filtered_by_mapping);
        }
    }
}

TEST_CASE("two SYNs crossing through the hairpin open one TCP connection in every filtering mode (RFC 5382 REQ-8)") {
    for (const Mode& mode : modes) {
        SECTION(mode.name) {
            PacketEngine engine(engine_setup(mode.filtering));
            Endpoint a_external = learn_external(engine, Protocol::tcp, peer_a);
            Endpoint b_external = learn_external(engine, Protocol::tcp, peer_b);
            const std::uint32_t a_isn = 1000, b_isn = 500000;

            Packet a_syn = tcp(peer_a, b_external, tcp_flag::syn, TcpNumbers{a_isn, 0});
            auto result = hairpin(engine, a_syn);
            if (!mode.first_punch_passes) CHECK(result.reason == DropReason::filtered_by_mapping);
            // b's SYN crosses a's; a, in SYN-SENT, answers it with a SYN-ACK (RFC 793 §3.4 fig. 8).
            require_delivered(engine, tcp(peer_b, a_external, tcp_flag::syn, TcpNumbers{b_isn, 0}), b_external, peer_a,
                              t0 + 10ms);
            require_delivered(engine,
                              tcp(peer_a, b_external, tcp_flag::syn | tcp_flag::ack, TcpNumbers{a_isn, b_isn + 1}),
                              a_external, peer_b, t0 + 20ms);
            require_delivered(engine, tcp(peer_b, a_external, tcp_flag::ack, TcpNumbers{b_isn + 1, a_isn + 1}),
                              b_external, peer_a, t0 + 30ms);
            require_delivered(engine,
                              tcp(peer_a, b_external, tcp_flag::ack | tcp_flag::psh, TcpNumbers{a_isn + 1, b_isn + 1},
                                  payload_of_size(10)),
                              a_external, peer_b, t0 + 40ms);
            const Flow* a_flow = flow_between(engine, peer_a, b_external);
            const Flow* b_flow = flow_between(engine, peer_b, a_external);
            REQUIRE(a_flow != nullptr);
            REQUIRE(b_flow != nullptr);
            const Flow& tracked = a_flow->origin == FlowOrigin::hairpin_client ? *a_flow : *b_flow;
            CHECK(tracked.tcp.state() == TcpState::established);
            CHECK(tracked.timeout_class == TimeoutClass::tcp_established);
        }
    }
}

TEST_CASE("a port unreachable about a hairpinned datagram reaches its sender translated (RFC 5508 REQ-7)") {
    for (const Mode& mode : modes) {
        SECTION(mode.name) {
            PacketEngine engine(engine_setup(mode.filtering));
            Endpoint a_external = learn_external(engine, Protocol::udp, peer_a);
            Endpoint b_external = learn_external(engine, Protocol::udp, peer_b);
            Packet punch = udp(peer_a, b_external, {'p'});
            if (!mode.first_punch_passes) {
                REQUIRE(hairpin(engine, punch).reason == DropReason::filtered_by_mapping);
                require_delivered(engine, udp(peer_b, a_external), b_external, peer_a);
            }
            // a's datagram as it left a, and as it reached b.
            const Packet sent = udp(peer_a, b_external, payload_of_size(30));
            Packet delivered = sent;
            REQUIRE(hairpin(engine, delivered, t0 + 1s).verdict == Verdict::forward);
            REQUIRE(source_of(delivered) == a_external);

            for (std::size_t quote : {sent.size(), std::size_t(28)}) {
                // b's socket is gone: its stack answers the WAN address, quoting what it got.
                Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_b,
                                          wan_address, delivered, quote);
                auto result = hairpin(engine, error, t0 + 2s);
                INFO("quoting " << quote << " bytes; dropped as " << drop_reason_name(result.reason));
                REQUIRE(result.verdict == Verdict::forward);
                CHECK(source_address(error) == wan_address);
                CHECK(destination_address(error) == host_a);  // REQ-7a: the quoted source, translated
                Packet quoted = quoted_datagram(error);
                CHECK(source_of(quoted) == peer_a);
                CHECK(destination_of(quoted) == b_external);
                CHECK(quoted == Packet(sent.begin(), sent.begin() + std::ptrdiff_t(quote)));  // what a sent
                CHECK(checksum_errors(error).empty());
            }
        }
    }
}

TEST_CASE("a host firewall's administratively prohibited about a hairpinned SYN reaches the connecting host translated") {
    // What a LAN host whose own firewall REJECTs answers (firewalld's icmp-host-prohibited
    // family): quoting the SYN's IP header and first 8 bytes, for the WAN address.
    constexpr std::uint8_t administratively_prohibited = 13;
    PacketEngine engine(engine_setup(FilteringBehaviour::address_and_port_dependent));
    Endpoint a_external = learn_external(engine, Protocol::tcp, peer_a);
    Endpoint b_external = learn_external(engine, Protocol::tcp, peer_b);
    Packet b_punch = tcp(peer_b, a_external, tcp_flag::syn, TcpNumbers{77, 0});
    REQUIRE(hairpin(engine, b_punch).reason == DropReason::filtered_by_mapping);
    const Packet syn = tcp(peer_a, b_external, tcp_flag::syn, TcpNumbers{1000, 0});
    Packet delivered = syn;
    REQUIRE(hairpin(engine, delivered, t0 + 10ms).verdict == Verdict::forward);
    Packet error = icmp_error(icmp_type::destination_unreachable, administratively_prohibited, host_b, wan_address,
                              delivered, 28);
    auto result = hairpin(engine, error, t0 + 20ms);
    INFO("dropped as " << drop_reason_name(result.reason));
    REQUIRE(result.verdict == Verdict::forward);
    CHECK(source_address(error) == wan_address);
    CHECK(destination_address(error) == host_a);
    CHECK(quoted_datagram(error) == Packet(syn.begin(), syn.begin() + 28));
    CHECK(checksum_errors(error).empty());
}

TEST_CASE("an ICMP error for the WAN address about nothing delivered through the hairpin is dropped and counted") {
    PacketEngine engine(engine_setup(FilteringBehaviour::address_and_port_dependent));
    Endpoint a_external = learn_external(engine, Protocol::udp, peer_a);
    Endpoint b_external = learn_external(engine, Protocol::udp, peer_b);
    Packet punch = udp(peer_a, b_external);
    REQUIRE(hairpin(engine, punch).reason == DropReason::filtered_by_mapping);
    // b never received the punch (filtered), so it has nothing to complain about.
    Packet never_delivered = udp(a_external, peer_b);
    Packet about_punch = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_b,
                                    wan_address, never_delivered, never_delivered.size());
    CHECK(hairpin(engine, about_punch).reason == DropReason::no_mapping_for_icmp_error);
    // Nor may c complain about what b would have received.
    Packet for_b = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_c, wan_address,
                              never_delivered, never_delivered.size());
    CHECK(hairpin(engine, for_b).reason == DropReason::icmp_error_for_other_host);
}

TEST_CASE("an ICMP error from the WAN quoting a hairpinned datagram is dropped: none ever left by the WAN") {
    for (const Mode& mode : modes) {
        SECTION(mode.name) {
            PacketEngine engine(engine_setup(mode.filtering));
            Endpoint a_external = learn_external(engine, Protocol::udp, peer_a);
            Endpoint b_external = learn_external(engine, Protocol::udp, peer_b);
            Packet punch = udp(peer_a, b_external);
            hairpin(engine, punch);  // a pair, or a punch
            // As a's datagram would have looked on the wire, had it left: a router's
            // "fragmentation needed" about it would lower a's path MTU towards b.
            Packet as_if_sent = udp(a_external, b_external);
            Packet forged = icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, router,
                                       wan_address, as_if_sent, as_if_sent.size(), 576);
            CHECK(inbound(engine, forged).reason == DropReason::no_mapping_for_icmp_error);
        }
    }
}

TEST_CASE("a hairpin punch is handed over across a graceful restart, and the answer to it still passes") {
    EngineSetup setup = engine_setup(FilteringBehaviour::address_and_port_dependent);
    PacketEngine before(setup);
    Endpoint a_external = learn_external(before, Protocol::udp, peer_a);
    Endpoint b_external = learn_external(before, Protocol::udp, peer_b);
    Packet punch = udp(peer_a, b_external);
    REQUIRE(hairpin(before, punch).reason == DropReason::filtered_by_mapping);
    auto decoded = decode_flow_snapshot(encode_flow_snapshot(FlowSnapshot{1, before.save_flows(t0)}));
    INFO(decoded.error);
    REQUIRE(decoded.snapshot);

    PacketEngine after(setup);
    auto counts = after.restore_flows(decoded.snapshot->flows, 1s, t0 + 1s);
    CHECK(counts.restored == 3);
    CHECK(punch_of(after, peer_a, b_external) != nullptr);
    require_delivered(after, udp(peer_b, a_external), b_external, peer_a, t0 + 2s);
}

}  // namespace gw::test

// ICMP errors about a flow the engine knows are RELATED traffic (RFC 5508 section 7):
// translated and let through whatever the rules and policies say about new flows, for
// every kind of flow — a LAN host's, a forward's, the gateway's own. The error about a
// LAN host's outbound flow is covered in icmp_error_translation_test.cpp.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


constexpr Ipv4Address rdp_host = Ipv4Address::from_octets(192, 168, 1, 20);
constexpr Ipv4Address game_host = Ipv4Address::from_octets(192, 168, 1, 21);

EngineSetup with_forwards() {
    EngineSetup setup = engine_setup();
    PortForward rdp;
    rdp.name = "rdp";
    rdp.protocol = Protocol::tcp;
    rdp.external_ports = {3389, 3389};
    rdp.internal = at(rdp_host, 3389);
    PortForward game;
    game.name = "game";
    game.protocol = Protocol::udp;
    game.external_ports = {27015, 27015};
    game.internal = at(game_host, 37015);
    setup.firewall.forwards = {rdp, game};
    return setup;
}

}  // namespace

TEST_CASE("an ICMP error from the WAN about a forwarded flow reaches the LAN server quoting what it sent") {
    PacketEngine engine(with_forwards());
    auto rdp = TcpConnection::inbound(at(server, 50000), at(wan_address, 3389), at(rdp_host, 3389));
    Packet syn = rdp.from_client(tcp_flag::syn).sent;
    REQUIRE(engine.translate_inbound(syn, L4Checksum::complete, t0).verdict == Verdict::forward);
    Crossing syn_ack = rdp.from_server(tcp_flag::syn | tcp_flag::ack);
    Packet left = syn_ack.sent;
    REQUIRE(engine.translate_outbound(left, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
    REQUIRE(left == syn_ack.translated);

    // A router on the way to the client cannot pass the segment on: PMTU discovery.
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, router, wan_address,
                              left, left.size(), 1280);
    auto result = engine.translate_inbound(error, L4Checksum::complete, t0 + 2ms);
    CHECK(result.verdict == Verdict::forward);
    CHECK(error == icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, router, rdp_host,
                              syn_ack.sent, syn_ack.sent.size(), 1280));
    CHECK(checksum_errors(error) == "");
}

TEST_CASE("an ICMP error from the LAN server about a forwarded datagram leaves quoting the WAN endpoint") {
    PacketEngine engine(with_forwards());
    Packet sent = udp(at(server, 4000), at(wan_address, 27015), payload_of_size(12));
    Packet received = sent;
    REQUIRE(engine.translate_inbound(received, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(destination_of(received) == at(game_host, 37015));

    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, game_host, server,
                              received, received.size());
    auto result = engine.translate_outbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict == Verdict::forward);
    CHECK(error == icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, wan_address, server,
                              sent, sent.size()));
    CHECK(checksum_errors(error) == "");
}

TEST_CASE("an ICMP error about a LAN host's flow passes whatever the input and inbound policies") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::reject;
    setup.firewall.policies.inbound = RuleAction::reject;
    FirewallRule no_icmp;
    no_icmp.name = "no-icmp-in";
    no_icmp.direction = RuleDirection::input;
    no_icmp.protocol = Protocol::icmp;
    no_icmp.action = RuleAction::drop;
    setup.firewall.rules = {no_icmp};
    PacketEngine engine(setup);
    Packet left = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(engine.translate_outbound(left, L4Checksum::complete, t0).verdict == Verdict::forward);
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address,
                              left, left.size());
    auto result = engine.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict == Verdict::forward);
    CHECK(result.rule == nullptr);
    CHECK(destination_address(error) == host_a);
}

TEST_CASE("an ICMP error about the gateway's own flow is delivered locally, untranslated") {
    PacketEngine engine(engine_setup());
    Packet query = udp(at(wan_address, 33000), at(server, 53));
    REQUIRE(engine.track_local_output(query, t0).verdict == Verdict::deliver_locally);

    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address,
                              query, query.size());
    Packet untouched = error;
    auto result = engine.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict == Verdict::deliver_locally);
    CHECK(error == untouched);
    CHECK(engine.counters().inbound_packets == 0);
}

TEST_CASE("an ICMP error about a flow to the gateway is delivered locally") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::accept;
    PacketEngine engine(setup);
    Packet query = udp(at(server, 4000), at(wan_address, 53));
    REQUIRE(engine.translate_inbound(query, L4Checksum::complete, t0).verdict == Verdict::deliver_locally);
    Packet answer = udp(at(wan_address, 53), at(server, 4000), payload_of_size(40));
    REQUIRE(engine.track_local_output(answer, t0 + 1ms).verdict == Verdict::deliver_locally);

    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address,
                              answer, answer.size());
    CHECK(engine.translate_inbound(error, L4Checksum::complete, t0 + 2ms).verdict == Verdict::deliver_locally);
}

TEST_CASE("an ICMP error quoting a flow's port but the wrong remote is dropped, not delivered") {
    PacketEngine engine(with_forwards());
    Packet sent = udp(at(server, 4000), at(wan_address, 27015));
    REQUIRE(engine.translate_inbound(sent, L4Checksum::complete, t0).verdict == Verdict::forward);
    // Claims a datagram from the forwarded port to a host the LAN server never talked to.
    Packet forged = udp(at(wan_address, 27015), at(other_server, 4000));
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, other_server,
                              wan_address, forged, forged.size());
    Packet untouched = error;
    auto result = engine.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::no_mapping_for_icmp_error);
    CHECK(error == untouched);
}

}  // namespace gw::test

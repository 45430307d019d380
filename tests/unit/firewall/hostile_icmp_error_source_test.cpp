// Forged ICMP errors from the WAN (issue 14): a port or protocol unreachable about a
// flow must come from the flow's remote end; errors routers may send (fragmentation
// needed, time exceeded) about TCP must quote a sequence number that could be in flight
// (RFC 5927 §4.1). Everything else would let any host on the internet close or slow a
// LAN host's connections.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address stranger = Ipv4Address::from_octets(198, 51, 100, 66);

// A LAN host's UDP datagram to `server` through the NAT, as it left.
Packet udp_left(PacketEngine& nat) {
    Packet p = udp(at(host_a, 5000), at(server, 53), payload_of_size(8));
    REQUIRE(nat.translate_outbound(p, L4Checksum::complete, t0).verdict == Verdict::forward);
    return p;
}

}  // namespace

TEST_CASE("a port unreachable about a LAN host's UDP flow from a host other than its remote end is dropped") {
    PacketEngine nat(engine_setup());
    Packet left = udp_left(nat);
    for (Ipv4Address from : {stranger, router}) {
        Packet forged = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, from, wan_address,
                                   left, left.size());
        Packet untouched = forged;
        auto result = nat.translate_inbound(forged, L4Checksum::complete, t0 + 1ms);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::icmp_unreachable_not_from_remote);
        CHECK(forged == untouched);
    }
    Packet protocol_unreachable = icmp_error(icmp_type::destination_unreachable, 2, stranger, wan_address, left, left.size());
    CHECK(nat.translate_inbound(protocol_unreachable, L4Checksum::complete, t0 + 1ms).reason ==
          DropReason::icmp_unreachable_not_from_remote);
    CHECK(nat.counters().drops[DropReason::icmp_unreachable_not_from_remote] == 3);
}

TEST_CASE("a port unreachable from the flow's remote end still reaches the LAN host") {
    PacketEngine nat(engine_setup());
    Packet left = udp_left(nat);
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address,
                              left, left.size());
    auto result = nat.translate_inbound(error, L4Checksum::complete, t0 + 1ms);
    CHECK(result.verdict == Verdict::forward);
    CHECK(destination_address(error) == host_a);
}

TEST_CASE("a router's fragmentation needed about UDP is accepted from any WAN host on the path") {
    PacketEngine nat(engine_setup());
    Packet left = udp_left(nat);
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, router, wan_address,
                              left, left.size(), 1280);
    CHECK(nat.translate_inbound(error, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
}

TEST_CASE("RFC 5927: an ICMP error about TCP passes only when it quotes a sequence number in flight") {
    PacketEngine nat(engine_setup());
    auto connection = TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0));
    REQUIRE(send_syn(nat, connection, at(host_a, 5000)).verdict == Verdict::forward);
    Packet syn_ack = connection.from_server(tcp_flag::syn | tcp_flag::ack).sent;
    REQUIRE(nat.translate_inbound(syn_ack, L4Checksum::complete, t0 + 1ms).verdict == Verdict::forward);
    Crossing data = connection.from_client(tcp_flag::ack | tcp_flag::psh, payload_of_size(1000));
    Packet in_flight = data.sent;
    REQUIRE(nat.translate_outbound(in_flight, L4Checksum::complete, t0 + 2ms).verdict == Verdict::forward);

    // The segment that is still unacknowledged: a router on the path may complain about it.
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, router, wan_address,
                              in_flight, 28, 576);
    CHECK(nat.translate_inbound(error, L4Checksum::complete, t0 + 3ms).verdict == Verdict::forward);

    // A blind attacker's guess, a window's worth away.
    Packet guessed = in_flight;
    put32(guessed, ip_header_length(guessed) + 4, connection.client_next() + 0x100000);
    Packet forged = icmp_error(icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit, stranger, wan_address,
                               guessed, 28);
    auto result = nat.translate_inbound(forged, L4Checksum::complete, t0 + 4ms);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::icmp_error_outside_tcp_window);
    CHECK(nat.counters().drops[DropReason::icmp_error_outside_tcp_window] == 1);
}

}  // namespace gw::test

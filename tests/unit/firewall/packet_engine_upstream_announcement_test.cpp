// The NAT upstream's announcements (issue 19; RFC 6887 §14.1.3, RFC 6886 §3.2.1): once the
// gateway has asked a PCP/NAT-PMP server upstream (UDP from the WAN address to port 5351),
// that server's datagrams from port 5351 to port 5350 of the WAN address or of 224.0.0.1
// reach the gateway's listener; nobody else's, and nothing before it asked.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address all_hosts = Ipv4Address::from_octets(224, 0, 0, 1);

Packet announcement(Ipv4Address from, std::uint16_t from_port, Ipv4Address to, std::uint16_t to_port = 5350) {
    return udp(at(from, from_port), at(to, to_port), payload_of_size(24));
}

// The gateway's own PCP request to the upstream server `router`, from an ephemeral port.
void ask_upstream(PacketEngine& engine, Ipv4Address server = router) {
    Packet request = udp(at(wan_address, 41000), at(server, 5351), payload_of_size(60));
    REQUIRE(engine.track_local_output(request, t0).verdict == Verdict::deliver_locally);
}

}  // namespace

TEST_CASE("before the gateway asked any PCP server, an announcement to 224.0.0.1 or to it is refused") {
    PacketEngine engine(engine_setup());
    Packet multicast = announcement(router, 5351, all_hosts);
    CHECK(inbound(engine, multicast, t0).reason == DropReason::not_addressed_to_gateway);
    Packet unicast = announcement(router, 5351, wan_address);
    CHECK(inbound(engine, unicast, t0).reason == DropReason::denied_by_policy);
}

TEST_CASE("the announcement of the PCP server the gateway asked reaches it, to 224.0.0.1 and to its WAN address") {
    PacketEngine engine(engine_setup());
    ask_upstream(engine);
    Packet multicast = announcement(router, 5351, all_hosts);
    Packet untouched = multicast;
    CHECK(inbound(engine, multicast, t0 + 1s).verdict == Verdict::deliver_locally);
    CHECK(multicast == untouched);
    Packet unicast = announcement(router, 5351, wan_address);
    CHECK(inbound(engine, unicast, t0 + 1h).verdict == Verdict::deliver_locally);  // a restart comes any time
}

TEST_CASE("an announcement from another address, from another port or to another port is still refused") {
    PacketEngine engine(engine_setup());
    ask_upstream(engine);
    Packet spoofed = announcement(other_server, 5351, all_hosts);
    CHECK(inbound(engine, spoofed, t0 + 1s).reason == DropReason::not_addressed_to_gateway);
    Packet spoofed_unicast = announcement(other_server, 5351, wan_address);
    CHECK(inbound(engine, spoofed_unicast, t0 + 1s).reason == DropReason::denied_by_policy);
    Packet other_source_port = announcement(router, 5352, wan_address);
    CHECK(inbound(engine, other_source_port, t0 + 1s).reason == DropReason::denied_by_policy);
    Packet other_port = announcement(router, 5351, wan_address, 5349);
    CHECK(inbound(engine, other_port, t0 + 1s).reason == DropReason::denied_by_policy);
    Packet other_group = announcement(router, 5351, Ipv4Address::from_octets(224, 0, 0, 251));
    CHECK(inbound(engine, other_group, t0 + 1s).reason == DropReason::not_addressed_to_gateway);
    Packet tcp_one = tcp(at(router, 5351), at(wan_address, 5350), tcp_flag::syn);
    CHECK(inbound(engine, tcp_one, t0 + 1s).verdict == Verdict::drop);
}

TEST_CASE("only the server last asked counts: a request to a new upstream moves the acceptance") {
    PacketEngine engine(engine_setup());
    ask_upstream(engine, other_server);
    ask_upstream(engine, router);
    Packet old_server = announcement(other_server, 5351, all_hosts);
    CHECK(inbound(engine, old_server, t0 + 1s).verdict == Verdict::drop);
    Packet new_server = announcement(router, 5351, all_hosts);
    CHECK(inbound(engine, new_server, t0 + 1s).verdict == Verdict::deliver_locally);
}

TEST_CASE("a datagram the gateway sends from port 5351 (its own server's answers) opens nothing") {
    PacketEngine engine(engine_setup());
    Packet own_answer = udp(at(wan_address, 5351), at(router, 5350), payload_of_size(24));
    engine.track_local_output(own_answer, t0);
    Packet multicast = announcement(router, 5351, all_hosts);
    CHECK(inbound(engine, multicast, t0 + 1s).verdict == Verdict::drop);
}

}  // namespace gw::test

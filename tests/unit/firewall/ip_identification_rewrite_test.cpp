// RFC 7857 §10: after translation every LAN host's datagrams leave from one address, so
// two hosts' own identifications could meet at a remote's reassembly (issue 18 finding 4:
// lan1 and lan2 each sent a 2-fragment datagram with ID 0x4242, fragments interleaved, and
// the WAN host reassembled ONE datagram). The gateway numbers non-atomic datagrams itself.
#include <catch2/catch.hpp>

#include <vector>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

constexpr std::uint16_t shared_id = 0x4242;

Packet non_atomic_from(Ipv4Address host, std::size_t size = 40) {
    return may_fragment(with_identification(udp(at(host, 5000), at(server, 53), payload_of_size(size)), shared_id));
}

std::uint16_t identification(const Packet& p) { return get16(p, 4); }

}  // namespace

TEST_CASE("two LAN hosts' datagrams with one identification leave for one remote with two (RFC 7857 §10)") {
    PacketEngine nat(engine_setup());
    Packet from_a = non_atomic_from(host_a), from_b = non_atomic_from(host_b);
    REQUIRE(outbound(nat, from_a).verdict == Verdict::forward);
    REQUIRE(outbound(nat, from_b).verdict == Verdict::forward);
    CHECK(source_address(from_a) == source_address(from_b));
    CHECK(identification(from_a) != identification(from_b));
    CHECK(checksum_errors(from_a) == "");
    CHECK(checksum_errors(from_b) == "");
}

TEST_CASE("interleaved fragments of two LAN hosts' datagrams with one identification stay two datagrams") {
    PacketEngine nat(engine_setup());
    std::vector<Packet> a = fragments_of(non_atomic_from(host_a, 40), 24), b = fragments_of(non_atomic_from(host_b, 40), 24);
    REQUIRE(a.size() == 2);
    REQUIRE(b.size() == 2);
    for (Packet* f : {&a[0], &b[0], &a[1], &b[1]}) REQUIRE(outbound(nat, *f).verdict == Verdict::forward);
    // Each datagram's fragments share one identification, and the two differ: the remote
    // keys reassembly on (source, destination, protocol, identification).
    CHECK(identification(a[0]) == identification(a[1]));
    CHECK(identification(b[0]) == identification(b[1]));
    CHECK(identification(a[0]) != identification(b[0]));
    for (const Packet* f : {&a[0], &a[1], &b[0], &b[1]}) CHECK(checksum_errors(*f) == "");
    Packet sent_by_a = udp(mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)), at(server, 53), payload_of_size(40));
    CHECK(reassembled(a) == with_identification(may_fragment(sent_by_a), identification(a[0])));
}

TEST_CASE("an atomic datagram (DF set) leaves with its own identification") {
    PacketEngine nat(engine_setup());
    Packet from_a = with_identification(udp(at(host_a, 5000), at(server, 53), payload_of_size(40)), shared_id);
    Packet from_b = with_identification(udp(at(host_b, 5000), at(server, 53), payload_of_size(40)), shared_id);
    REQUIRE(outbound(nat, from_a).verdict == Verdict::forward);
    REQUIRE(outbound(nat, from_b).verdict == Verdict::forward);
    CHECK(identification(from_a) == shared_id);
    CHECK(identification(from_b) == shared_id);
}

TEST_CASE("an inbound datagram keeps the identification its sender gave it") {
    PacketEngine nat(engine_setup());
    Packet opens = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(nat, opens).verdict == Verdict::forward);
    Packet reply = may_fragment(
        with_identification(udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000))), shared_id));
    REQUIRE(inbound(nat, reply).verdict == Verdict::forward);
    CHECK(identification(reply) == shared_id);
}

TEST_CASE("a hairpinned non-atomic datagram is numbered like any that leaves from the WAN address") {
    EngineSetup setup = engine_setup();
    PortForward game;
    game.name = "game";
    game.protocol = Protocol::udp;
    game.external_ports = {7000, 7000};
    game.internal = at(host_b, 7000);
    setup.firewall.forwards = {game};
    PacketEngine nat(setup);
    Packet first = may_fragment(with_identification(udp(at(host_a, 5000), at(wan_address, 7000)), shared_id));
    Packet second = may_fragment(with_identification(udp(at(host_a, 5001), at(wan_address, 7000)), shared_id));
    REQUIRE(nat.translate_hairpin(first, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(nat.translate_hairpin(second, L4Checksum::complete, t0).verdict == Verdict::forward);
    CHECK(source_address(first) == wan_address);
    CHECK(identification(first) != identification(second));
    CHECK(checksum_errors(first) == "");
}

}  // namespace gw::test

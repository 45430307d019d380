// Fragments: only the first carries the ports, so the NAT translates the first by its
// mapping and lets the later ones follow it (by address outbound, by the remembered
// first fragment inbound). A later fragment it cannot place never reaches the LAN.
#include <catch2/catch.hpp>

#include <vector>

#include "engine_setup.hpp"
#include "nat/fragment_table.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


EngineSetup config() { return engine_setup(PortRange{40000, 40099}); }


}  // namespace

TEST_CASE("an outbound first fragment gets address and port translated, later fragments the address") {
    Bytes data = payload_of_size(70);
    for (const Packet& datagram : {with_identification(udp(at(host_a, 5000), at(server, 53), data), 0x5151),
                                   with_identification(tcp(at(host_a, 5000), at(server, 80), tcp_flag::ack, data), 0x5151)}) {
        DYNAMIC_SECTION("protocol " << int(protocol_of(datagram))) {
            PacketEngine nat(config());
            std::vector<Packet> fragments = fragments_of(datagram, 24);
            REQUIRE(fragments.size() == 4);
            for (Packet& f : fragments) {
                CHECK(outbound(nat, f).verdict == Verdict::forward);
                CHECK(source_address(f) == wan_address);
                CHECK(checksum_errors(f) == "");
            }
            CHECK(source_of(fragments.front()) == at(wan_address, 40000));
            // The transport checksum, carried by the first fragment, is right for the whole datagram.
            Packet expected = protocol_of(datagram) == ip_udp
                                  ? udp(at(wan_address, 40000), at(server, 53), data)
                                  : tcp(at(wan_address, 40000), at(server, 80), tcp_flag::ack, data);
            CHECK(reassembled(fragments) == with_identification(expected, 0x5151));
        }
    }
}

TEST_CASE("an inbound first fragment and the later fragments of its datagram go to the same LAN host") {
    PacketEngine nat(config());
    Packet opens = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(nat, opens).verdict == Verdict::forward);

    Bytes data = payload_of_size(100);
    Packet reply = with_identification(udp(at(server, 53), at(wan_address, 40000), data), 0x0bad);
    std::vector<Packet> fragments = fragments_of(reply, 32);
    REQUIRE(fragments.size() == 4);
    for (Packet& f : fragments) {
        CHECK(inbound(nat, f, t0 + 1s).verdict == Verdict::forward);
        CHECK(destination_address(f) == host_a);
        CHECK(checksum_errors(f) == "");
    }
    CHECK(reassembled(fragments) == with_identification(udp(at(server, 53), at(host_a, 5000), data), 0x0bad));
}

TEST_CASE("an inbound later fragment without its first fragment is delivered locally, never to the LAN") {
    PacketEngine nat(config());
    Packet opens = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(nat, opens).verdict == Verdict::forward);
    std::vector<Packet> fragments =
        fragments_of(with_identification(udp(at(server, 53), at(wan_address, 40000), payload_of_size(40)), 7), 24);

    SECTION("when it arrives before the first fragment") {
        Packet later = fragments.back();
        CHECK(inbound(nat, later).verdict == Verdict::deliver_locally);
        CHECK(later == fragments.back());
    }
    SECTION("when the first fragment of that datagram came from another source") {
        Packet first = fragments.front();
        REQUIRE(inbound(nat, first).verdict == Verdict::forward);
        Packet impostor = fragments.back();
        put32(impostor, 12, other_server.host_order());
        refresh_ip_checksum(impostor);
        Packet untouched = impostor;
        CHECK(inbound(nat, impostor).verdict == Verdict::deliver_locally);
        CHECK(impostor == untouched);
    }
    SECTION("when it carries another identification") {
        Packet first = fragments.front();
        REQUIRE(inbound(nat, first).verdict == Verdict::forward);
        Packet other = with_identification(fragments.back(), 8);
        CHECK(inbound(nat, other).verdict == Verdict::deliver_locally);
    }
    SECTION("when the first fragment was for the gateway itself, and refused by the input policy") {
        std::vector<Packet> unmapped =
            fragments_of(with_identification(udp(at(server, 53), at(wan_address, 40050), payload_of_size(40)), 9), 24);
        REQUIRE(inbound(nat, unmapped.front()).reason == DropReason::denied_by_policy);
        CHECK(inbound(nat, unmapped.back()).verdict == Verdict::deliver_locally);
    }
    SECTION("when the first fragment was seen longer ago than the reassembly timeout") {
        Packet first = fragments.front();
        REQUIRE(inbound(nat, first, t0).verdict == Verdict::forward);
        Packet later = fragments.back();
        CHECK(inbound(nat, later, t0 + FragmentTable::lifetime).verdict == Verdict::deliver_locally);
    }
    CHECK(nat.counters().inbound_packets <= 1);
}

TEST_CASE("a WAN fragment addressed to a LAN host directly is dropped") {
    PacketEngine nat(config());
    Packet later = fragments_of(udp(at(server, 53), at(host_a, 5000), payload_of_size(40)), 24).back();
    Packet untouched = later;
    auto result = inbound(nat, later);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::not_addressed_to_gateway);
    CHECK(later == untouched);
}

TEST_CASE("the fragment table forgets a first fragment after the reassembly timeout") {
    FragmentTable table;
    FragmentKey key{server, wan_address, ip_udp, 42};
    table.remember(key, host_a, t0);
    CHECK(table.find(key, t0 + FragmentTable::lifetime - 1ms) == host_a);
    CHECK(table.find(key, t0 + FragmentTable::lifetime) == std::nullopt);
    CHECK(table.size() == 0);
}

TEST_CASE("a full fragment table forgets its oldest entry first") {
    FragmentTable table(2);
    FragmentKey first{server, wan_address, ip_udp, 1}, second{server, wan_address, ip_udp, 2},
        third{server, wan_address, ip_udp, 3};
    table.remember(first, host_a, t0);
    table.remember(second, host_b, t0 + 1ms);
    table.remember(third, host_a, t0 + 2ms);
    CHECK(table.size() == 2);
    CHECK(table.find(first, t0 + 3ms) == std::nullopt);
    CHECK(table.find(second, t0 + 3ms) == host_b);
    CHECK(table.find(third, t0 + 3ms) == host_a);
}

TEST_CASE("the fragment table tells datagrams apart by the whole reassembly key") {
    FragmentTable table;
    FragmentKey key{server, wan_address, ip_udp, 42};
    table.remember(key, host_a, t0);
    CHECK(table.find({other_server, wan_address, ip_udp, 42}, t0) == std::nullopt);
    CHECK(table.find({server, host_b, ip_udp, 42}, t0) == std::nullopt);
    CHECK(table.find({server, wan_address, ip_tcp, 42}, t0) == std::nullopt);
    CHECK(table.find({server, wan_address, ip_udp, 43}, t0) == std::nullopt);
    CHECK(table.find(key, t0) == host_a);
}

}  // namespace gw::test

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
            Protocol protocol = protocol_of(datagram) == ip_udp ? Protocol::udp : Protocol::tcp;
            Endpoint external = mapped_endpoint(nat, protocol, at(host_a, 5000));
            CHECK(source_of(fragments.front()) == external);
            // The transport checksum, carried by the first fragment, is right for the whole
            // datagram; every fragment carries the identification the gateway gave the first
            // (RFC 7857 §10), so the remote reassembles them as one.
            const std::uint16_t identification = get16(fragments.front(), 4);
            for (const Packet& f : fragments) CHECK(get16(f, 4) == identification);
            Packet expected = protocol == Protocol::udp ? udp(external, at(server, 53), data)
                                                        : tcp(external, at(server, 80), tcp_flag::ack, data);
            CHECK(reassembled(fragments) == with_identification(may_fragment(expected), identification));
        }
    }
}

TEST_CASE("an inbound first fragment and the later fragments of its datagram go to the same LAN host") {
    PacketEngine nat(config());
    Packet opens = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(nat, opens).verdict == Verdict::forward);

    Bytes data = payload_of_size(100);
    Packet reply =
        with_identification(udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)), data), 0x0bad);
    std::vector<Packet> fragments = fragments_of(reply, 32);
    REQUIRE(fragments.size() == 4);
    for (Packet& f : fragments) {
        CHECK(inbound(nat, f, t0 + 1s).verdict == Verdict::forward);
        CHECK(destination_address(f) == host_a);
        CHECK(checksum_errors(f) == "");
    }
    CHECK(reassembled(fragments) ==
          with_identification(may_fragment(udp(at(server, 53), at(host_a, 5000), data)), 0x0bad));
}

TEST_CASE("an inbound later fragment without its first fragment is dropped and counted, never sent to the LAN") {
    PacketEngine nat(config());
    Packet opens = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(nat, opens).verdict == Verdict::forward);
    std::vector<Packet> fragments =
        fragments_of(with_identification(udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)),
                                             payload_of_size(40)),
                                         7),
                     24);

    SECTION("when it arrives before the first fragment (RFC 4787 REQ-14 reordering, not buffered)") {
        Packet later = fragments.back();
        CHECK(inbound(nat, later).reason == DropReason::fragment_without_first);
        CHECK(later == fragments.back());
    }
    SECTION("when the first fragment of that datagram came from another source") {
        Packet first = fragments.front();
        REQUIRE(inbound(nat, first).verdict == Verdict::forward);
        Packet impostor = fragments.back();
        put32(impostor, 12, other_server.host_order());
        refresh_ip_checksum(impostor);
        Packet untouched = impostor;
        CHECK(inbound(nat, impostor).reason == DropReason::fragment_without_first);
        CHECK(impostor == untouched);
    }
    SECTION("when it carries another identification") {
        Packet first = fragments.front();
        REQUIRE(inbound(nat, first).verdict == Verdict::forward);
        Packet other = with_identification(fragments.back(), 8);
        CHECK(inbound(nat, other).reason == DropReason::fragment_without_first);
    }
    SECTION("when the first fragment was for the gateway itself, and refused by the input policy") {
        REQUIRE(mapped_port(nat, Protocol::udp, at(host_a, 5000)) != Port{40050});  // 40050 has no mapping
        std::vector<Packet> unmapped =
            fragments_of(with_identification(udp(at(server, 53), at(wan_address, 40050), payload_of_size(40)), 9), 24);
        REQUIRE(inbound(nat, unmapped.front()).reason == DropReason::denied_by_policy);
        CHECK(inbound(nat, unmapped.back()).reason == DropReason::fragment_without_first);
    }
    SECTION("when the first fragment was seen longer ago than the reassembly timeout") {
        Packet first = fragments.front();
        REQUIRE(inbound(nat, first, t0).verdict == Verdict::forward);
        Packet later = fragments.back();
        CHECK(inbound(nat, later, t0 + FragmentTable::lifetime).reason == DropReason::fragment_without_first);
    }
    CHECK(nat.counters().inbound_packets <= 1);
    CHECK(nat.counters().drops[DropReason::fragment_without_first] == 1);
}

TEST_CASE("later fragments of a datagram the gateway's own stack took follow it there") {
    EngineSetup setup = config();
    setup.firewall.policies.input = RuleAction::accept;
    PacketEngine nat(setup);
    std::vector<Packet> fragments =
        fragments_of(with_identification(udp(at(server, 53), at(wan_address, 40050), payload_of_size(40)), 9), 24);
    for (Packet& f : fragments) CHECK(inbound(nat, f).verdict == Verdict::deliver_locally);
    CHECK(nat.counters().drops.total() == 0);
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

}  // namespace gw::test

// Anti-spoofing: a packet from the LAN must come from the LAN networks, and a packet
// from the Internet must not claim a LAN, loopback, "this network", link-local,
// multicast, reserved or our own address (RFC 1122 3.2.1.3, RFC 5735, BCP 38). The
// check comes first: no mapping, forward, rule or policy can let such a packet through.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


struct Source {
    std::string description;
    Ipv4Address address;
};

// Everything open: endpoint-independent filtering on a live mapping, input accept,
// a DMZ. Only anti-spoofing stands between these packets and the LAN or the gateway.
EngineSetup wide_open() {
    EngineSetup setup = engine_setup(FilteringBehaviour::endpoint_independent);
    setup.firewall.policies.input = RuleAction::accept;
    setup.firewall.dmz_host = Ipv4Address::from_octets(192, 168, 1, 30);
    return setup;
}

}  // namespace

TEST_CASE("a LAN-side packet with a source outside lan_networks is dropped as spoofed_lan_source") {
    std::vector<Source> table{
        {"a private address of another network", Ipv4Address::from_octets(10, 0, 0, 5)},
        {"a public address", Ipv4Address::from_octets(198, 51, 100, 99)},
        {"the address just past the LAN network", Ipv4Address::from_octets(192, 169, 0, 1)},
    };
    for (const Source& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine engine(wide_open());
            for (Packet packet : {udp(at(row.address, 5000), at(server, 53)),
                                  tcp(at(row.address, 5000), at(server, 443), tcp_flag::syn),
                                  icmp_echo(row.address, server, icmp_type::echo_request, 5000, 1)}) {
                Packet untouched = packet;
                auto result = engine.translate_outbound(packet, L4Checksum::complete, t0);
                CHECK(result.verdict == Verdict::drop);
                CHECK(result.reason == DropReason::spoofed_lan_source);
                CHECK(packet == untouched);
            }
            CHECK(engine.counters().drops[DropReason::spoofed_lan_source] == 3);
            CHECK(engine.mappings().size() == 0);
        }
    }
}

TEST_CASE("a later fragment from the LAN with a source outside lan_networks is dropped too") {
    PacketEngine engine(wide_open());
    Packet later = fragments_of(udp(at(Ipv4Address::from_octets(10, 0, 0, 5), 5000), at(server, 53),
                                    payload_of_size(40)),
                                24)
                       .back();
    Packet untouched = later;
    auto result = engine.translate_outbound(later, L4Checksum::complete, t0);
    CHECK(result.reason == DropReason::spoofed_lan_source);
    CHECK(later == untouched);
}

TEST_CASE("WAN-side packets with LAN, loopback, 0/8, multicast or our own source are dropped as martian_wan_source") {
    std::vector<Source> table{
        {"a LAN address", host_b},
        {"loopback", Ipv4Address::from_octets(127, 0, 0, 1)},
        {"this network, 0/8", Ipv4Address::from_octets(0, 1, 2, 3)},
        {"the unspecified address", Ipv4Address::from_octets(0, 0, 0, 0)},
        {"link-local", Ipv4Address::from_octets(169, 254, 7, 7)},
        {"multicast", Ipv4Address::from_octets(224, 0, 0, 251)},
        {"reserved 240/4", Ipv4Address::from_octets(240, 0, 0, 1)},
        {"the limited broadcast", Ipv4Address::from_octets(255, 255, 255, 255)},
        {"our own WAN address", wan_address},
    };
    for (const Source& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine engine(wide_open());
            Packet opens = udp(at(host_a, 5000), at(server, 53));
            REQUIRE(engine.translate_outbound(opens, L4Checksum::complete, t0).verdict == Verdict::forward);

            for (Packet packet : {udp(at(row.address, 53), at(wan_address, 40000)),  // the live mapping
                                  udp(at(row.address, 53), at(wan_address, 5060)),   // the DMZ
                                  tcp(at(row.address, 5000), at(wan_address, 22), tcp_flag::syn),
                                  icmp_echo(row.address, wan_address, icmp_type::echo_request, 1, 1)}) {
                Packet untouched = packet;
                auto result = engine.translate_inbound(packet, L4Checksum::complete, t0 + 1s);
                CHECK(result.verdict == Verdict::drop);
                CHECK(result.reason == DropReason::martian_wan_source);
                CHECK(packet == untouched);
            }
            CHECK(engine.counters().drops[DropReason::martian_wan_source] == 4);
            CHECK(engine.counters().local_packets == 0);
            CHECK(engine.flows().size() == 1);
        }
    }
}

TEST_CASE("the addresses just outside the martian blocks are let through") {
    PacketEngine engine(wide_open());
    for (Ipv4Address source : {Ipv4Address::from_octets(1, 0, 0, 0), Ipv4Address::from_octets(126, 255, 255, 255),
                               Ipv4Address::from_octets(128, 0, 0, 0), Ipv4Address::from_octets(169, 253, 255, 255),
                               Ipv4Address::from_octets(223, 255, 255, 255), Ipv4Address::from_octets(203, 0, 113, 2)}) {
        Packet packet = udp(at(source, 53), at(wan_address, 53));
        INFO(source.to_string());
        CHECK(engine.translate_inbound(packet, L4Checksum::complete, t0).reason != DropReason::martian_wan_source);
    }
}

}  // namespace gw::test

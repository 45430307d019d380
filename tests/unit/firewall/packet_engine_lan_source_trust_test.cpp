// Source trust on the LAN (issue 14): a packet from the LAN to the gateway speaks for a
// LAN host only when its source is a host address of a LAN network and, where the daemon
// could see the frame, the frame came from the MAC the neighbour table holds for it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

constexpr Ipv4Address gateway_lan = Ipv4Address::from_octets(192, 168, 0, 1);
constexpr std::uint16_t natpmp_port = 5351;

// NAT-PMP and the IGD served on the LAN address, as the daemon sets them up.
EngineSetup with_port_control() {
    EngineSetup setup = engine_setup();
    setup.lan_addresses = {gateway_lan};
    setup.port_control = at(gateway_lan, natpmp_port);
    setup.upnp_http = at(gateway_lan, 49152);
    return setup;
}

Packet natpmp_request_from(Ipv4Address source) {
    return udp(at(source, 5350), at(gateway_lan, natpmp_port), Bytes{0, 0});
}

}  // namespace

TEST_CASE("a request to the gateway from its own, a network or a broadcast address on the LAN is dropped and named") {
    struct Row {
        std::string description;
        Ipv4Address source;
        DropReason reason;
    };
    const std::vector<Row> table{
        {"the gateway's LAN address (accept_local lets it in)", gateway_lan, DropReason::lan_source_is_gateway},
        {"the gateway's WAN address", wan_address, DropReason::lan_source_is_gateway},
        {"loopback", Ipv4Address::from_octets(127, 0, 0, 1), DropReason::lan_source_is_gateway},
        {"the LAN's network address", Ipv4Address::from_octets(192, 168, 0, 0), DropReason::lan_source_is_broadcast},
        {"the LAN's broadcast address", Ipv4Address::from_octets(192, 168, 255, 255),
         DropReason::lan_source_is_broadcast},
        {"an address off the LAN", Ipv4Address::from_octets(10, 1, 2, 3), DropReason::spoofed_lan_source},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine engine(with_port_control());
            Packet request = natpmp_request_from(row.source);
            auto result = engine.judge_input_from_lan(request, t0, LinkSource::owner);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == row.reason);
            CHECK(engine.counters().drops[row.reason] == 1);
            CHECK(engine.flows().size() == 0);
        }
    }
}

TEST_CASE("a LAN host's request passes only when its frame came from the MAC its address is known by") {
    PacketEngine engine(with_port_control());
    Packet from_owner = natpmp_request_from(host_a);
    CHECK(engine.judge_input_from_lan(from_owner, t0, LinkSource::owner).verdict == Verdict::deliver_locally);

    // Another LAN host writing host_a's address: the neighbour entry names host_a's MAC.
    Packet forged = natpmp_request_from(host_a);
    auto result = engine.judge_input_from_lan(forged, t0, LinkSource::other_owner);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::lan_source_wrong_mac);

    // An invented address: nobody answered for it yet.
    Packet invented = natpmp_request_from(Ipv4Address::from_octets(192, 168, 7, 7));
    result = engine.judge_input_from_lan(invented, t0, LinkSource::no_neighbour);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::lan_source_unresolved);
    CHECK(engine.counters().drops[DropReason::lan_source_wrong_mac] == 1);
    CHECK(engine.counters().drops[DropReason::lan_source_unresolved] == 1);
}

TEST_CASE("a hairpinned packet with a forged source is dropped like one to the gateway") {
    PacketEngine engine(with_port_control());
    Packet forged = udp(at(host_a, 5000), at(wan_address, 6000));
    auto result = engine.translate_hairpin(forged, L4Checksum::complete, t0, LinkSource::other_owner);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::lan_source_wrong_mac);
    Packet from_gateway = udp(at(gateway_lan, 5000), at(wan_address, 6000));
    CHECK(engine.translate_hairpin(from_gateway, L4Checksum::complete, t0).reason == DropReason::lan_source_is_gateway);
}

TEST_CASE("the engine entry point passes the link check on to the LAN input") {
    PacketEngine engine(with_port_control());
    Packet forged = natpmp_request_from(host_b);
    EnginePacket packet{forged, EnginePath::input_from_lan, L4Checksum::complete, LinkSource::other_owner};
    CHECK(engine.judge(packet, t0).reason == DropReason::lan_source_wrong_mac);
}

TEST_CASE("a mapping or forward naming the gateway itself or the broadcast address never delivers a WAN flow") {
    for (Ipv4Address target : {gateway_lan, Ipv4Address::from_octets(192, 168, 255, 255),
                               Ipv4Address::from_octets(192, 168, 0, 0), Ipv4Address::from_octets(127, 0, 0, 1)}) {
        DYNAMIC_SECTION(target.to_string()) {
            PacketEngine engine(with_port_control());
            REQUIRE(engine.open_port_mapping(DynamicForward{Protocol::udp, Port{1900}, at(target, 1900), std::nullopt}));
            Packet search = udp(at(server, 40000), at(wan_address, 1900), Bytes{'M'});
            Packet untouched = search;
            auto result = engine.translate_inbound(search, L4Checksum::complete, t0);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == DropReason::wan_flow_to_gateway);
            CHECK(search == untouched);
            CHECK(engine.flows().size() == 0);
        }
    }
}

TEST_CASE("a static forward to a LAN host still delivers") {
    EngineSetup setup = with_port_control();
    PortForward web;
    web.name = "web";
    web.protocol = Protocol::tcp;
    web.external_ports = {8080, 8080};
    web.internal = at(host_a, 80);
    setup.firewall.forwards = {web};
    PacketEngine engine(setup);
    Packet syn = tcp(at(server, 40000), at(wan_address, 8080), tcp_flag::syn);
    CHECK(engine.translate_inbound(syn, L4Checksum::complete, t0).verdict == Verdict::forward);
    CHECK(destination_address(syn) == host_a);
}

}  // namespace gw::test

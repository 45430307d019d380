// PacketEngine::reconfigure, what reload and `gatewayctl forwards` rest on: the rule and
// forward tables are swapped while flows, NAT mappings and dynamic (UPnP) mappings stay;
// what the engine cannot change live is refused by key and leaves it untouched.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


PortForward web_forward(bool enabled = true) {
    PortForward f;
    f.name = "web";
    f.protocol = Protocol::tcp;
    f.external_ports = {8080, 8080};
    f.internal = at(host_b, 80);
    f.enabled = enabled;
    return f;
}



}  // namespace

TEST_CASE("a reload keeps an open flow: its replies still come in and are translated") {
    PacketEngine engine(engine_setup());
    Packet out = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, out, t0).verdict == Verdict::forward);
    Port external{get16(out, 20)};

    EngineSetup changed = engine_setup();
    changed.firewall.filtering = FilteringBehaviour::endpoint_independent;
    changed.firewall.forwards = {web_forward()};
    REQUIRE(engine.reconfigure(changed).refused.empty());

    CHECK(engine.flows().size() == 1);
    CHECK(engine.mappings().size() == 1);
    Packet reply = udp(at(server, 53), at(wan_address, external.value));
    REQUIRE(inbound(engine, reply, t0 + 1ms).verdict == Verdict::forward);
    CHECK(reply == udp(at(server, 53), at(host_a, 5000)));
}

TEST_CASE("a reload opens a new forward and closes a removed one") {
    PacketEngine engine(engine_setup());
    Packet syn = tcp(at(server, 50000), at(wan_address, 8080), tcp_flag::syn);
    CHECK(inbound(engine, syn, t0).reason == DropReason::denied_by_policy);

    EngineSetup with_web = engine_setup();
    with_web.firewall.forwards = {web_forward()};
    REQUIRE(engine.reconfigure(with_web).refused.empty());
    syn = tcp(at(server, 50001), at(wan_address, 8080), tcp_flag::syn);
    CHECK(inbound(engine, syn, t0 + 1ms).verdict == Verdict::forward);

    with_web.firewall.forwards = {web_forward(false)};
    REQUIRE(engine.reconfigure(with_web).refused.empty());
    syn = tcp(at(server, 50002), at(wan_address, 8080), tcp_flag::syn);
    CHECK(inbound(engine, syn, t0 + 2ms).reason == DropReason::denied_by_policy);
}

TEST_CASE("a reload keeps a UPnP mapping, unless a new static forward now owns its port") {
    PacketEngine engine(engine_setup());
    REQUIRE(engine.open_port_mapping({Protocol::tcp, Port{8080}, at(host_a, 8080), std::nullopt}));
    REQUIRE(engine.open_port_mapping({Protocol::udp, Port{9000}, at(host_a, 9000), std::nullopt}));

    EngineSetup with_web = engine_setup();
    with_web.firewall.forwards = {web_forward()};
    auto result = engine.reconfigure(with_web);
    REQUIRE(result.refused.empty());
    REQUIRE(result.closed_mappings.size() == 1);
    CHECK(result.closed_mappings[0].external == Port{8080});
    CHECK(engine.has_port_mapping(Protocol::udp, Port{9000}));
    CHECK_FALSE(engine.has_port_mapping(Protocol::tcp, Port{8080}));

    Packet to_mapping = udp(at(server, 4000), at(wan_address, 9000));
    REQUIRE(inbound(engine, to_mapping, t0).verdict == Verdict::forward);
    CHECK(to_mapping == udp(at(server, 4000), at(host_a, 9000)));
    Packet to_forward = tcp(at(server, 50000), at(wan_address, 8080), tcp_flag::syn);
    REQUIRE(inbound(engine, to_forward, t0).verdict == Verdict::forward);
    CHECK(destination_address(to_forward) == host_b);
}

TEST_CASE("a reload that changes the WAN address or the port range is refused by key and changes nothing") {
    PacketEngine engine(engine_setup());
    EngineSetup changed = engine_setup(PortRange{20000, 20099});
    changed.nat.wan_address = Ipv4Address::from_octets(203, 0, 113, 9);
    changed.firewall.forwards = {web_forward()};
    auto result = engine.reconfigure(changed);
    REQUIRE(result.refused.size() == 2);
    CHECK_THAT(result.refused[0], Catch::StartsWith("wan.address cannot change while running"));
    CHECK_THAT(result.refused[1], Catch::StartsWith("nat.port_range cannot change while running"));
    Packet syn = tcp(at(server, 50000), at(wan_address, 8080), tcp_flag::syn);
    CHECK(inbound(engine, syn, t0).reason == DropReason::denied_by_policy);
    CHECK(engine.setup().firewall.forwards.empty());
}

TEST_CASE("a reload that changes a flow limit is refused by key: the tables were sized for the old ones") {
    PacketEngine engine(engine_setup());
    EngineSetup changed = engine_setup();
    changed.nat.limits.flows_per_host = 10;
    changed.nat.limits.embryonic_inbound = 20;
    auto result = engine.reconfigure(changed);
    REQUIRE(result.refused.size() == 2);
    CHECK_THAT(result.refused[0], Catch::StartsWith("nat.max_flows_per_host cannot change while running (16384 -> 10"));
    CHECK_THAT(result.refused[1], Catch::StartsWith("nat.max_embryonic_inbound cannot change while running"));
    CHECK(engine.setup().nat.limits == FlowLimits{});
}

}  // namespace gw::test

namespace gw::test {

TEST_CASE("a new WAN address ends the flows on the old one, keeps port mappings, and new flows leave from it") {
    PacketEngine engine(engine_setup());
    const Ipv4Address new_wan = Ipv4Address::from_octets(198, 51, 100, 9);
    Packet out = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, out, t0).verdict == Verdict::forward);
    Packet own_query = udp(at(wan_address, 33000), at(server, 53));
    REQUIRE(engine.track_local_output(own_query, t0).verdict == Verdict::deliver_locally);
    REQUIRE(engine.open_port_mapping({Protocol::tcp, Port{8080}, at(host_b, 80), std::nullopt}));
    REQUIRE(engine.flows().size() == 2);

    CHECK(engine.change_wan_address(wan_address) == 0);  // the same address changes nothing
    CHECK(engine.change_wan_address(new_wan) == 2);
    CHECK(engine.wan_address() == new_wan);
    CHECK(engine.flows().size() == 0);
    CHECK(engine.mappings().size() == 0);  // the flows held the NAT mapping

    // A reply to the old address finds nothing: it is not for the gateway any more.
    Packet late = udp(at(server, 53), at(wan_address, 5000));
    CHECK(inbound(engine, late, t0 + 1ms).reason == DropReason::not_addressed_to_gateway);
    // A new flow leaves from the new address; the port mapping reaches its host on it.
    Packet again = udp(at(host_a, 5001), at(server, 53));
    REQUIRE(outbound(engine, again, t0 + 2ms).verdict == Verdict::forward);
    CHECK(get32(again, 12) == new_wan.host_order());
    Packet syn = tcp(at(server, 50000), at(new_wan, 8080), tcp_flag::syn);
    REQUIRE(inbound(engine, syn, t0 + 3ms).verdict == Verdict::forward);
    CHECK(get32(syn, 16) == host_b.host_order());
}

}  // namespace gw::test

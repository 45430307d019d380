// The NAT-PMP/PCP server's UDP 5351 on the LAN address: open to LAN hosts under an input
// policy that drops, closed to the WAN, and still subject to an input rule.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

constexpr Ipv4Address gateway_lan = Ipv4Address::from_octets(192, 168, 1, 1);
constexpr std::uint16_t port_control_port = 5351;

EngineSetup port_control_setup() {
    EngineSetup setup = engine_setup();
    setup.port_control = at(gateway_lan, port_control_port);
    return setup;
}

Packet natpmp_request(Endpoint from, Endpoint to) { return udp(from, to, Bytes{0, 0}); }

}  // namespace

TEST_CASE("a LAN host's NAT-PMP request to the port-control server passes the input policy") {
    PacketEngine engine(port_control_setup());
    Packet request = natpmp_request(at(host_a, 40000), at(gateway_lan, port_control_port));
    CHECK(engine.judge_input_from_lan(request, t0).verdict == Verdict::deliver_locally);
}

TEST_CASE("without the port-control server, UDP 5351 from the LAN falls to the input policy") {
    PacketEngine engine(engine_setup());
    Packet request = natpmp_request(at(host_a, 40000), at(gateway_lan, port_control_port));
    auto result = engine.judge_input_from_lan(request, t0);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_policy);
}

TEST_CASE("only UDP to the server's own address and port is opened") {
    PacketEngine engine(port_control_setup());
    Packet other_port = natpmp_request(at(host_a, 40000), at(gateway_lan, 5350));
    Packet tcp_syn = tcp(at(host_a, 40001), at(gateway_lan, port_control_port), 0x02);
    CHECK(engine.judge_input_from_lan(other_port, t0).verdict == Verdict::drop);
    CHECK(engine.judge_input_from_lan(tcp_syn, t0).verdict == Verdict::drop);
}

TEST_CASE("NAT-PMP from the WAN side never reaches the server") {
    PacketEngine engine(port_control_setup());
    Packet to_wan_address = natpmp_request(at(server, 41000), at(wan_address, port_control_port));
    CHECK(inbound(engine, to_wan_address, t0).verdict == Verdict::drop);
}

TEST_CASE("an input rule that drops UDP 5351 wins over the server's opening") {
    EngineSetup setup = port_control_setup();
    FirewallRule no_natpmp;
    no_natpmp.name = "no-natpmp";
    no_natpmp.direction = RuleDirection::input;
    no_natpmp.action = RuleAction::drop;
    no_natpmp.protocol = Protocol::udp;
    no_natpmp.destination_ports = {{port_control_port, port_control_port}};
    setup.firewall.rules = {no_natpmp};
    PacketEngine engine(setup);
    Packet request = natpmp_request(at(host_a, 40000), at(gateway_lan, port_control_port));
    auto result = engine.judge_input_from_lan(request, t0);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_rule);
}

}  // namespace gw::test

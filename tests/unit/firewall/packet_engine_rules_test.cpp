// The rule table and the default policies as the engine applies them to new flows:
// outbound rules before a LAN host's flow is mapped, input rules for what is addressed
// to the gateway itself from either side. First match wins; no match, the policy.
#include <catch2/catch.hpp>

#include <string>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


constexpr Ipv4Address gateway_lan_address = Ipv4Address::from_octets(192, 168, 1, 1);
constexpr Ipv4Address stranger = Ipv4Address::from_octets(192, 0, 2, 99);

FirewallRule rule(std::string name, RuleDirection direction, RuleAction action) {
    FirewallRule r;
    r.name = std::move(name);
    r.direction = direction;
    r.action = action;
    return r;
}


}  // namespace

TEST_CASE("an outbound drop rule refuses a LAN host's new flow before it is mapped") {
    EngineSetup setup = engine_setup();
    FirewallRule no_b = rule("no-host-b", RuleDirection::outbound, RuleAction::drop);
    no_b.sources = {network("192.168.1.11/32")};
    setup.firewall.rules = {no_b};
    PacketEngine engine(setup);

    Packet from_b = udp(at(host_b, 5000), at(server, 53));
    Packet untouched = from_b;
    auto result = outbound(engine, from_b);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_rule);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "no-host-b");
    CHECK(from_b == untouched);
    CHECK(engine.mappings().size() == 0);
    CHECK(engine.flows().size() == 0);
    CHECK(engine.counters().drops[DropReason::denied_by_rule] == 1);

    Packet from_a = udp(at(host_a, 5000), at(server, 53));
    auto let_out = outbound(engine, from_a);
    CHECK(let_out.verdict == Verdict::forward);
    CHECK(let_out.rule == nullptr);
}

TEST_CASE("an outbound reject rule makes the verdict reject") {
    EngineSetup setup = engine_setup();
    FirewallRule no_smtp = rule("no-smtp", RuleDirection::outbound, RuleAction::reject);
    no_smtp.protocol = Protocol::tcp;
    no_smtp.destination_ports = {{25, 25}};
    setup.firewall.rules = {no_smtp};
    PacketEngine engine(setup);

    Packet smtp = tcp(at(host_a, 5000), at(server, 25), tcp_flag::syn);
    auto result = outbound(engine, smtp);
    CHECK(result.verdict == Verdict::reject);
    CHECK(result.reason == DropReason::denied_by_rule);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "no-smtp");

    Packet web = tcp(at(host_a, 5000), at(server, 443), tcp_flag::syn);
    CHECK(outbound(engine, web).verdict == Verdict::forward);
}

TEST_CASE("with an outbound drop policy only what a rule accepts leaves, and the rule is reported") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.outbound = RuleAction::drop;
    FirewallRule web = rule("web", RuleDirection::outbound, RuleAction::accept);
    web.protocol = Protocol::tcp;
    web.destination_ports = {{80, 80}, {443, 443}};
    web.log = true;
    setup.firewall.rules = {web};
    PacketEngine engine(setup);

    Packet https = tcp(at(host_a, 5000), at(server, 443), tcp_flag::syn);
    auto accepted = outbound(engine, https);
    CHECK(accepted.verdict == Verdict::forward);
    REQUIRE(accepted.rule != nullptr);
    CHECK(accepted.rule->name == "web");
    CHECK(accepted.log);

    Packet dns = udp(at(host_a, 5000), at(server, 53));
    auto refused = outbound(engine, dns);
    CHECK(refused.verdict == Verdict::drop);
    CHECK(refused.reason == DropReason::denied_by_policy);
    CHECK(refused.rule == nullptr);

    SECTION("while the accepted flow's replies and later packets need no rule") {
        Packet reply = tcp(at(server, 443), mapped_endpoint(engine, Protocol::tcp, at(host_a, 5000)),
                           tcp_flag::syn | tcp_flag::ack,
                           TcpNumbers{0x77770000, 0x01020305});
        CHECK(inbound(engine, reply, t0 + 1ms).verdict == Verdict::forward);
        Packet ack = tcp(at(host_a, 5000), at(server, 443), tcp_flag::ack, TcpNumbers{0x01020305, 0x77770001});
        auto later = outbound(engine, ack, t0 + 2ms);
        CHECK(later.verdict == Verdict::forward);
        CHECK(later.rule == nullptr);
    }
}

TEST_CASE("with an outbound reject policy an unmatched flow is rejected") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.outbound = RuleAction::reject;
    PacketEngine engine(setup);
    Packet dns = udp(at(host_a, 5000), at(server, 53));
    auto result = outbound(engine, dns);
    CHECK(result.verdict == Verdict::reject);
    CHECK(result.reason == DropReason::denied_by_policy);
    CHECK(result.rule == nullptr);
}

TEST_CASE("the default input policy drops unsolicited packets for the gateway from the WAN") {
    PacketEngine engine(engine_setup());
    for (Packet packet : {tcp(at(server, 50000), at(wan_address, 22), tcp_flag::syn),
                          udp(at(server, 4000), at(wan_address, 53)),
                          icmp_echo(server, wan_address, icmp_type::echo_request, 7, 1)}) {
        Packet untouched = packet;
        auto result = inbound(engine, packet);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::denied_by_policy);
        CHECK(result.rule == nullptr);
        CHECK(packet == untouched);
    }
    CHECK(engine.flows().size() == 0);
    CHECK(engine.counters().local_packets == 0);
}

TEST_CASE("with input policy accept an unsolicited packet for the gateway is delivered locally, never to the LAN") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::accept;
    PacketEngine engine(setup);
    // A live LAN flow, so that "for the gateway" is not "no flows at all".
    Packet other = udp(at(host_b, 7000), at(server, 53));
    REQUIRE(outbound(engine, other).verdict == Verdict::forward);

    for (Packet packet : {udp(at(server, 53), at(wan_address, 5000)),
                          tcp(at(server, 1234), at(wan_address, 22), tcp_flag::syn),
                          icmp_echo(server, wan_address, icmp_type::echo_request, 5000, 1),
                          ipv4(server, wan_address, ip_gre, payload_of_size(24))}) {
        Packet untouched = packet;
        auto result = inbound(engine, packet);
        CHECK(result.verdict == Verdict::deliver_locally);
        CHECK(result.reason == DropReason::none);
        CHECK(packet == untouched);
    }
    CHECK(engine.counters().local_packets == 4);
    CHECK(engine.counters().inbound_packets == 0);
}

TEST_CASE("with an input reject policy an unsolicited packet for the gateway is rejected") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::reject;
    PacketEngine engine(setup);
    Packet packet = tcp(at(server, 50000), at(wan_address, 22), tcp_flag::syn);
    auto result = inbound(engine, packet);
    CHECK(result.verdict == Verdict::reject);
    CHECK(result.reason == DropReason::denied_by_policy);
}

TEST_CASE("an input accept rule lets in what the input policy drops, and the exchange continues without it") {
    EngineSetup setup = engine_setup();
    FirewallRule ssh = rule("ssh-from-test-net-2", RuleDirection::input, RuleAction::accept);
    ssh.protocol = Protocol::tcp;
    ssh.sources = {network("198.51.100.0/24")};
    ssh.destination_ports = {{22, 22}};
    setup.firewall.rules = {ssh};
    PacketEngine engine(setup);

    // The gateway's own sshd: no translation either way.
    auto session = TcpConnection::inbound(at(server, 50000), at(wan_address, 22), at(wan_address, 22));
    Packet syn = session.from_client(tcp_flag::syn).sent;
    Packet untouched = syn;
    auto result = inbound(engine, syn);
    CHECK(result.verdict == Verdict::deliver_locally);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "ssh-from-test-net-2");
    CHECK(syn == untouched);

    Packet syn_ack = session.from_server(tcp_flag::syn | tcp_flag::ack).sent;
    CHECK(engine.track_local_output(syn_ack, t0 + 1ms).verdict == Verdict::deliver_locally);
    Packet ack = session.from_client(tcp_flag::ack, payload_of_size(30)).sent;
    auto later = inbound(engine, ack, t0 + 2ms);
    CHECK(later.verdict == Verdict::deliver_locally);
    CHECK(later.rule == nullptr);
    const Flow* flow = flow_between(engine, at(wan_address, 22), at(server, 50000));
    REQUIRE(flow);
    CHECK(flow->origin == FlowOrigin::to_gateway);
    CHECK(flow->tcp.state() == TcpState::established);

    SECTION("while a source the rule does not name falls to the policy") {
        Packet other = tcp(at(stranger, 50000), at(wan_address, 22), tcp_flag::syn);
        auto refused = inbound(engine, other, t0 + 3ms);
        CHECK(refused.verdict == Verdict::drop);
        CHECK(refused.reason == DropReason::denied_by_policy);
    }
}

TEST_CASE("an input drop rule refuses what the input policy accepts") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::accept;
    FirewallRule no_pings = rule("no-pings", RuleDirection::input, RuleAction::drop);
    no_pings.protocol = Protocol::icmp;
    no_pings.icmp_type = icmp_type::echo_request;
    setup.firewall.rules = {no_pings};
    PacketEngine engine(setup);

    Packet ping = icmp_echo(server, wan_address, icmp_type::echo_request, 7, 1);
    auto result = inbound(engine, ping);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_rule);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "no-pings");
    Packet dns = udp(at(server, 4000), at(wan_address, 53));
    CHECK(inbound(engine, dns).verdict == Verdict::deliver_locally);
}

TEST_CASE("judge_input_from_lan applies the input rules with the LAN interface as the arrival interface") {
    EngineSetup setup = engine_setup();
    FirewallRule dns = rule("dns-from-lan", RuleDirection::input, RuleAction::accept);
    dns.protocol = Protocol::udp;
    dns.destination_ports = {{53, 53}};
    dns.interface = std::string(lan_interface);
    setup.firewall.rules = {dns};
    PacketEngine engine(setup);

    Packet query = udp(at(host_a, 5353), at(gateway_lan_address, 53), payload_of_size(30));
    Packet untouched = query;
    auto result = engine.judge_input_from_lan(query, t0);
    CHECK(result.verdict == Verdict::deliver_locally);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "dns-from-lan");
    CHECK(query == untouched);

    SECTION("the gateway's answer and the rest of the exchange need no rule") {
        Packet answer = udp(at(gateway_lan_address, 53), at(host_a, 5353));
        CHECK(engine.track_local_output(answer, t0 + 1ms).verdict == Verdict::deliver_locally);
        Packet again = udp(at(host_a, 5353), at(gateway_lan_address, 53));
        auto later = engine.judge_input_from_lan(again, t0 + 2ms);
        CHECK(later.verdict == Verdict::deliver_locally);
        CHECK(later.rule == nullptr);
    }
    SECTION("the same query from the WAN does not match the rule") {
        Packet from_wan = udp(at(server, 5353), at(wan_address, 53));
        auto refused = inbound(engine, from_wan);
        CHECK(refused.verdict == Verdict::drop);
        CHECK(refused.reason == DropReason::denied_by_policy);
    }
    SECTION("what the rule does not name falls to the input policy") {
        Packet ssh = tcp(at(host_a, 50000), at(gateway_lan_address, 22), tcp_flag::syn);
        auto refused = engine.judge_input_from_lan(ssh, t0);
        CHECK(refused.verdict == Verdict::drop);
        CHECK(refused.reason == DropReason::denied_by_policy);
        CHECK(refused.rule == nullptr);
    }
}

TEST_CASE("judge_input_from_lan drops a packet whose source is outside the LAN networks") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::accept;
    PacketEngine engine(setup);
    Packet spoofed = udp(at(Ipv4Address::from_octets(10, 0, 0, 5), 5353), at(gateway_lan_address, 53));
    auto result = engine.judge_input_from_lan(spoofed, t0);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::spoofed_lan_source);
}

TEST_CASE("judge_input_from_lan drops a malformed packet with its reason") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::accept;
    PacketEngine engine(setup);
    Packet broken = with_broken_ip_checksum(udp(at(host_a, 5353), at(gateway_lan_address, 53)));
    auto result = engine.judge_input_from_lan(broken, t0);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::bad_ip_checksum);
}

}  // namespace gw::test

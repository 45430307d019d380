// Unsolicited inbound traffic: static forwards (one external port or a range, one to
// one, to a LAN endpoint; optionally only from some sources), the DMZ host for what no
// forward or mapping claims, and the inbound rules, which are judged before either.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


constexpr Ipv4Address rdp_host = Ipv4Address::from_octets(192, 168, 1, 20);
constexpr Ipv4Address game_host = Ipv4Address::from_octets(192, 168, 1, 21);
constexpr Ipv4Address ssh_host = Ipv4Address::from_octets(192, 168, 1, 22);
constexpr Ipv4Address dmz_host = Ipv4Address::from_octets(192, 168, 1, 30);
// TEST-NET-1: on the Internet, outside every allowed_sources and rule below.
constexpr Ipv4Address stranger = Ipv4Address::from_octets(192, 0, 2, 99);

PortForward forward(std::string name, Protocol protocol, PortRange external, Endpoint internal) {
    PortForward f;
    f.name = std::move(name);
    f.protocol = protocol;
    f.external_ports = external;
    f.internal = internal;
    return f;
}

EngineSetup with_forwards() {
    EngineSetup setup = engine_setup();
    PortForward ssh = forward("ssh", Protocol::tcp, {2222, 2222}, at(ssh_host, 22));
    ssh.allowed_sources = {network("198.51.100.0/24")};
    PortForward old = forward("old-web", Protocol::tcp, {8080, 8080}, at(rdp_host, 80));
    old.enabled = false;
    setup.firewall.forwards = {
        forward("rdp", Protocol::tcp, {3389, 3389}, at(rdp_host, 3389)),
        forward("game", Protocol::udp, {27015, 27017}, at(game_host, 37015)),
        ssh,
        old,
    };
    return setup;
}

FirewallRule inbound_rule(std::string name, RuleAction action) {
    FirewallRule rule;
    rule.name = std::move(name);
    rule.direction = RuleDirection::inbound;
    rule.action = action;
    return rule;
}


}  // namespace

TEST_CASE("a static forward to TCP 3389 lets a WAN SYN in and translates it to the LAN endpoint") {
    PacketEngine engine(with_forwards());
    auto rdp = TcpConnection::inbound(at(server, 50000), at(wan_address, 3389), at(rdp_host, 3389));
    Crossing syn = rdp.from_client(tcp_flag::syn);
    Packet packet = syn.sent;
    auto result = inbound(engine, packet);
    CHECK(result.verdict == Verdict::forward);
    CHECK(result.rule == nullptr);
    CHECK(packet == syn.translated);
    CHECK(engine.counters().flows_created == 1);

    SECTION("and the LAN server's answers leave from the forwarded port") {
        Crossing syn_ack = rdp.from_server(tcp_flag::syn | tcp_flag::ack);
        packet = syn_ack.sent;
        REQUIRE(outbound(engine, packet, t0 + 1ms).verdict == Verdict::forward);
        CHECK(packet == syn_ack.translated);

        Crossing ack = rdp.from_client(tcp_flag::ack, payload_of_size(20));
        packet = ack.sent;
        REQUIRE(inbound(engine, packet, t0 + 2ms).verdict == Verdict::forward);
        CHECK(packet == ack.translated);
        const Flow* flow = flow_between(engine, at(rdp_host, 3389), at(server, 50000));
        REQUIRE(flow);
        CHECK(flow->origin == FlowOrigin::wan);
        CHECK(flow->tcp.state() == TcpState::established);
        CHECK(engine.mappings().size() == 0);  // a forward is no dynamic mapping
    }
}

TEST_CASE("a forward lets in TCP only from a SYN") {
    PacketEngine engine(with_forwards());
    auto rdp = TcpConnection::inbound(at(server, 50000), at(wan_address, 3389), at(rdp_host, 3389));
    Packet packet = rdp.from_client(tcp_flag::ack, payload_of_size(10)).sent;
    Packet untouched = packet;
    auto result = inbound(engine, packet);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::invalid_tcp);
    CHECK(packet == untouched);
    CHECK(engine.flows().size() == 0);
}

TEST_CASE("a forwarded port range maps one to one onto the LAN ports") {
    for (std::uint16_t offset : {0, 1, 2}) {
        DYNAMIC_SECTION("external port " << 27015 + offset) {
            PacketEngine engine(with_forwards());
            Packet packet = udp(at(server, 4000), at(wan_address, std::uint16_t(27015 + offset)), payload_of_size(6));
            REQUIRE(inbound(engine, packet).verdict == Verdict::forward);
            CHECK(packet == udp(at(server, 4000), at(game_host, std::uint16_t(37015 + offset)), payload_of_size(6)));

            Packet answer = udp(at(game_host, std::uint16_t(37015 + offset)), at(server, 4000));
            REQUIRE(outbound(engine, answer, t0 + 1ms).verdict == Verdict::forward);
            CHECK(answer == udp(at(wan_address, std::uint16_t(27015 + offset)), at(server, 4000)));
        }
    }
    SECTION("and the ports either side of the range are not forwarded") {
        PacketEngine engine(with_forwards());
        for (std::uint16_t port : {27014, 27018}) {
            Packet packet = udp(at(server, 4000), at(wan_address, port));
            CHECK(inbound(engine, packet).reason == DropReason::denied_by_policy);
        }
    }
}

TEST_CASE("a forward's allowed_sources refuse every other source") {
    PacketEngine engine(with_forwards());
    Packet from_stranger = tcp(at(stranger, 50000), at(wan_address, 2222), tcp_flag::syn);
    Packet untouched = from_stranger;
    auto refused = inbound(engine, from_stranger);
    CHECK(refused.verdict == Verdict::drop);
    CHECK(refused.reason == DropReason::forward_source_not_allowed);
    CHECK(from_stranger == untouched);
    CHECK(engine.counters().drops[DropReason::forward_source_not_allowed] == 1);

    Packet from_allowed = tcp(at(server, 50000), at(wan_address, 2222), tcp_flag::syn);
    CHECK(inbound(engine, from_allowed).verdict == Verdict::forward);
    CHECK(destination_of(from_allowed) == at(ssh_host, 22));
}

TEST_CASE("a disabled forward is closed") {
    PacketEngine engine(with_forwards());
    Packet packet = tcp(at(server, 50000), at(wan_address, 8080), tcp_flag::syn);
    Packet untouched = packet;
    auto result = inbound(engine, packet);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_policy);
    CHECK(packet == untouched);
}

TEST_CASE("a forward's ports are never handed out to dynamic mappings") {
    EngineSetup setup = engine_setup(PortRange{40000, 40001});
    setup.firewall.forwards = {forward("in-range", Protocol::tcp, {40000, 40000}, at(rdp_host, 3389))};
    PacketEngine engine(setup);

    // host_a's own port is 40000: preserving it would hand the forward's port out.
    Packet first = tcp(at(host_a, 40000), at(server, 443), tcp_flag::syn);
    REQUIRE(outbound(engine, first).verdict == Verdict::forward);
    CHECK(source_of(first) == at(wan_address, 40001));
    Packet second = tcp(at(host_b, 5000), at(server, 443), tcp_flag::syn);
    CHECK(outbound(engine, second).reason == DropReason::ports_exhausted);

    SECTION("while the same port of the other protocol stays free for mappings") {
        Packet datagram = udp(at(host_a, 40000), at(server, 53));
        REQUIRE(outbound(engine, datagram).verdict == Verdict::forward);
        CHECK(source_of(datagram) == at(wan_address, 40000));
    }
    SECTION("and the forward still works") {
        Packet syn = tcp(at(server, 50000), at(wan_address, 40000), tcp_flag::syn);
        REQUIRE(inbound(engine, syn).verdict == Verdict::forward);
        CHECK(destination_of(syn) == at(rdp_host, 3389));
    }
}

TEST_CASE("the DMZ host receives unmatched inbound TCP, UDP and pings") {
    EngineSetup setup = with_forwards();
    setup.firewall.dmz_host = dmz_host;
    PacketEngine engine(setup);

    SECTION("TCP") {
        auto web = TcpConnection::inbound(at(server, 50000), at(wan_address, 8443), at(dmz_host, 8443));
        Crossing syn = web.from_client(tcp_flag::syn);
        Packet packet = syn.sent;
        REQUIRE(inbound(engine, packet).verdict == Verdict::forward);
        CHECK(packet == syn.translated);
        Crossing syn_ack = web.from_server(tcp_flag::syn | tcp_flag::ack);
        packet = syn_ack.sent;
        REQUIRE(outbound(engine, packet, t0 + 1ms).verdict == Verdict::forward);
        CHECK(packet == syn_ack.translated);
    }
    SECTION("UDP") {
        Packet packet = udp(at(server, 4000), at(wan_address, 5060), payload_of_size(9));
        REQUIRE(inbound(engine, packet).verdict == Verdict::forward);
        CHECK(packet == udp(at(server, 4000), at(dmz_host, 5060), payload_of_size(9)));
        Packet answer = udp(at(dmz_host, 5060), at(server, 4000));
        REQUIRE(outbound(engine, answer, t0 + 1ms).verdict == Verdict::forward);
        CHECK(answer == udp(at(wan_address, 5060), at(server, 4000)));
    }
    SECTION("a ping, and its echo reply goes back out") {
        Packet ping = icmp_echo(server, wan_address, icmp_type::echo_request, 0x1234, 1, payload_of_size(16));
        REQUIRE(inbound(engine, ping).verdict == Verdict::forward);
        CHECK(ping == icmp_echo(server, dmz_host, icmp_type::echo_request, 0x1234, 1, payload_of_size(16)));
        Packet pong = icmp_echo(dmz_host, server, icmp_type::echo_reply, 0x1234, 1, payload_of_size(16));
        REQUIRE(outbound(engine, pong, t0 + 1ms).verdict == Verdict::forward);
        CHECK(pong == icmp_echo(wan_address, server, icmp_type::echo_reply, 0x1234, 1, payload_of_size(16)));
    }
    SECTION("but not what a forward claims") {
        Packet syn = tcp(at(server, 50000), at(wan_address, 3389), tcp_flag::syn);
        REQUIRE(inbound(engine, syn).verdict == Verdict::forward);
        CHECK(destination_of(syn) == at(rdp_host, 3389));
    }
    SECTION("nor the replies of a LAN host's flow") {
        Packet query = udp(at(host_a, 5000), at(server, 53));
        REQUIRE(outbound(engine, query).verdict == Verdict::forward);
        Packet reply = udp(at(server, 53), mapped_endpoint(engine, Protocol::udp, at(host_a, 5000)));
        REQUIRE(inbound(engine, reply, t0 + 1ms).verdict == Verdict::forward);
        CHECK(destination_of(reply) == at(host_a, 5000));
    }
    SECTION("and DMZ TCP starts with a SYN too") {
        Packet stray = tcp(at(server, 50000), at(wan_address, 8443), tcp_flag::ack);
        CHECK(inbound(engine, stray).reason == DropReason::invalid_tcp);
    }
}

TEST_CASE("an inbound rule that drops a forward's traffic from one subnet wins over the forward") {
    EngineSetup setup = with_forwards();
    FirewallRule rule = inbound_rule("no-rdp-from-test-net-2", RuleAction::drop);
    rule.protocol = Protocol::tcp;
    rule.sources = {network("198.51.100.0/24")};
    rule.destination_ports = {{3389, 3389}};
    rule.log = true;
    setup.firewall.rules = {rule};
    PacketEngine engine(setup);

    Packet refused = tcp(at(server, 50000), at(wan_address, 3389), tcp_flag::syn);
    Packet untouched = refused;
    auto result = inbound(engine, refused);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_rule);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "no-rdp-from-test-net-2");
    CHECK(result.log);
    CHECK(refused == untouched);
    CHECK(engine.flows().size() == 0);

    Packet admitted = tcp(at(stranger, 50000), at(wan_address, 3389), tcp_flag::syn);
    auto let_in = inbound(engine, admitted);
    CHECK(let_in.verdict == Verdict::forward);
    CHECK(let_in.rule == nullptr);
}

TEST_CASE("an inbound rule that rejects a forward's traffic makes the verdict reject") {
    EngineSetup setup = with_forwards();
    FirewallRule rule = inbound_rule("reject-rdp", RuleAction::reject);
    rule.sources = {network("198.51.100.0/24")};
    setup.firewall.rules = {rule};
    PacketEngine engine(setup);

    Packet packet = tcp(at(server, 50000), at(wan_address, 3389), tcp_flag::syn);
    Packet untouched = packet;
    auto result = inbound(engine, packet);
    CHECK(result.verdict == Verdict::reject);
    CHECK(result.reason == DropReason::denied_by_rule);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "reject-rdp");
    CHECK(packet == untouched);
    CHECK(engine.counters().drops[DropReason::denied_by_rule] == 1);
}

TEST_CASE("inbound rules see the LAN-side destination of a forward, not the WAN address") {
    EngineSetup setup = with_forwards();
    FirewallRule by_wan_address = inbound_rule("by-wan-address", RuleAction::drop);
    by_wan_address.destinations = {network("203.0.113.1/32")};
    by_wan_address.destination_ports = {{3389, 3389}};
    FirewallRule by_lan_endpoint = inbound_rule("by-lan-endpoint", RuleAction::drop);
    by_lan_endpoint.destinations = {network("192.168.1.21/32")};
    by_lan_endpoint.destination_ports = {{37016, 37016}};
    setup.firewall.rules = {by_wan_address, by_lan_endpoint};
    PacketEngine engine(setup);

    Packet rdp = tcp(at(server, 50000), at(wan_address, 3389), tcp_flag::syn);
    CHECK(inbound(engine, rdp).verdict == Verdict::forward);
    Packet game = udp(at(server, 4000), at(wan_address, 27016));
    auto result = inbound(engine, game);
    CHECK(result.reason == DropReason::denied_by_rule);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "by-lan-endpoint");
}

TEST_CASE("an inbound accept rule that lets a forward's traffic in is reported with the verdict") {
    EngineSetup setup = with_forwards();
    FirewallRule rule = inbound_rule("log-rdp", RuleAction::accept);
    rule.destination_ports = {{3389, 3389}};
    rule.log = true;
    setup.firewall.rules = {rule};
    PacketEngine engine(setup);
    Packet packet = tcp(at(server, 50000), at(wan_address, 3389), tcp_flag::syn);
    auto result = inbound(engine, packet);
    CHECK(result.verdict == Verdict::forward);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "log-rdp");
    CHECK(result.log);
}

TEST_CASE("an inbound drop rule also refuses a host endpoint-independent filtering would let in") {
    EngineSetup setup = engine_setup(FilteringBehaviour::endpoint_independent);
    FirewallRule rule = inbound_rule("no-stranger", RuleAction::drop);
    rule.sources = {network("192.0.2.0/24")};
    setup.firewall.rules = {rule};
    PacketEngine engine(setup);
    Packet opens = udp(at(host_a, 5000), at(server, 3478));
    REQUIRE(outbound(engine, opens).verdict == Verdict::forward);
    const Endpoint mapped = mapped_endpoint(engine, Protocol::udp, at(host_a, 5000));

    Packet packet = udp(at(stranger, 3478), mapped);
    auto result = inbound(engine, packet, t0 + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::denied_by_rule);
    // The refused packet took no reference: the mapping goes with host_a's flow.
    REQUIRE(engine.mappings().find_by_external(Protocol::udp, mapped.port));
    CHECK(engine.mappings().find_by_external(Protocol::udp, mapped.port)->flow_count == 1);
    CHECK(engine.expire_idle(t0 + 300s) == 1);
    CHECK(engine.mappings().size() == 0);
}

TEST_CASE("the replies of an established forward are not judged by the inbound rules again") {
    EngineSetup setup = with_forwards();
    FirewallRule rule = inbound_rule("one-rdp-a-minute", RuleAction::accept);
    rule.destination_ports = {{3389, 3389}};
    rule.rate_limit = RateLimit{0, 1, 1};
    FirewallRule rest = inbound_rule("no-more-rdp", RuleAction::drop);
    rest.destination_ports = {{3389, 3389}};
    setup.firewall.rules = {rule, rest};
    PacketEngine engine(setup);

    auto rdp = TcpConnection::inbound(at(server, 50000), at(wan_address, 3389), at(rdp_host, 3389));
    Packet packet = rdp.from_client(tcp_flag::syn).sent;
    REQUIRE(inbound(engine, packet).verdict == Verdict::forward);
    packet = rdp.from_server(tcp_flag::syn | tcp_flag::ack).sent;
    REQUIRE(outbound(engine, packet, t0 + 1ms).verdict == Verdict::forward);
    packet = rdp.from_client(tcp_flag::ack, payload_of_size(10)).sent;
    CHECK(inbound(engine, packet, t0 + 2ms).verdict == Verdict::forward);

    Packet second = tcp(at(server, 50001), at(wan_address, 3389), tcp_flag::syn);
    auto result = inbound(engine, second, t0 + 3ms);
    CHECK(result.reason == DropReason::denied_by_rule);
    REQUIRE(result.rule != nullptr);
    CHECK(result.rule->name == "no-more-rdp");
}

TEST_CASE("a port mapping granted on a port a NAT mapping holds gets new inbound traffic, and keeps the port") {
    EngineSetup setup = engine_setup(FilteringBehaviour::endpoint_independent);
    PacketEngine engine(setup);
    // host_a's NAT mapping preserves its port 40000.
    Packet out = udp(at(host_a, 40000), at(server, 53));
    REQUIRE(outbound(engine, out).verdict == Verdict::forward);
    REQUIRE(source_of(out) == at(wan_address, 40000));
    // Then host_b is granted UDP 40000 (UPnP).
    REQUIRE(engine.open_port_mapping({Protocol::udp, Port{40000}, at(host_b, 40000), std::nullopt}));

    Packet from_stranger = udp(at(stranger, 7000), at(wan_address, 40000));
    REQUIRE(inbound(engine, from_stranger).verdict == Verdict::forward);
    CHECK(destination_of(from_stranger) == at(host_b, 40000));

    SECTION("the NAT mapping's own flow still reaches host_a") {
        Packet reply = udp(at(server, 53), at(wan_address, 40000));
        REQUIRE(inbound(engine, reply).verdict == Verdict::forward);
        CHECK(destination_of(reply) == at(host_a, 40000));
    }
    SECTION("once host_a's mapping is gone, no new NAT mapping may take the granted port") {
        engine.expire_idle(t0 + std::chrono::seconds(setup.nat.timeouts.udp) + std::chrono::seconds(1));
        Packet again = udp(at(Ipv4Address::from_octets(192, 168, 1, 12), 40000), at(server, 53));
        REQUIRE(outbound(engine, again, t0 + std::chrono::seconds(400)).verdict == Verdict::forward);
        CHECK(source_of(again).port != Port{40000});
    }
}

TEST_CASE("reconfiguring without a forward ends the flows it had let in") {
    EngineSetup setup = with_forwards();
    PacketEngine engine(setup);
    Packet syn = tcp(at(server, 50000), at(wan_address, 3389), tcp_flag::syn);
    REQUIRE(inbound(engine, syn).verdict == Verdict::forward);
    REQUIRE(flow_between(engine, at(rdp_host, 3389), at(server, 50000)) != nullptr);

    EngineSetup without = setup;
    without.firewall.forwards.erase(without.firewall.forwards.begin());  // "rdp"
    REQUIRE(engine.reconfigure(without).refused.empty());
    CHECK(flow_between(engine, at(rdp_host, 3389), at(server, 50000)) == nullptr);
    Packet more = tcp(at(server, 50000), at(wan_address, 3389), tcp_flag::ack);
    CHECK(inbound(engine, more).verdict != Verdict::forward);
}

}  // namespace gw::test

// The gateway's own traffic: what it sends is tracked (track_local_output) so that the
// replies are delivered to it under any input policy, while anything unsolicited for
// the same port is judged by the input rules like the rest. It is never translated.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;



}  // namespace

TEST_CASE("the gateway's own query: the reply from the WAN is delivered locally, an unsolicited packet to the same port is dropped") {
    PacketEngine engine(engine_setup());
    Packet query = udp(at(wan_address, 33000), at(server, 53), payload_of_size(30));
    Packet sent = query;
    CHECK(engine.track_local_output(query, t0).verdict == Verdict::deliver_locally);
    CHECK(query == sent);

    Packet reply = udp(at(server, 53), at(wan_address, 33000), payload_of_size(60));
    Packet untouched = reply;
    auto result = inbound(engine, reply, t0 + 10ms);
    CHECK(result.verdict == Verdict::deliver_locally);
    CHECK(reply == untouched);

    for (Packet unsolicited : {udp(at(other_server, 53), at(wan_address, 33000)),
                               udp(at(server, 54), at(wan_address, 33000))}) {
        auto refused = inbound(engine, unsolicited, t0 + 20ms);
        CHECK(refused.verdict == Verdict::drop);
        CHECK(refused.reason == DropReason::denied_by_policy);
    }
    CHECK(engine.mappings().size() == 0);  // the gateway's own ports are no mappings
}

TEST_CASE("the gateway's own TCP connection: its handshake and data come back, a forged RST does not") {
    PacketEngine engine(engine_setup());
    auto c = TcpConnection::outbound(at(wan_address, 45000), at(server, 443), at(wan_address, 45000));
    Packet syn = c.from_client(tcp_flag::syn).sent;
    REQUIRE(engine.track_local_output(syn, t0).verdict == Verdict::deliver_locally);
    Packet syn_ack = c.from_server(tcp_flag::syn | tcp_flag::ack).sent;
    CHECK(inbound(engine, syn_ack, t0 + 1ms).verdict == Verdict::deliver_locally);
    Packet ack = c.from_client(tcp_flag::ack).sent;
    engine.track_local_output(ack, t0 + 2ms);
    const Flow* flow = flow_between(engine, at(wan_address, 45000), at(server, 443));
    REQUIRE(flow);
    CHECK(flow->origin == FlowOrigin::gateway);
    CHECK(flow->tcp.state() == TcpState::established);
    Packet data = c.from_server(tcp_flag::ack, payload_of_size(500)).sent;
    CHECK(inbound(engine, data, t0 + 3ms).verdict == Verdict::deliver_locally);

    Packet forged = c.from_server_at(c.server_next() + 0x40000000, tcp_flag::rst).sent;
    auto result = inbound(engine, forged, t0 + 4ms);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::invalid_tcp);
}

TEST_CASE("the gateway's own ping: the echo reply is delivered locally, another identifier's is not") {
    PacketEngine engine(engine_setup());
    Packet ping = icmp_echo(wan_address, server, icmp_type::echo_request, 777, 1);
    REQUIRE(engine.track_local_output(ping, t0).verdict == Verdict::deliver_locally);
    Packet pong = icmp_echo(server, wan_address, icmp_type::echo_reply, 777, 1);
    CHECK(inbound(engine, pong, t0 + 5ms).verdict == Verdict::deliver_locally);
    Packet stray = icmp_echo(server, wan_address, icmp_type::echo_reply, 778, 1);
    CHECK(inbound(engine, stray, t0 + 5ms).reason == DropReason::denied_by_policy);
}

TEST_CASE("a reply to the gateway's own query comes only until its flow's timeout") {
    PacketEngine engine(engine_setup());
    Packet query = udp(at(wan_address, 33000), at(server, 53));
    engine.track_local_output(query, t0);
    Packet in_time = udp(at(server, 53), at(wan_address, 33000));
    CHECK(inbound(engine, in_time, t0 + 300s - 1ms).verdict == Verdict::deliver_locally);
    Packet late = udp(at(server, 53), at(wan_address, 33000));
    CHECK(inbound(engine, late, t0 + 300s - 1ms + 300s).reason == DropReason::denied_by_policy);
}

TEST_CASE("track_local_output never refuses the gateway's own packets, even malformed") {
    PacketEngine engine(engine_setup());
    Packet broken = with_broken_ip_checksum(udp(at(wan_address, 33000), at(server, 53)));
    CHECK(engine.track_local_output(broken, t0).verdict == Verdict::deliver_locally);
    Packet gre = ipv4(wan_address, server, ip_gre, payload_of_size(24));
    CHECK(engine.track_local_output(gre, t0).verdict == Verdict::deliver_locally);
    CHECK(engine.flows().size() == 0);
}

TEST_CASE("the gateway's multicast and broadcast packets take no slot of the flow table (no reply comes from a group)") {
    PacketEngine engine(engine_setup());
    constexpr Ipv4Address gateway_lan = Ipv4Address::from_octets(192, 168, 1, 1);
    Packet natpmp_announcement = udp(at(gateway_lan, 5351), at(Ipv4Address::from_octets(224, 0, 0, 1), 5350));
    Packet ssdp_notify = udp(at(gateway_lan, 1900), at(Ipv4Address::from_octets(239, 255, 255, 250), 1900));
    Packet broadcast = udp(at(gateway_lan, 68), at(Ipv4Address::from_octets(255, 255, 255, 255), 67));
    for (Packet* p : {&natpmp_announcement, &ssdp_notify, &broadcast})
        CHECK(engine.track_local_output(*p, t0).verdict == Verdict::deliver_locally);
    CHECK(engine.flows().size() == 0);
    // A unicast answer still is tracked.
    Packet answer = udp(at(gateway_lan, 5351), at(host_a, 40000));
    engine.track_local_output(answer, t0);
    CHECK(engine.flows().size() == 1);
}

TEST_CASE("the gateway's flow and a LAN host's flow to the same remote on the same external port stay apart") {
    // nat.port_range may overlap the gateway's own ports (the daemon only warns); both
    // flows then have the same external tuple (udp, 40000, server:53).
    PacketEngine engine(engine_setup());
    Packet own = udp(at(wan_address, 40000), at(server, 53));
    engine.track_local_output(own, t0);
    Packet lan = udp(at(host_a, 40000), at(server, 53));
    REQUIRE(engine.translate_outbound(lan, L4Checksum::complete, t0 + 100s).verdict == Verdict::forward);
    Endpoint external = source_of(lan);

    // The gateway's flow goes first; host_a's lives until t0 + 400 s.
    engine.expire_idle(t0 + 300s);
    Packet reply = udp(at(server, 53), at(wan_address, external.port.value));
    auto result = inbound(engine, reply, t0 + 301s);
    CHECK(result.reason == DropReason::none);
    CHECK(result.verdict == Verdict::forward);
    CHECK(destination_of(reply) == at(host_a, 40000));
}

TEST_CASE("a TCP exchange an input rule admitted mid-stream keeps being delivered") {
    // After a daemon restart the gateway's own sessions (ssh to it, say) arrive mid-stream;
    // an input rule accepts them, and the rest of the session must follow.
    EngineSetup setup = engine_setup();
    FirewallRule ssh;
    ssh.name = "ssh";
    ssh.direction = RuleDirection::input;
    ssh.protocol = Protocol::tcp;
    ssh.destination_ports = {{22, 22}};
    ssh.action = RuleAction::accept;
    setup.firewall.rules = {ssh};
    PacketEngine engine(setup);

    auto session = TcpConnection::inbound(at(server, 50000), at(wan_address, 22), at(wan_address, 22));
    Packet first = session.from_client(tcp_flag::ack, payload_of_size(48)).sent;
    REQUIRE(inbound(engine, first, t0).verdict == Verdict::deliver_locally);
    Packet answer = session.from_server(tcp_flag::ack, payload_of_size(48)).sent;
    engine.track_local_output(answer, t0 + 1ms);
    Packet second = session.from_client(tcp_flag::ack, payload_of_size(48)).sent;
    auto result = inbound(engine, second, t0 + 2ms);
    CHECK(result.reason == DropReason::none);
    CHECK(result.verdict == Verdict::deliver_locally);
}

TEST_CASE("a WAN echo request is for the gateway whatever identifier it carries, never for a LAN host's ping") {
    EngineSetup setup = engine_setup();
    setup.firewall.policies.input = RuleAction::accept;
    PacketEngine engine(setup);
    // host_a pings server with identifier 40000, which the NAT keeps.
    Packet ping_out = icmp_echo(host_a, server, icmp_type::echo_request, 40000, 1);
    REQUIRE(engine.translate_outbound(ping_out, L4Checksum::complete, t0).verdict == Verdict::forward);
    REQUIRE(source_of(ping_out).port == Port{40000});

    // An echo request's identifier is its sender's choice, not a port of ours.
    for (Ipv4Address sender : {other_server, server}) {
        Packet ping_in = icmp_echo(sender, wan_address, icmp_type::echo_request, 40000, 9);
        Packet untouched = ping_in;
        auto result = inbound(engine, ping_in, t0 + 1s);
        INFO("from " << sender.to_string());
        CHECK(result.verdict == Verdict::deliver_locally);
        CHECK(ping_in == untouched);
    }
}

}  // namespace gw::test

namespace gw::test {

TEST_CASE("the unicast answers to the gateway's own SSDP M-SEARCH are let in for a few seconds, nothing else is") {
    PacketEngine engine(engine_setup());
    constexpr Ipv4Address ssdp_group = Ipv4Address::from_octets(239, 255, 255, 250);
    constexpr Ipv4Address late_igd = Ipv4Address::from_octets(198, 51, 100, 9);
    const std::string text = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMX: 2\r\n\r\n";
    const Bytes search_text(text.begin(), text.end());
    auto answer_from = [](Ipv4Address igd, std::uint16_t from_port, std::uint16_t to_port) {
        return udp(at(igd, from_port), at(wan_address, to_port), payload_of_size(200));
    };

    // Before any search, an "answer" is as unsolicited as any other datagram.
    Packet early = answer_from(router, 1900, 40000);
    CHECK(inbound(engine, early, t0).verdict == Verdict::drop);

    // Our own SSDP server's datagrams (from 1900) open nothing.
    Packet notify = udp(at(wan_address, 1900), at(ssdp_group, 1900), search_text);
    CHECK(engine.track_local_output(notify, t0).verdict == Verdict::deliver_locally);
    Packet to_server_port = answer_from(router, 1900, 1900);
    CHECK(inbound(engine, to_server_port, t0 + 1ms).verdict == Verdict::drop);

    Packet search = udp(at(wan_address, 40000), at(ssdp_group, 1900), search_text);
    CHECK(engine.track_local_output(search, t0 + 2ms).verdict == Verdict::deliver_locally);
    for (Ipv4Address igd : {router, other_server}) {
        Packet answer = answer_from(igd, 1900, 40000);
        CHECK(inbound(engine, answer, t0 + 100ms).verdict == Verdict::deliver_locally);
    }
    Packet other_source_port = answer_from(router, 1901, 40000);
    CHECK(inbound(engine, other_source_port, t0 + 200ms).reason == DropReason::denied_by_policy);
    Packet other_port = answer_from(router, 1900, 40001);
    CHECK(inbound(engine, other_port, t0 + 200ms).reason == DropReason::denied_by_policy);
    Packet too_late = answer_from(late_igd, 1900, 40000);
    CHECK(inbound(engine, too_late, t0 + 6s).reason == DropReason::denied_by_policy);
}

}  // namespace gw::test

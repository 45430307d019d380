// IPv6 to the gateway itself (issue 13): the input rules and policy decide, as for IPv4,
// whether or not lan.ipv6_networks is set; what the gateway needs (neighbour discovery,
// router advertisements, MLD, replies to its own flows, DHCPv6 replies, errors about its
// own flows) is let in.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;

const Ipv6Address gateway_wan = address("2001:db8:ff::1");
const Ipv6Address gateway_wan_link_local = address("fe80::2");
const Ipv6Address gateway_lan = address("2001:db8:1::1");
const Ipv6Address wan_link_local = address("fe80::99");

EngineSetup forwarding_setup() {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {prefix("2001:db8:1::/64")};
    return setup;
}

EngineResult from_wan(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_input(p, false, now); }
EngineResult from_lan(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_input(p, true, now); }
Verdict sent(PacketEngine& e, const Packet& p, Instant now = t0) { return e.track_ipv6_local_output(p, now).verdict; }

FirewallRule input_rule(std::string name, std::uint16_t port, Protocol protocol = Protocol::tcp) {
    FirewallRule r;
    r.name = std::move(name);
    r.direction = RuleDirection::input;
    r.action = RuleAction::accept;
    r.protocol = protocol;
    r.destination_ports = {{port, port}};
    r.ipv6_destinations = {prefix("::/0")};
    return r;
}

}  // namespace

TEST_CASE("a WAN host's TCP connect to the gateway's IPv6 addresses is dropped by the input policy, without "
          "lan.ipv6_networks too") {
    for (bool forwarding : {false, true}) {
        INFO("lan.ipv6_networks set: " << forwarding);
        PacketEngine e(forwarding ? forwarding_setup() : engine_setup());
        for (Ipv6Address to : {gateway_wan, gateway_wan_link_local}) {
            EngineResult r = from_wan(e, v6::tcp(remote_host, 50000, to, 8080, tcp_flag::syn));
            CHECK(r.verdict == Verdict::drop);
            CHECK(r.reason == DropReason::denied_by_policy);
        }
        CHECK(e.counters().drops[DropReason::denied_by_policy] == 2);
        CHECK(e.ipv6().flows().size() == 0);
    }
}

TEST_CASE("an input rule with IPv6 networks opens a port of the gateway, and the connection is tracked") {
    EngineSetup setup = engine_setup();
    setup.firewall.rules = {input_rule("ssh6", 22)};
    PacketEngine e(setup);
    EngineResult r = from_wan(e, v6::tcp(remote_host, 50000, gateway_wan, 22, tcp_flag::syn, {1000, 0, 65535}));
    CHECK(r.verdict == Verdict::deliver_locally);
    REQUIRE(r.rule);
    CHECK(r.rule->name == "ssh6");
    CHECK(sent(e, v6::tcp(gateway_wan, 22, remote_host, 50000, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535})) ==
          Verdict::deliver_locally);
    CHECK(from_wan(e, v6::tcp(remote_host, 50000, gateway_wan, 22, tcp_flag::ack, {1001, 5001, 65535})).verdict ==
          Verdict::deliver_locally);
    CHECK(from_wan(e, v6::tcp(remote_host, 50000, gateway_wan, 23, tcp_flag::syn)).verdict == Verdict::drop);
}

TEST_CASE("a SYN flood to an open port of the gateway is held to the embryonic cap, and the gateway's own "
          "connections take the place of its oldest half-open exchanges") {
    EngineSetup setup = engine_setup();
    setup.firewall.rules = {input_rule("ssh6", 22)};
    setup.nat.limits.embryonic_inbound = 1024;
    PacketEngine e(setup);
    const std::size_t capacity = e.ipv6().flows().capacity();
    std::size_t admitted = 0;
    for (std::uint16_t port = 1024; port < 1024 + capacity; ++port)
        if (from_wan(e, v6::tcp(remote_host, port, gateway_wan, 22, tcp_flag::syn)).verdict == Verdict::deliver_locally)
            ++admitted;
    CHECK(admitted == capacity);  // nobody is shut out of the gateway...
    CHECK(e.ipv6().flows().size() == 1024);  // ...and the flood holds the embryonic cap at most
    CHECK(e.ipv6().flows().embryonic_count() == 1024);
    CHECK(e.ipv6().counters().inbound_exchanges_untracked == capacity - 1024);
    CHECK(e.counters().drops[DropReason::ipv6_flow_table_full] == 0);
    CHECK(sent(e, v6::tcp(gateway_wan, 41000, other_remote_host, 443, tcp_flag::syn, {1000, 0, 65535})) ==
          Verdict::deliver_locally);
    CHECK(from_wan(e, v6::tcp(other_remote_host, 443, gateway_wan, 41000, tcp_flag::syn | tcp_flag::ack,
                              {5000, 1001, 65535}))
              .verdict == Verdict::deliver_locally);
}

TEST_CASE("an established connection to the gateway keeps its place while a flood of datagrams churns the rest") {
    EngineSetup setup = engine_setup();
    setup.firewall.rules = {input_rule("ssh6", 22), input_rule("dns6", 53, Protocol::udp)};
    PacketEngine e(setup);
    const std::size_t capacity = e.ipv6().flows().capacity();
    REQUIRE(from_wan(e, v6::tcp(other_remote_host, 50000, gateway_wan, 22, tcp_flag::syn, {1000, 0, 65535})).verdict ==
            Verdict::deliver_locally);
    REQUIRE(sent(e, v6::tcp(gateway_wan, 22, other_remote_host, 50000, tcp_flag::syn | tcp_flag::ack,
                            {5000, 1001, 65535})) == Verdict::deliver_locally);
    REQUIRE(from_wan(e, v6::tcp(other_remote_host, 50000, gateway_wan, 22, tcp_flag::ack, {1001, 5001, 65535})).verdict ==
            Verdict::deliver_locally);
    for (std::uint32_t i = 0; i < 2 * capacity; ++i)
        CHECK(from_wan(e, v6::udp(remote_host, std::uint16_t(1024 + i % 60000), gateway_wan, 53),
                       t0 + std::chrono::milliseconds(i))
                  .verdict == Verdict::deliver_locally);
    CHECK(e.counters().drops[DropReason::ipv6_flow_table_full] == 0);
    // Still tracked: this segment is judged as the connection's, not by the rules afresh.
    // The datagrams took every other place, each newcomer the oldest unanswered one's.
    CHECK(e.ipv6().flows().size() == capacity);
    CHECK(e.ipv6().flows().evicted_total() > 0);
    CHECK(from_wan(e, v6::tcp(other_remote_host, 50000, gateway_wan, 22, tcp_flag::ack, {1001, 5001, 65535}),
                   t0 + std::chrono::seconds(10))
              .verdict == Verdict::deliver_locally);
}

TEST_CASE("an IPv4 input rule opens nothing over IPv6") {
    EngineSetup setup = engine_setup();
    FirewallRule v4 = input_rule("ssh4", 22);
    v4.ipv6_destinations.clear();
    v4.destinations = {network("203.0.113.1/32")};
    setup.firewall.rules = {v4};
    PacketEngine e(setup);
    CHECK(from_wan(e, v6::tcp(remote_host, 50000, gateway_wan, 22, tcp_flag::syn)).verdict == Verdict::drop);
}

TEST_CASE("replies to the gateway's own IPv6 connections come in; a stranger's packet to the same port does not") {
    PacketEngine e(engine_setup());
    CHECK(sent(e, v6::tcp(gateway_wan, 41000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535})) ==
          Verdict::deliver_locally);
    CHECK(from_wan(e, v6::tcp(remote_host, 443, gateway_wan, 41000, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535}))
              .verdict == Verdict::deliver_locally);
    CHECK(from_wan(e, v6::tcp(other_remote_host, 443, gateway_wan, 41000, tcp_flag::syn | tcp_flag::ack,
                              {5000, 1001, 65535}))
              .verdict == Verdict::drop);
    CHECK(sent(e, v6::udp(gateway_wan, 41001, remote_host, 53)) == Verdict::deliver_locally);
    CHECK(from_wan(e, v6::udp(remote_host, 53, gateway_wan, 41001)).verdict == Verdict::deliver_locally);
    CHECK(sent(e, v6::echo(gateway_wan, remote_host, icmp6::echo_request, 77)) == Verdict::deliver_locally);
    CHECK(from_wan(e, v6::echo(remote_host, gateway_wan, icmp6::echo_reply, 77)).verdict == Verdict::deliver_locally);
    CHECK(from_wan(e, v6::echo(remote_host, gateway_wan, icmp6::echo_reply, 78)).verdict == Verdict::drop);
}

TEST_CASE("RFC 4890 4.4.1: neighbour and router discovery and MLD reach the gateway whatever the input policy") {
    PacketEngine e(engine_setup());
    for (std::uint8_t type : {icmp6::neighbor_solicitation, std::uint8_t(136), icmp6::router_advertisement,
                              icmp6::router_solicitation, std::uint8_t(130), icmp6::mld_report}) {
        INFO("type " << int(type));
        CHECK(from_wan(e, v6::icmp(wan_link_local, gateway_wan_link_local, type)).verdict == Verdict::deliver_locally);
        CHECK(from_lan(e, v6::icmp(address("fe80::10"), address("ff02::1"), type)).verdict == Verdict::deliver_locally);
    }
}

TEST_CASE("RFC 4890 4.4.1: an ICMPv6 error reaches the gateway when it quotes the gateway's own flow") {
    PacketEngine e(engine_setup());
    Packet syn = v6::tcp(gateway_wan, 41000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535}, payload_of_size(100));
    Packet stranger = v6::tcp(gateway_wan, 41999, remote_host, 443, tcp_flag::syn, {1000, 0, 65535});
    REQUIRE(sent(e, syn) == Verdict::deliver_locally);
    CHECK(from_wan(e, icmp_error(icmp6::packet_too_big, 0, path_router, gateway_wan, syn, 1232, 1280)).verdict ==
          Verdict::deliver_locally);
    CHECK(from_wan(e, icmp_error(icmp6::destination_unreachable, 4, remote_host, gateway_wan, syn)).verdict ==
          Verdict::deliver_locally);
    // Port unreachable only from the remote end itself (RFC 4443 3.1; issue 14 item 9).
    CHECK(from_wan(e, icmp_error(icmp6::destination_unreachable, 4, path_router, gateway_wan, syn)).reason ==
          DropReason::icmp_unreachable_not_from_remote);
    EngineResult forged = from_wan(e, icmp_error(icmp6::destination_unreachable, 4, path_router, gateway_wan, stranger));
    CHECK(forged.verdict == Verdict::drop);
    CHECK(forged.reason == DropReason::icmpv6_error_without_flow);
}

TEST_CASE("a DHCPv6 reply to the gateway's client port on its link-local address is let in; to 546 from elsewhere "
          "it is not") {
    PacketEngine e(engine_setup());
    CHECK(from_wan(e, v6::udp(wan_link_local, 547, gateway_wan_link_local, 546)).verdict == Verdict::deliver_locally);
    CHECK(from_wan(e, v6::udp(remote_host, 547, gateway_wan, 546)).verdict == Verdict::drop);
    CHECK(from_wan(e, v6::udp(wan_link_local, 5353, gateway_wan_link_local, 546)).verdict == Verdict::drop);
}

TEST_CASE("an IPv6 echo request to the gateway follows the input policy") {
    PacketEngine e(engine_setup());
    CHECK(from_wan(e, v6::echo(remote_host, gateway_wan, icmp6::echo_request, 5)).reason == DropReason::denied_by_policy);
    EngineSetup open = engine_setup();
    open.firewall.policies.input = RuleAction::accept;
    PacketEngine accepting(open);
    CHECK(from_wan(accepting, v6::echo(remote_host, gateway_wan, icmp6::echo_request, 5)).verdict ==
          Verdict::deliver_locally);
}

TEST_CASE("the UPnP IGD's HTTP port and SSDP are open to the LAN over IPv6, and only to it") {
    EngineSetup setup = engine_setup();
    setup.upnp_http = Endpoint{Ipv4Address(0xc0a80001), Port{49152}};
    PacketEngine e(setup);
    CHECK(from_lan(e, v6::tcp(address("fe80::10"), 40000, address("fe80::1"), 49152, tcp_flag::syn)).verdict ==
          Verdict::deliver_locally);
    CHECK(from_lan(e, v6::udp(address("fe80::10"), 40000, address("ff02::c"), 1900)).verdict ==
          Verdict::deliver_locally);
    CHECK(from_lan(e, v6::tcp(address("fe80::10"), 40001, address("fe80::1"), 22, tcp_flag::syn)).verdict ==
          Verdict::drop);
    CHECK(from_wan(e, v6::tcp(remote_host, 40000, gateway_wan_link_local, 49152, tcp_flag::syn)).verdict ==
          Verdict::drop);
}

TEST_CASE("the LAN's IPv6 prefix arriving from outside is a martian, at the gateway too") {
    EngineSetup setup = forwarding_setup();
    setup.firewall.policies.input = RuleAction::accept;
    PacketEngine open(setup);
    CHECK(from_wan(open, v6::tcp(lan_host, 40000, gateway_wan, 22, tcp_flag::syn)).reason ==
          DropReason::martian_wan_source);
    CHECK(from_lan(open, v6::tcp(lan_host, 40000, gateway_lan, 22, tcp_flag::syn)).verdict == Verdict::deliver_locally);
}

}  // namespace gw

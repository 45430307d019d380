// The IPv6 firewall through the packet engine (issue 8): no NAT, stateful, default-deny
// inbound, the rule table with IPv6 networks, pinholes opened and closed by id.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;
using std::chrono::seconds;

EngineSetup ipv6_setup() {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 1024;
    return setup;
}

Verdict out(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_outbound(p, now).verdict; }
Verdict in(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_inbound(p, now).verdict; }
DropReason in_reason(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_inbound(p, now).reason; }
DropReason out_reason(PacketEngine& e, const Packet& p, Instant now = t0) {
    return e.judge_ipv6_outbound(p, now).reason;
}

// Every inbound UDP packet to the LAN prefix is let in.
FirewallRule inbound_accept_rule() {
    FirewallRule r;
    r.name = "udp-in";
    r.direction = RuleDirection::inbound;
    r.protocol = Protocol::udp;
    r.ipv6_destinations = {prefix("2001:db8:1::/64")};
    r.action = RuleAction::accept;
    return r;
}

const Ipv6Flow* only_flow(const PacketEngine& e) {
    const Ipv6Flow* found = nullptr;
    e.ipv6().flows().for_each([&](const Ipv6Flow& f) { found = &f; });
    return found;
}

// A TCP handshake LAN -> WAN through the engine; the numbers for what follows.
struct Handshake {
    std::uint32_t client_next = 1001, server_next = 5001;
};
Handshake open_tcp(PacketEngine& e, Ipv6Address client, std::uint16_t sport, Ipv6Address remote, std::uint16_t dport,
                   bool from_lan = true) {
    auto first = [&](const Packet& p) { return from_lan ? out(e, p) : in(e, p); };
    auto second = [&](const Packet& p) { return from_lan ? in(e, p) : out(e, p); };
    REQUIRE(first(v6::tcp(client, sport, remote, dport, tcp_flag::syn, {1000, 0, 65535})) == Verdict::forward);
    REQUIRE(second(v6::tcp(remote, dport, client, sport, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535})) ==
            Verdict::forward);
    REQUIRE(first(v6::tcp(client, sport, remote, dport, tcp_flag::ack, {1001, 5001, 65535})) == Verdict::forward);
    return {};
}

}  // namespace

TEST_CASE("an unsolicited inbound IPv6 TCP connect is dropped by the default inbound policy and counted") {
    PacketEngine e(ipv6_setup());
    Packet syn = v6::tcp(remote_host, 50000, lan_host, 22, tcp_flag::syn);
    EngineResult r = e.judge_ipv6_inbound(syn, t0);
    CHECK(r.verdict == Verdict::drop);
    CHECK(r.reason == DropReason::denied_by_policy);
    CHECK(e.counters().drops[DropReason::denied_by_policy] == 1);
    CHECK(e.ipv6().flows().size() == 0);
}

TEST_CASE("an outbound IPv6 TCP connection is tracked and its replies come back in, unchanged") {
    PacketEngine e(ipv6_setup());
    Packet syn = v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535});
    const Packet sent = syn;
    CHECK(out(e, syn) == Verdict::forward);
    CHECK(syn == sent);  // no NAT: nothing rewritten
    CHECK(in(e, v6::tcp(remote_host, 443, lan_host, 40000, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535})) ==
          Verdict::forward);
    CHECK(out(e, v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::ack, {1001, 5001, 65535})) == Verdict::forward);
    const Ipv6Flow* flow = only_flow(e);
    REQUIRE(flow);
    CHECK(flow->tcp.state() == TcpState::established);
    CHECK(flow->origin == Ipv6FlowOrigin::lan);
    CHECK(e.ipv6().counters().outbound_packets == 2);
    CHECK(e.ipv6().counters().inbound_packets == 1);
}

TEST_CASE("an IPv6 TCP segment outside the window of its connection is dropped as invalid_tcp") {
    PacketEngine e(ipv6_setup());
    open_tcp(e, lan_host, 40000, remote_host, 443);
    Packet wild = v6::tcp(remote_host, 443, lan_host, 40000, tcp_flag::ack, {0x7000'0000, 1001, 65535}, payload_of_size(10));
    CHECK(in_reason(e, wild) == DropReason::invalid_tcp);
    // And a SYN-ACK for a connection nobody opened meets the inbound policy.
    Packet stray = v6::tcp(remote_host, 443, lan_host, 40001, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535});
    CHECK(in_reason(e, stray) == DropReason::denied_by_policy);
}

TEST_CASE("an inbound IPv6 flow must open with a SYN even where a rule accepts it") {
    EngineSetup setup = ipv6_setup();
    FirewallRule ssh;
    ssh.name = "ssh-in";
    ssh.direction = RuleDirection::inbound;
    ssh.protocol = Protocol::tcp;
    ssh.destination_ports = {PortRange{22, 22}};
    ssh.action = RuleAction::accept;
    setup.firewall.rules = {ssh};
    PacketEngine e(setup);
    CHECK(in_reason(e, v6::tcp(remote_host, 50000, lan_host, 22, tcp_flag::ack)) == DropReason::invalid_tcp);
    CHECK(in(e, v6::tcp(remote_host, 50000, lan_host, 22, tcp_flag::syn)) == Verdict::forward);
}

TEST_CASE("outbound UDP over IPv6 lets the reply in, from that remote endpoint only, until the UDP timeout") {
    PacketEngine e(ipv6_setup());
    CHECK(out(e, v6::udp(lan_host, 5000, remote_host, 53)) == Verdict::forward);
    CHECK(in(e, v6::udp(remote_host, 53, lan_host, 5000), t0 + seconds(10)) == Verdict::forward);
    CHECK(in_reason(e, v6::udp(other_remote_host, 53, lan_host, 5000), t0 + seconds(10)) == DropReason::denied_by_policy);
    CHECK(in_reason(e, v6::udp(remote_host, 54, lan_host, 5000), t0 + seconds(10)) == DropReason::denied_by_policy);
    // nat.timeouts.udp (300 s) after the last packet, the flow is gone.
    CHECK(in_reason(e, v6::udp(remote_host, 53, lan_host, 5000), t0 + seconds(311)) == DropReason::denied_by_policy);
    // The lookup that found it expired reclaimed it, as IPv4's lookups do.
    CHECK(e.ipv6().flows().expired_total() == 1);
    CHECK(e.ipv6().flows().size() == 0);
}

TEST_CASE("IPv6 packets from outside the LAN prefixes, or with link-scope addresses, are never forwarded") {
    PacketEngine e(ipv6_setup());
    CHECK(out_reason(e, v6::udp(address("2001:db8:2::5"), 5000, remote_host, 53)) == DropReason::spoofed_lan_source);
    CHECK(out_reason(e, v6::udp(link_local, 5000, remote_host, 53)) == DropReason::ipv6_link_scope_address);
    CHECK(out_reason(e, v6::udp(lan_host, 5000, address("ff0e::1"), 53)) == DropReason::ipv6_link_scope_address);
    CHECK(in_reason(e, v6::udp(link_local, 53, lan_host, 5000)) == DropReason::ipv6_link_scope_address);
    CHECK(in_reason(e, v6::udp(address("ff02::1"), 53, lan_host, 5000)) == DropReason::ipv6_link_scope_address);
    CHECK(in_reason(e, v6::udp(lan_host_2, 53, lan_host, 5000)) == DropReason::martian_wan_source);
    CHECK(in_reason(e, v6::udp(remote_host, 53, address("2001:db8:9::1"), 5000)) ==
          DropReason::ipv6_destination_outside_lan);
}

TEST_CASE("outbound IPv6 follows the outbound policy and rules") {
    EngineSetup setup = ipv6_setup();
    setup.firewall.policies.outbound = RuleAction::drop;
    FirewallRule web;
    web.name = "web-out";
    web.direction = RuleDirection::outbound;
    web.protocol = Protocol::tcp;
    web.destination_ports = {PortRange{443, 443}};
    web.action = RuleAction::accept;
    setup.firewall.rules = {web};
    PacketEngine e(setup);
    CHECK(out(e, v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn)) == Verdict::forward);
    CHECK(out_reason(e, v6::tcp(lan_host, 40000, remote_host, 80, tcp_flag::syn)) == DropReason::denied_by_policy);
    CHECK(e.rules().counters()[0].matched == 1);
}

TEST_CASE("rules with IPv6 networks match IPv6 packets only, and IPv4 rules never match them") {
    EngineSetup setup = ipv6_setup();
    FirewallRule v4_rule;
    v4_rule.name = "v4-any-in";
    v4_rule.direction = RuleDirection::inbound;
    v4_rule.sources = {network("0.0.0.0/0")};
    v4_rule.action = RuleAction::accept;
    FirewallRule office;
    office.name = "office-ssh";
    office.direction = RuleDirection::inbound;
    office.protocol = Protocol::tcp;
    office.ipv6_sources = {prefix("2001:db8:ff::/48")};
    office.ipv6_destinations = {prefix("2001:db8:1::10/128")};
    office.destination_ports = {PortRange{22, 22}};
    office.action = RuleAction::accept;
    FirewallRule block;
    block.name = "block-bad-net";
    block.direction = RuleDirection::inbound;
    block.ipv6_sources = {prefix("2001:db8:bad::/48")};
    block.action = RuleAction::drop;
    setup.firewall.rules = {v4_rule, block, office};
    PacketEngine e(setup);
    CHECK(in(e, v6::tcp(remote_host, 50000, lan_host, 22, tcp_flag::syn)) == Verdict::forward);
    CHECK(in_reason(e, v6::tcp(remote_host, 50000, lan_host_2, 22, tcp_flag::syn)) == DropReason::denied_by_policy);
    CHECK(in_reason(e, v6::tcp(address("2001:db8:bad::1"), 50000, lan_host, 22, tcp_flag::syn)) ==
          DropReason::denied_by_rule);
    auto counters = e.rules().counters();
    CHECK(counters[0].matched == 0);  // the IPv4 rule saw none of it
    CHECK(counters[1].matched == 1);
    CHECK(counters[2].matched == 1);
    // And the IPv6 rule never matches IPv4: an unsolicited IPv4 packet still meets the IPv4 rule only.
    RuleTable table(setup.firewall);
    PacketFacts v4{.direction = RuleDirection::inbound, .protocol = 6, .source = Ipv4Address::from_octets(198, 51, 100, 7),
                   .destination = host_a, .source_port = Port{50000}, .destination_port = Port{22}, .has_ports = true,
                   .arrival_interface = "wan0"};
    CHECK(table.decide(v4, t0).rule->name == "v4-any-in");
}

TEST_CASE("a pinhole opens inbound IPv6 to its client and port, matching wildcards, and counts its packets") {
    PacketEngine e(ipv6_setup());
    Pinhole p;
    p.id = 7;
    p.internal_client = lan_host;
    p.internal_port = 8080;
    p.protocol = 6;
    REQUIRE(e.open_pinhole(p));
    CHECK(in(e, v6::tcp(remote_host, 50000, lan_host, 8080, tcp_flag::syn, {9000, 0, 65535})) == Verdict::forward);
    CHECK(in(e, v6::tcp(other_remote_host, 50001, lan_host, 8080, tcp_flag::syn)) == Verdict::forward);  // any remote
    CHECK(in_reason(e, v6::tcp(remote_host, 50000, lan_host, 8081, tcp_flag::syn)) == DropReason::denied_by_policy);
    CHECK(in_reason(e, v6::tcp(remote_host, 50000, lan_host_2, 8080, tcp_flag::syn)) == DropReason::denied_by_policy);
    CHECK(in_reason(e, v6::udp(remote_host, 50000, lan_host, 8080)) == DropReason::denied_by_policy);  // TCP only
    // The LAN host's answer goes out on the flow the pinhole started; the next inbound segment counts too.
    CHECK(out(e, v6::tcp(lan_host, 8080, remote_host, 50000, tcp_flag::syn | tcp_flag::ack, {100, 9001, 65535})) ==
          Verdict::forward);
    CHECK(in(e, v6::tcp(remote_host, 50000, lan_host, 8080, tcp_flag::ack, {9001, 101, 65535})) == Verdict::forward);
    CHECK(e.pinhole_packets(7) == 3u);
    CHECK(e.ipv6().counters().pinhole_flows == 2);
    CHECK(e.pinhole_packets(8) == std::nullopt);
}

TEST_CASE("a pinhole for a remote host and port, any protocol, admits only that remote") {
    PacketEngine e(ipv6_setup());
    Pinhole p;
    p.id = 1;
    p.internal_client = lan_host;
    p.remote_host = remote_host;
    p.remote_port = 3478;
    p.protocol = any_ip_protocol;
    e.open_pinhole(p);
    CHECK(in(e, v6::udp(remote_host, 3478, lan_host, 6000)) == Verdict::forward);
    CHECK(in(e, v6::tcp(remote_host, 3478, lan_host, 6001, tcp_flag::syn)) == Verdict::forward);
    CHECK(in_reason(e, v6::udp(remote_host, 3479, lan_host, 6000)) == DropReason::denied_by_policy);
    CHECK(in_reason(e, v6::udp(other_remote_host, 3478, lan_host, 6000)) == DropReason::denied_by_policy);
    CHECK(e.pinhole_packets(1) == 2u);
}

TEST_CASE("closing a pinhole shuts it and ends the flows it let in") {
    PacketEngine e(ipv6_setup());
    Pinhole p;
    p.id = 3;
    p.internal_client = lan_host;
    p.internal_port = 5060;
    p.protocol = 17;
    e.open_pinhole(p);
    CHECK(in(e, v6::udp(remote_host, 5060, lan_host, 5060)) == Verdict::forward);
    CHECK(e.ipv6().flows().size() == 1);
    REQUIRE(e.close_pinhole(3));
    CHECK(e.ipv6().flows().size() == 0);
    CHECK(in_reason(e, v6::udp(remote_host, 5060, lan_host, 5060)) == DropReason::denied_by_policy);
    CHECK(e.pinhole_packets(3) == std::nullopt);
    CHECK_FALSE(e.close_pinhole(3));
}

TEST_CASE("reopening a pinhole id with other terms replaces it; the same terms keep its count") {
    PacketEngine e(ipv6_setup());
    Pinhole p;
    p.id = 4;
    p.internal_client = lan_host;
    p.internal_port = 7000;
    p.protocol = 17;
    e.open_pinhole(p);
    CHECK(in(e, v6::udp(remote_host, 1, lan_host, 7000)) == Verdict::forward);
    e.open_pinhole(p);  // UpdatePinhole: a new lease, same pinhole
    CHECK(e.pinhole_packets(4) == 1u);
    p.internal_port = 7001;
    e.open_pinhole(p);
    CHECK(e.pinhole_packets(4) == 0u);
    CHECK(e.ipv6().flows().size() == 0);  // what the old terms let in is ended
    CHECK(in_reason(e, v6::udp(remote_host, 2, lan_host, 7000)) == DropReason::denied_by_policy);
    CHECK(in(e, v6::udp(remote_host, 2, lan_host, 7001)) == Verdict::forward);
}

TEST_CASE("an inbound drop rule wins over a pinhole") {
    EngineSetup setup = ipv6_setup();
    FirewallRule block;
    block.name = "block-remote_host";
    block.direction = RuleDirection::inbound;
    block.ipv6_sources = {prefix("2001:db8:ff::2/128")};
    block.action = RuleAction::drop;
    setup.firewall.rules = {block};
    PacketEngine e(setup);
    Pinhole p;
    p.id = 1;
    p.internal_client = lan_host;
    e.open_pinhole(p);
    CHECK(in_reason(e, v6::udp(remote_host, 1, lan_host, 9)) == DropReason::denied_by_rule);
    CHECK(in(e, v6::udp(other_remote_host, 1, lan_host, 9)) == Verdict::forward);
    CHECK(e.pinhole_packets(1) == 1u);
}

TEST_CASE("a full IPv6 flow table evicts for a LAN host, and drops a WAN newcomer with ipv6_flow_table_full") {
    EngineSetup setup = ipv6_setup();
    setup.firewall.ipv6.max_flows = 4;
    setup.firewall.rules = {inbound_accept_rule()};
    PacketEngine e(setup);
    for (std::uint16_t port = 1; port <= 4; ++port) REQUIRE(out(e, v6::udp(lan_host, port, remote_host, 53)) == Verdict::forward);
    CHECK(out(e, v6::udp(lan_host_2, 5, remote_host, 53)) == Verdict::forward);  // lan_host's oldest goes
    CHECK(e.ipv6().flows().evicted_total() == 1);
    CHECK(in_reason(e, v6::udp(remote_host, 53, lan_host_2, 6)) == DropReason::ipv6_flow_table_full);
    CHECK(e.counters().drops[DropReason::ipv6_flow_table_full] == 1);
    // Once one has expired, there is room again.
    e.expire_idle(t0 + seconds(301));
    CHECK(in(e, v6::udp(remote_host, 53, lan_host_2, 6), t0 + seconds(301)) == Verdict::forward);
}

TEST_CASE("later IPv6 fragments follow a forwarded first fragment and are dropped without one") {
    PacketEngine e(ipv6_setup());
    Packet first = v6::udp(lan_host, 5000, remote_host, 53, payload_of_size(24), {fragment_header(0, true, 42)});
    Packet later = v6::ipv6(lan_host, remote_host, udp_proto, payload_of_size(16), {fragment_header(4, false, 42)});
    Packet orphan = v6::ipv6(lan_host, remote_host, udp_proto, payload_of_size(16), {fragment_header(4, false, 43)});
    CHECK(out(e, first) == Verdict::forward);
    CHECK(out(e, later) == Verdict::forward);
    CHECK(out_reason(e, orphan) == DropReason::fragment_without_first);
    Packet inbound_orphan = v6::ipv6(remote_host, lan_host, udp_proto, payload_of_size(16), {fragment_header(4, false, 42)});
    CHECK(in_reason(e, inbound_orphan) == DropReason::fragment_without_first);
}

TEST_CASE("with IPv6 off (no lan.ipv6_networks) nothing is forwarded") {
    PacketEngine e(engine_setup());
    CHECK(out_reason(e, v6::udp(lan_host, 5000, remote_host, 53)) == DropReason::spoofed_lan_source);
}

TEST_CASE("an IPv6 packet refused by a reject rule is to be answered, and logged by the rule that asked") {
    EngineSetup setup = ipv6_setup();
    FirewallRule block;
    block.name = "logged-block";
    block.direction = RuleDirection::outbound;
    block.ipv6_destinations = {prefix("2001:db8:ff::/64")};
    block.action = RuleAction::reject;
    block.log = true;
    setup.firewall.rules = {block};
    PacketEngine e(setup);
    EngineResult r = e.judge_ipv6_outbound(v6::udp(lan_host, 5000, remote_host, 53), t0);
    CHECK(r.verdict == Verdict::reject);
    CHECK(r.reason == DropReason::denied_by_rule);
    CHECK(r.log);
    REQUIRE(r.rule);
    CHECK(r.rule->name == "logged-block");
    CHECK(e.counters().drops[DropReason::denied_by_rule] == 1);
    // A reject policy answers too.
    EngineSetup rejecting = ipv6_setup();
    rejecting.firewall.policies.inbound = RuleAction::reject;
    PacketEngine f(rejecting);
    CHECK(in(f, v6::tcp(remote_host, 50000, lan_host, 22, tcp_flag::syn)) == Verdict::reject);
}

TEST_CASE("a reload keeps IPv6 flows and pinholes, takes the new echo choice, and refuses new IPv6 prefixes") {
    EngineSetup setup = ipv6_setup();
    PacketEngine e(setup);
    Pinhole p;
    p.id = 2;
    p.internal_client = lan_host;
    e.open_pinhole(p);
    CHECK(out(e, v6::udp(lan_host, 5000, remote_host, 53)) == Verdict::forward);
    setup.firewall.ipv6.inbound_echo_request = InboundEchoRequest::drop;
    CHECK(e.reconfigure(setup).refused.empty());
    CHECK(e.ipv6().config().inbound_echo_request == InboundEchoRequest::drop);
    CHECK(e.ipv6().flows().size() == 1);
    CHECK(e.pinhole_packets(2) == 0u);
    EngineSetup other = setup;
    other.firewall.ipv6.lan_networks = {prefix("2001:db8:2::/64")};
    auto refused = e.reconfigure(other).refused;
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].find("lan.ipv6_networks") == 0);
}

}  // namespace gw

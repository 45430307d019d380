// IPv4's flow limits for IPv6 through the engine (issue 15): nat.limits.flows_per_host
// per LAN address, nat.limits.embryonic_inbound for flows started from the WAN, and fair
// eviction when firewall.ipv6.max_flows is reached, each refusal counted by its reason.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;

EngineSetup limited_setup() {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 256;
    setup.nat.limits.flows_per_host = 64;
    setup.nat.limits.embryonic_inbound = 32;
    FirewallRule web;
    web.name = "web-in";
    web.direction = RuleDirection::inbound;
    web.protocol = Protocol::tcp;
    web.destination_ports = {PortRange{443, 443}};
    web.action = RuleAction::accept;
    setup.firewall.rules = {web};
    return setup;
}

Verdict out(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_outbound(p, now).verdict; }
EngineResult in(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_inbound(p, now); }

}  // namespace

TEST_CASE("an IPv6 LAN host flooding new flows stops at nat.limits.flows_per_host, and another host's connection "
          "still opens") {
    PacketEngine e(limited_setup());
    std::size_t forwarded = 0;
    for (std::uint16_t port = 1024; port < 1024 + 200; ++port)
        if (out(e, v6::udp(lan_host, port, remote_host, 53)) == Verdict::forward) ++forwarded;
    CHECK(forwarded == 64);
    CHECK(e.counters().drops[DropReason::host_flow_limit] == 200 - 64);
    CHECK(e.ipv6().flows().flows_started_by(lan_host) == 64);
    CHECK(out(e, v6::tcp(lan_host_2, 40000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535})) == Verdict::forward);
    CHECK(in(e, v6::tcp(remote_host, 443, lan_host_2, 40000, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535}))
              .verdict == Verdict::forward);
}

TEST_CASE("a host at its IPv6 flow limit gives up its own oldest half-open TCP flow first") {
    PacketEngine e(limited_setup());
    for (std::uint16_t port = 1024; port < 1024 + 64; ++port)
        REQUIRE(out(e, v6::tcp(lan_host, port, remote_host, 443, tcp_flag::syn, {1000, 0, 65535})) == Verdict::forward);
    CHECK(out(e, v6::tcp(lan_host, 2000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535})) == Verdict::forward);
    CHECK(e.ipv6().flows().evicted_total() == 1);
    CHECK(e.counters().drops[DropReason::host_flow_limit] == 0);
}

TEST_CASE("a spoofed-SYN flood to an open IPv6 port is held to nat.limits.embryonic_inbound; an answered "
          "connection no longer counts") {
    PacketEngine e(limited_setup());
    std::size_t forwarded = 0;
    for (std::uint16_t port = 1024; port < 1024 + 100; ++port)
        if (in(e, v6::tcp(remote_host, port, lan_host, 443, tcp_flag::syn)).verdict == Verdict::forward) ++forwarded;
    CHECK(forwarded == 32);
    CHECK(e.counters().drops[DropReason::embryonic_limit] == 100 - 32);
    CHECK(e.ipv6().flows().embryonic_count() == 32);
    // A real client completes its handshake once there is room: then it is an ordinary flow.
    e.expire_idle(t0 + std::chrono::seconds(240));
    const Instant later = t0 + std::chrono::seconds(240);
    CHECK(e.ipv6().flows().embryonic_count() == 0);
    REQUIRE(in(e, v6::tcp(other_remote_host, 50000, lan_host, 443, tcp_flag::syn, {9000, 0, 65535}), later).verdict ==
            Verdict::forward);
    REQUIRE(out(e, v6::tcp(lan_host, 443, other_remote_host, 50000, tcp_flag::syn | tcp_flag::ack, {100, 9001, 65535}),
                later) == Verdict::forward);
    CHECK(e.ipv6().flows().embryonic_count() == 1);  // a spoofed source's server answers too
    REQUIRE(in(e, v6::tcp(other_remote_host, 50000, lan_host, 443, tcp_flag::ack, {9001, 101, 65535}), later).verdict ==
            Verdict::forward);
    CHECK(e.ipv6().flows().embryonic_count() == 0);
}

TEST_CASE("a full IPv6 table makes room from the busiest host and half-open WAN flows, never from a quiet host") {
    EngineSetup setup = limited_setup();
    setup.nat.limits.flows_per_host = 256;
    PacketEngine e(setup);
    REQUIRE(out(e, v6::udp(lan_host_2, 5000, remote_host, 53)) == Verdict::forward);
    for (std::uint16_t port = 1024; port < 1024 + 20; ++port)
        REQUIRE(in(e, v6::tcp(remote_host, port, lan_host, 443, tcp_flag::syn)).verdict == Verdict::forward);
    for (std::uint16_t port = 1024; port < 1024 + 300; ++port)
        CHECK(out(e, v6::udp(lan_host, port, remote_host, 53), t0 + std::chrono::milliseconds(port)) == Verdict::forward);
    CHECK(e.ipv6().flows().size() == 256);
    CHECK(e.ipv6().flows().embryonic_count() == 0);  // the half-open ones went first
    CHECK(e.ipv6().flows().evicted_total() == 300 - (256 - 1 - 20));  // one per newcomer past the 256th
    CHECK(e.ipv6().flows().flows_started_by(lan_host_2) == 1);
    CHECK(e.counters().drops[DropReason::ipv6_flow_table_full] == 0);
}

}  // namespace gw

// nat.timeouts change on reload (issue 16): PacketEngine::reconfigure gives both flow
// tables the new idle timeouts, and the flows already live are judged by them at once:
// a flow's end is its last activity plus its class's timeout, with no deadline of its own.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw::test {
namespace {

using std::chrono::seconds;

EngineSetup with_udp_timeout(std::uint32_t udp_seconds) {
    EngineSetup setup = engine_setup();
    setup.nat.timeouts.udp = udp_seconds;
    setup.firewall.ipv6.lan_networks = {v6::prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 64;
    return setup;
}

// A LAN host's UDP flow to the server, opened at t0; the external port its replies come to.
Port open_udp_flow(PacketEngine& engine) {
    Packet out = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, out, t0).verdict == Verdict::forward);
    return Port{get16(out, 20)};
}

EngineResult reply(PacketEngine& engine, Port external, Instant now) {
    Packet in = udp(at(server, 53), at(wan_address, external.value));
    return inbound(engine, in, now);
}

}  // namespace

TEST_CASE("a reload to a shorter UDP timeout ends a live flow idle for longer than it, at once") {
    PacketEngine engine(with_udp_timeout(300));
    Port external = open_udp_flow(engine);

    // Idle 200 s: alive under 300 s, past a new 150 s.
    REQUIRE(engine.reconfigure(with_udp_timeout(150)).refused.empty());
    CHECK(engine.expire_idle(t0 + seconds(200)) == 1);
    CHECK(engine.flows().size() == 0);
    CHECK(reply(engine, external, t0 + seconds(200)).reason == DropReason::denied_by_policy);
}

TEST_CASE("a reload to a shorter UDP timeout keeps a flow whose idle time is within it, until it runs out") {
    PacketEngine engine(with_udp_timeout(300));
    Port external = open_udp_flow(engine);
    REQUIRE(engine.reconfigure(with_udp_timeout(150)).refused.empty());

    CHECK(reply(engine, external, t0 + seconds(100)).verdict == Verdict::forward);  // active again at 100 s
    CHECK(engine.expire_idle(t0 + seconds(249)) == 0);
    CHECK(engine.expire_idle(t0 + seconds(250)) == 1);  // 100 + 150
}

TEST_CASE("a reload to a longer UDP timeout keeps a flow past the old one") {
    PacketEngine engine(with_udp_timeout(120));
    Port external = open_udp_flow(engine);
    REQUIRE(engine.reconfigure(with_udp_timeout(600)).refused.empty());

    // 400 s idle: gone under 120 s, alive under 600 s, and its reply still translated.
    CHECK(engine.expire_idle(t0 + seconds(400)) == 0);
    Packet in = udp(at(server, 53), at(wan_address, external.value));
    REQUIRE(inbound(engine, in, t0 + seconds(400)).verdict == Verdict::forward);
    CHECK(in == udp(at(server, 53), at(host_a, 5000)));
    CHECK(engine.setup().nat.timeouts.udp == 600);
}

TEST_CASE("a reload gives IPv6 flows the new UDP timeout too: one set of timeouts for both families") {
    using namespace v6;
    PacketEngine engine(with_udp_timeout(300));
    REQUIRE(engine.judge_ipv6_outbound(v6::udp(lan_host, 5000, remote_host, 53), t0).verdict == Verdict::forward);
    REQUIRE(engine.reconfigure(with_udp_timeout(130)).refused.empty());
    CHECK(engine.judge_ipv6_inbound(v6::udp(remote_host, 53, lan_host, 5000), t0 + seconds(140)).reason ==
          DropReason::denied_by_policy);
    CHECK(engine.ipv6().flows().size() == 0);
}

TEST_CASE("a reload that changes the LAN networks is refused with both lists, not a placeholder") {
    PacketEngine engine(engine_setup());
    EngineSetup changed = engine_setup();
    changed.firewall.lan_networks = {network("10.0.0.0/24"), network("10.0.1.0/24"), network("10.0.2.0/24"),
                                     network("10.0.3.0/24"), network("10.0.4.0/24"), network("10.0.5.0/24")};
    auto result = engine.reconfigure(changed);
    REQUIRE(result.refused.size() == 1);
    CHECK(result.refused[0] ==
          "lan.networks cannot change while running ([192.168.0.0/16] -> [10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24, "
          "10.0.3.0/24, ... 2 more]): restart gatewayd to apply it");
}

}  // namespace gw::test

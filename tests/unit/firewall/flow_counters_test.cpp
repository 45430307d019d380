// Live counters (issue 16): each flow's packets and bytes (both directions, IP header on)
// and the time its idle timeout leaves it; each static forward's and port mapping's
// packets and bytes; ending flows from the control plane; IPv6 rules counting bytes.
#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address game_host = Ipv4Address::from_octets(192, 168, 1, 21);
constexpr Ipv4Address stranger = Ipv4Address::from_octets(192, 0, 2, 99);

Bytes payload(std::size_t size) { return Bytes(size, 0x5a); }

EngineSetup with_game_forward() {
    EngineSetup setup = engine_setup();
    PortForward game;
    game.name = "game";
    game.protocol = Protocol::udp;
    game.external_ports = {27015, 27015};
    game.internal = at(game_host, 37015);
    setup.firewall.forwards = {game};
    return setup;
}

std::size_t end_flows_of(PacketEngine& engine, Ipv4Address host) {
    std::size_t ended = 0;
    for (FlowId next = 1; next != 0;)
        next = engine.end_flows_from(next, 16, [&](const Flow& f) { return f.internal.address == host; }, ended);
    return ended;
}

}  // namespace

TEST_CASE("a LAN flow counts the packets and bytes of both directions, IP headers included") {
    PacketEngine engine(engine_setup());
    Packet first = udp(at(host_a, 5000), at(server, 53), payload(10));   // 20 + 8 + 10 bytes
    REQUIRE(outbound(engine, first).verdict == Verdict::forward);
    const Flow* flow = flow_between(engine, at(host_a, 5000), at(server, 53));
    REQUIRE(flow);
    CHECK(flow->packets == 1);
    CHECK(flow->bytes == 38);
    Packet reply = udp(at(server, 53), {wan_address, flow->external}, payload(100));  // 128 bytes
    REQUIRE(inbound(engine, reply).verdict == Verdict::forward);
    Packet again = udp(at(host_a, 5000), at(server, 53), payload(2));  // 30 bytes
    REQUIRE(outbound(engine, again).verdict == Verdict::forward);
    CHECK(flow->packets == 3);
    CHECK(flow->bytes == 38 + 128 + 30);
}

TEST_CASE("a dropped packet is not counted on its flow") {
    EngineSetup setup = engine_setup();
    PacketEngine engine(setup);
    Packet first = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, first).verdict == Verdict::forward);
    const Flow* flow = flow_between(engine, at(host_a, 5000), at(server, 53));
    REQUIRE(flow);
    // Address-and-port-dependent filtering: another port of the server is not this flow's.
    Packet other = udp(at(server, 54), {wan_address, flow->external});
    CHECK(inbound(engine, other).verdict != Verdict::forward);
    CHECK(flow->packets == 1);
}

TEST_CASE("the time left of a flow is its idle timeout less the time since its last packet") {
    PacketEngine engine(engine_setup());
    Packet first = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, first).verdict == Verdict::forward);
    const Flow* flow = flow_between(engine, at(host_a, 5000), at(server, 53));
    REQUIRE(flow);
    const Instant timeout = engine.flows().timeout_of(flow->timeout_class);
    CHECK(timeout == 300s);  // nat.timeouts.udp's default
    CHECK(engine.flows().idle_left(*flow, t0) == timeout);
    CHECK(engine.flows().idle_left(*flow, t0 + 100s) == timeout - 100s);
    // A packet starts the timer again.
    Packet later = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, later, t0 + 100s).verdict == Verdict::forward);
    CHECK(engine.flows().idle_left(*flow, t0 + 150s) == timeout - 50s);
    // A copy of the record (what gatewayctl lists) answers the same; past the end, nothing.
    const Flow copy = *flow;
    CHECK(engine.flows().idle_left(copy, t0 + 150s) == timeout - 50s);
    CHECK(engine.flows().idle_left(copy, t0 + 100s + timeout + 1s) == 0ms);
}

TEST_CASE("a static forward counts the packets and bytes of the connections it let in") {
    PacketEngine engine(with_game_forward());
    Packet in = udp(at(stranger, 9000), {wan_address, Port{27015}}, payload(12));  // 40 bytes
    REQUIRE(inbound(engine, in).verdict == Verdict::forward);
    Packet answer = udp(at(game_host, 37015), at(stranger, 9000), payload(22));  // 50 bytes
    REQUIRE(outbound(engine, answer).verdict == Verdict::forward);
    REQUIRE(engine.forwards().static_counts().size() == 1);
    CHECK(engine.forwards().static_counts()[0] == TrafficCount{2, 90});
    // The LAN host's own traffic through a NAT mapping is not the forward's.
    Packet own = udp(at(game_host, 5000), at(server, 53));
    REQUIRE(outbound(engine, own).verdict == Verdict::forward);
    CHECK(engine.forwards().static_counts()[0] == TrafficCount{2, 90});
}

TEST_CASE("a port mapping counts what it let in, and a mapping opened again starts from zero") {
    PacketEngine engine(engine_setup());
    DynamicForward mapping{Protocol::udp, Port{40500}, at(host_b, 6000), std::nullopt};
    REQUIRE(engine.open_port_mapping(mapping));
    Packet in = udp(at(stranger, 9000), {wan_address, Port{40500}}, payload(2));  // 30 bytes
    REQUIRE(inbound(engine, in).verdict == Verdict::forward);
    Packet again = udp(at(stranger, 9000), {wan_address, Port{40500}}, payload(2));
    REQUIRE(inbound(engine, again).verdict == Verdict::forward);
    CHECK(engine.forwards().dynamic_count(Protocol::udp, Port{40500}) == TrafficCount{2, 60});
    CHECK(engine.forwards().dynamic_count(Protocol::tcp, Port{40500}) == TrafficCount{});
    engine.close_port_mapping(Protocol::udp, Port{40500});
    REQUIRE(engine.open_port_mapping(mapping));
    CHECK(engine.forwards().dynamic_count(Protocol::udp, Port{40500}) == TrafficCount{});
}

TEST_CASE("a reload keeps the counts of a forward and a mapping it leaves as they were") {
    EngineSetup setup = with_game_forward();
    PacketEngine engine(setup);
    DynamicForward mapping{Protocol::udp, Port{40500}, at(host_b, 6000), std::nullopt};
    REQUIRE(engine.open_port_mapping(mapping));
    Packet to_forward = udp(at(stranger, 9000), {wan_address, Port{27015}});
    Packet to_mapping = udp(at(stranger, 9000), {wan_address, Port{40500}});
    REQUIRE(inbound(engine, to_forward).verdict == Verdict::forward);
    REQUIRE(inbound(engine, to_mapping).verdict == Verdict::forward);
    REQUIRE(engine.reconfigure(setup).refused.empty());
    CHECK(engine.forwards().static_counts()[0] == TrafficCount{1, 28});
    CHECK(engine.forwards().dynamic_count(Protocol::udp, Port{40500}) == TrafficCount{1, 28});
    // The forward now leads elsewhere: it is another forward, counted from zero.
    setup.firewall.forwards[0].internal = at(host_a, 37015);
    REQUIRE(engine.reconfigure(setup).refused.empty());
    CHECK(engine.forwards().static_counts()[0] == TrafficCount{});
    CHECK(engine.forwards().dynamic_count(Protocol::udp, Port{40500}) == TrafficCount{1, 28});
}

TEST_CASE("an ended LAN flow releases its NAT mapping and a later reply to it is unsolicited") {
    PacketEngine engine(engine_setup());
    Packet out = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, out).verdict == Verdict::forward);
    Packet other_host = udp(at(host_b, 5000), at(server, 53));
    REQUIRE(outbound(engine, other_host).verdict == Verdict::forward);
    const Port external = flow_between(engine, at(host_a, 5000), at(server, 53))->external;
    const std::uint64_t expired_before = engine.counters().flows_expired;
    REQUIRE(engine.mappings().size() == 2);

    CHECK(end_flows_of(engine, host_a) == 1);
    CHECK(flow_between(engine, at(host_a, 5000), at(server, 53)) == nullptr);
    CHECK(flow_between(engine, at(host_b, 5000), at(server, 53)) != nullptr);  // not selected: kept
    CHECK(engine.mappings().size() == 1);                                     // as when it expires
    CHECK(engine.counters().flows_expired == expired_before + 1);
    Packet reply = udp(at(server, 53), {wan_address, external});
    CHECK(inbound(engine, reply).verdict != Verdict::forward);
    // The LAN host's next packet starts a new flow, counted from one.
    Packet next = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, next).verdict == Verdict::forward);
    CHECK(flow_between(engine, at(host_a, 5000), at(server, 53))->packets == 1);
}

TEST_CASE("ending flows in parts sees every record once, however small the parts") {
    EngineSetup setup = engine_setup();
    PacketEngine engine(setup);
    for (std::uint16_t port = 1; port <= 50; ++port) {
        Packet out = udp(at(host_a, port), at(server, 53));
        REQUIRE(outbound(engine, out).verdict == Verdict::forward);
        Packet out_b = udp(at(host_b, port), at(server, 53));
        REQUIRE(outbound(engine, out_b).verdict == Verdict::forward);
    }
    std::size_t ended = 0, parts = 0;
    for (FlowId next = 1; next != 0; ++parts)
        next = engine.end_flows_from(next, 7, [](const Flow& f) { return f.internal.address == host_b; }, ended);
    CHECK(ended == 50);
    CHECK(parts > 10);
    CHECK(engine.flows().size() == 50);
}

TEST_CASE("an IPv6 flow counts the packets and bytes of both directions, and an IPv6 rule counts bytes") {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {v6::prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 64;
    FirewallRule rule;
    rule.name = "v6-out";
    rule.direction = RuleDirection::outbound;
    rule.protocol = Protocol::udp;
    rule.action = RuleAction::accept;
    setup.firewall.rules = {rule};
    PacketEngine engine(setup);
    Packet out = v6::udp(v6::lan_host, 5000, v6::remote_host, 53, payload(12));  // 40 + 8 + 12 bytes
    REQUIRE(engine.judge_ipv6_outbound(out, t0).verdict == Verdict::forward);
    Packet reply = v6::udp(v6::remote_host, 53, v6::lan_host, 5000, payload(52));  // 100 bytes
    REQUIRE(engine.judge_ipv6_inbound(reply, t0).verdict == Verdict::forward);
    const Ipv6Flow* flow = nullptr;
    engine.ipv6().flows().for_each([&](const Ipv6Flow& f) { flow = &f; });
    REQUIRE(flow);
    CHECK(flow->packets == 2);
    CHECK(flow->bytes == 60 + 100);
    CHECK(engine.ipv6().flows().idle_left(*flow, t0 + 10s) == engine.ipv6().flows().timeout_of(flow->timeout_class) - 10s);
    auto counters = engine.rules().counters();
    REQUIRE(counters.size() == 1);
    CHECK(counters[0].matched == 1);
    CHECK(counters[0].bytes == 60);

    std::size_t ended = 0;
    for (Ipv6FlowId next = 1; next != 0;)
        next = engine.end_ipv6_flows_from(next, 16, [](const Ipv6Flow& f) { return f.key.remote_port == 53; }, ended);
    CHECK(ended == 1);
    CHECK(engine.ipv6().flows().size() == 0);
    // The reply now finds no flow: unsolicited, and the inbound policy drops it.
    Packet late = v6::udp(v6::remote_host, 53, v6::lan_host, 5000);
    CHECK(engine.judge_ipv6_inbound(late, t0).verdict != Verdict::forward);
}

}  // namespace gw::test

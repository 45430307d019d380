// Issue 7: what one LAN host may hold, how much of the table flows started from the WAN
// may take, and whom a full table evicts: neither a greedy host nor a spoofed-SYN flood
// to an open port may lock the rest of the LAN out.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address web_host = Ipv4Address::from_octets(192, 168, 1, 20);

// A table of `max_flows` flows with TCP 443 forwarded to web_host.
EngineSetup with_web_forward(std::uint32_t max_flows, FlowLimits limits = {}) {
    EngineSetup setup = engine_setup();
    setup.nat.max_mappings = max_flows;
    setup.nat.limits = limits;
    PortForward web;
    web.name = "web";
    web.protocol = Protocol::tcp;
    web.external_ports = {443, 443};
    web.internal = at(web_host, 443);
    setup.firewall.forwards = {web};
    return setup;
}

// A SYN to the forwarded port from a different (spoofed) WAN address each time.
EngineResult spoofed_syn(PacketEngine& engine, std::uint32_t n, Instant now) {
    Ipv4Address source(Ipv4Address::from_octets(100, 64, 0, 0).host_order() + n);
    Packet syn = tcp(at(source, std::uint16_t(1024 + n % 60000)), at(wan_address, 443), tcp_flag::syn);
    return inbound(engine, syn, now);
}

// A connection attempt by host_a from `port` to the server's web port.
EngineResult lan_syn(PacketEngine& engine, std::uint16_t port, Instant now) {
    Packet syn = tcp(at(host_a, port), at(server, 80), tcp_flag::syn);
    return outbound(engine, syn, now);
}

EngineResult lan_udp(PacketEngine& engine, Endpoint from, std::uint16_t server_port, Instant now) {
    Packet packet = udp(from, at(server, server_port));
    return outbound(engine, packet, now);
}

}  // namespace

TEST_CASE("a SYN flood from spoofed WAN sources to a forwarded port cannot stop a LAN host from opening flows") {
    FlowLimits limits;
    limits.embryonic_inbound = 1000;  // in effect the whole table (capped at max_mappings)
    PacketEngine engine(with_web_forward(64, limits));
    std::size_t admitted = 0;
    for (std::uint32_t n = 0; n < 500; ++n) admitted += spoofed_syn(engine, n, t0 + 1ms * n).verdict == Verdict::forward;
    REQUIRE(engine.flows().size() == 64);
    CHECK(engine.flows().embryonic_count() == 64);
    CHECK(admitted == 64);  // a full table of them; the rest hit the (capped) embryonic limit
    CHECK(engine.counters().drops[DropReason::embryonic_limit] == 500 - 64);

    for (std::uint16_t i = 0; i < 20; ++i)
        CHECK(lan_udp(engine, at(host_a, 5000), std::uint16_t(1000 + i), t0 + 1s).verdict == Verdict::forward);
    CHECK(engine.flows().size() == 64);
    CHECK(engine.flows().embryonic_count() == 44);
    CHECK(engine.counters().flows_evicted >= 20);
    CHECK(engine.counters().drops[DropReason::flow_table_full] == 0);
}

TEST_CASE("embryonic WAN-started flows stop at nat.max_embryonic_inbound, counted") {
    FlowLimits limits;
    limits.embryonic_inbound = 16;
    PacketEngine engine(with_web_forward(1024, limits));
    std::size_t refused = 0;
    for (std::uint32_t n = 0; n < 100; ++n) {
        EngineResult result = spoofed_syn(engine, n, t0);
        if (result.verdict == Verdict::drop) {
            CHECK(result.reason == DropReason::embryonic_limit);
            ++refused;
        }
    }
    CHECK(refused == 84);
    CHECK(engine.counters().drops[DropReason::embryonic_limit] == 84);
    CHECK(engine.flows().embryonic_count() == 16);
    CHECK(lan_udp(engine, at(host_a, 5000), 53, t0).verdict == Verdict::forward);
}

TEST_CASE("a WAN-started connection that completes its handshake is no longer embryonic") {
    PacketEngine engine(with_web_forward(64));
    Packet syn = tcp(at(server, 40000), at(wan_address, 443), tcp_flag::syn, TcpNumbers{1000, 0});
    REQUIRE(inbound(engine, syn).verdict == Verdict::forward);
    CHECK(engine.flows().embryonic_count() == 1);
    Packet syn_ack = tcp(at(web_host, 443), at(server, 40000), std::uint8_t(tcp_flag::syn | tcp_flag::ack), TcpNumbers{5000, 1001});
    REQUIRE(outbound(engine, syn_ack, t0 + 1ms).verdict == Verdict::forward);
    CHECK(engine.flows().embryonic_count() == 1);  // a spoofed source's server answers too
    Packet ack = tcp(at(server, 40000), at(wan_address, 443), tcp_flag::ack, TcpNumbers{1001, 5001});
    REQUIRE(inbound(engine, ack, t0 + 2ms).verdict == Verdict::forward);
    CHECK(engine.flows().embryonic_count() == 0);
}

TEST_CASE("a LAN host opening flows as fast as it can stops at its limit while another host still gets flows") {
    FlowLimits limits;
    limits.flows_per_host = 8;
    PacketEngine engine(with_web_forward(1024, limits));
    std::size_t forwarded = 0;
    for (std::uint16_t i = 0; i < 20; ++i) {
        EngineResult result = lan_udp(engine, at(host_a, 5000), std::uint16_t(1000 + i), t0);
        if (result.verdict == Verdict::forward) ++forwarded;
        else CHECK(result.reason == DropReason::host_flow_limit);
    }
    CHECK(forwarded == 8);
    CHECK(engine.counters().drops[DropReason::host_flow_limit] == 12);
    CHECK(engine.flows().flows_started_by(host_a) == 8);
    CHECK(lan_udp(engine, at(host_b, 5000), 53, t0).verdict == Verdict::forward);
    // Its existing flows still pass, and a flow that ends gives its place back.
    CHECK(lan_udp(engine, at(host_a, 5000), 1000, t0 + 1s).verdict == Verdict::forward);
    CHECK(lan_udp(engine, at(host_a, 5000), 2000, t0 + 301s).verdict == Verdict::forward);
}

TEST_CASE("a host at its flow limit recycles its own oldest half-open or closing TCP flow, never a live one") {
    FlowLimits limits;
    limits.flows_per_host = 8;
    PacketEngine engine(with_web_forward(1024, limits));
    // Eight connection attempts that never got an answer (SYN_SENT: the transitory timeout).
    for (std::uint16_t i = 0; i < 8; ++i) REQUIRE(lan_syn(engine, std::uint16_t(40000 + i), t0 + 1ms * i).verdict == Verdict::forward);
    // The ninth takes the oldest one's place instead of being refused.
    CHECK(lan_syn(engine, 40100, t0 + 1s).verdict == Verdict::forward);
    CHECK(engine.flows().flows_started_by(host_a) == 8);
    CHECK(engine.counters().flows_evicted == 1);
    CHECK(engine.counters().drops[DropReason::host_flow_limit] == 0);
    auto holds_port = [&](std::uint16_t port) {
        bool found = false;
        engine.flows().for_each([&](const Flow& f) { found = found || f.internal == at(host_a, port); });
        return found;
    };
    CHECK_FALSE(holds_port(40000));  // the oldest went
    CHECK(holds_port(40001));

    // UDP flows are live until their timeout: a host holding only those is refused.
    PacketEngine udp_engine(with_web_forward(1024, limits));
    for (std::uint16_t i = 0; i < 8; ++i) REQUIRE(lan_udp(udp_engine, at(host_a, 5000), std::uint16_t(1000 + i), t0).verdict == Verdict::forward);
    CHECK(lan_udp(udp_engine, at(host_a, 5000), 2000, t0).reason == DropReason::host_flow_limit);
    CHECK(udp_engine.counters().flows_evicted == 0);
}

TEST_CASE("one LAN host grabbing external ports stops at its port limit; another host still gets one") {
    FlowLimits limits;
    limits.ports_per_host = 5;
    PacketEngine engine(with_web_forward(1024, limits));
    std::size_t forwarded = 0;
    for (std::uint16_t i = 0; i < 10; ++i) {
        EngineResult result = lan_udp(engine, at(host_a, std::uint16_t(6000 + i)), 53, t0);
        if (result.verdict == Verdict::forward) ++forwarded;
        else CHECK(result.reason == DropReason::host_port_limit);
    }
    CHECK(forwarded == 5);
    CHECK(engine.mappings().ports_held_by(host_a) == 5);
    CHECK(engine.counters().drops[DropReason::host_port_limit] == 5);
    CHECK(lan_udp(engine, at(host_b, 6000), 53, t0).verdict == Verdict::forward);
    // More destinations through a port it holds need no new port.
    CHECK(lan_udp(engine, at(host_a, 6000), 54, t0).verdict == Verdict::forward);
}

TEST_CASE("a host at its port limit gets a port back from its own oldest half-open TCP connection") {
    FlowLimits limits;
    limits.ports_per_host = 5;
    PacketEngine engine(with_web_forward(1024, limits));
    // Short connections: each from its own source port, so each holds a port of its own.
    for (std::uint16_t i = 0; i < 5; ++i) REQUIRE(lan_syn(engine, std::uint16_t(40000 + i), t0 + 1ms * i).verdict == Verdict::forward);
    CHECK(lan_syn(engine, 40100, t0 + 1s).verdict == Verdict::forward);
    CHECK(engine.mappings().ports_held_by(host_a) == 5);
    CHECK(engine.counters().flows_evicted == 1);
    CHECK(engine.counters().drops[DropReason::host_port_limit] == 0);
    // A host whose ports are held by live UDP flows is still stopped.
    PacketEngine udp_engine(with_web_forward(1024, limits));
    for (std::uint16_t i = 0; i < 5; ++i)
        REQUIRE(lan_udp(udp_engine, at(host_a, std::uint16_t(6000 + i)), 53, t0).verdict == Verdict::forward);
    CHECK(lan_udp(udp_engine, at(host_a, 7000), 53, t0).reason == DropReason::host_port_limit);
}

TEST_CASE("a full table evicts embryonic flows first, oldest first, then the busiest host's oldest flow") {
    PacketEngine engine(with_web_forward(8));
    REQUIRE(lan_udp(engine, at(host_b, 5000), 100, t0).verdict == Verdict::forward);  // the oldest flow of all
    REQUIRE(spoofed_syn(engine, 1, t0 + 1s).verdict == Verdict::forward);
    REQUIRE(spoofed_syn(engine, 2, t0 + 2s).verdict == Verdict::forward);
    for (std::uint16_t i = 0; i < 5; ++i)
        REQUIRE(lan_udp(engine, at(host_a, 5000), std::uint16_t(100 + i), t0 + 3s + 1s * i).verdict == Verdict::forward);
    REQUIRE(engine.flows().size() == 8);

    auto has_flow = [&](Endpoint internal, Endpoint remote) { return flow_between(engine, internal, remote) != nullptr; };
    auto spoofed = [](std::uint32_t n) { return Ipv4Address(Ipv4Address::from_octets(100, 64, 0, 0).host_order() + n); };

    REQUIRE(lan_udp(engine, at(host_b, 5000), 200, t0 + 10s).verdict == Verdict::forward);
    CHECK(engine.flows().embryonic_count() == 1);
    CHECK_FALSE(has_flow(at(web_host, 443), at(spoofed(1), 1025)));  // the older SYN went first
    CHECK(has_flow(at(web_host, 443), at(spoofed(2), 1026)));

    REQUIRE(lan_udp(engine, at(host_b, 5000), 201, t0 + 11s).verdict == Verdict::forward);
    CHECK(engine.flows().embryonic_count() == 0);

    // No embryonic flow left: host_a started the most (5 to 3), so its oldest flow goes,
    // not host_b's, older as it is.
    REQUIRE(lan_udp(engine, at(host_b, 5000), 202, t0 + 12s).verdict == Verdict::forward);
    CHECK(engine.counters().flows_evicted == 3);
    CHECK(engine.flows().size() == 8);
    CHECK_FALSE(has_flow(at(host_a, 5000), at(server, 100)));
    CHECK(has_flow(at(host_a, 5000), at(server, 101)));
    CHECK(has_flow(at(host_b, 5000), at(server, 100)));
    CHECK(engine.flows().flows_started_by(host_a) == 4);
    CHECK(engine.flows().flows_started_by(host_b) == 4);
}

TEST_CASE("a new embryonic flow never evicts a flow the LAN started") {
    PacketEngine engine(with_web_forward(4));
    for (std::uint16_t i = 0; i < 4; ++i)
        REQUIRE(lan_udp(engine, at(host_a, 5000), std::uint16_t(100 + i), t0).verdict == Verdict::forward);
    EngineResult result = spoofed_syn(engine, 1, t0 + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::flow_table_full);
    CHECK(engine.flows().flows_started_by(host_a) == 4);
    CHECK(engine.counters().flows_evicted == 0);
}

// Every TCP connection a host opens comes from a new source port, so a table full of one
// host's flows is also a table full of mappings, one each: the mapping table must not
// refuse before the flow table has had its chance to evict.
TEST_CASE("a table full of one host's flows, each on its own port, still admits another host by evicting") {
    PacketEngine engine(with_web_forward(8));
    for (std::uint16_t i = 0; i < 8; ++i)
        REQUIRE(lan_udp(engine, at(host_a, std::uint16_t(6000 + i)), 100, t0 + 1s * i).verdict == Verdict::forward);
    REQUIRE(engine.mappings().size() == 8);

    EngineResult result = lan_udp(engine, at(host_b, 5000), 53, t0 + 10s);
    CHECK(result.verdict == Verdict::forward);
    CHECK(result.reason == DropReason::none);
    CHECK(engine.counters().flows_evicted == 1);
    CHECK(engine.counters().drops[DropReason::mapping_table_full] == 0);
    CHECK(flow_between(engine, at(host_a, 6000), at(server, 100)) == nullptr);  // its oldest went
    CHECK(engine.mappings().ports_held_by(host_a) == 7);
    CHECK(engine.mappings().ports_held_by(host_b) == 1);
    CHECK(engine.flows().size() == 8);
}

TEST_CASE("a host at its own flow limit in a table full of mappings evicts nothing for itself") {
    FlowLimits limits;
    limits.flows_per_host = 8;
    PacketEngine engine(with_web_forward(8, limits));
    for (std::uint16_t i = 0; i < 8; ++i)
        REQUIRE(lan_udp(engine, at(host_a, std::uint16_t(6000 + i)), 100, t0).verdict == Verdict::forward);
    EngineResult result = lan_udp(engine, at(host_a, 7000), 100, t0 + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::host_flow_limit);
    CHECK(engine.counters().flows_evicted == 0);
    CHECK(engine.mappings().ports_held_by(host_a) == 8);
}

}  // namespace gw::test

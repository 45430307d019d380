// The flow-table handover across a graceful restart: the snapshot format round-trips and
// refuses damage without crashing, and an engine given the saved flows carries on a TCP
// connection on the same external port, with the downtime taken off the idle timers.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "firewall/flow_snapshot.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

// host_a:5000 is outside the range, so the web connection gets a port drawn from it, which
// a fresh engine would not draw again for it: only the handover keeps it.
TcpConnection web() { return TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0)); }

void crosses(PacketEngine& engine, const Crossing& segment, Instant now) {
    Packet packet = segment.sent;
    bool from_wan = destination_address(packet) == wan_address;
    auto result = from_wan ? inbound(engine, packet, now) : outbound(engine, packet, now);
    REQUIRE(result.reason == DropReason::none);
    REQUIRE(result.verdict == Verdict::forward);
    CHECK(packet == segment.translated);
}

// An engine with a UDP flow (host_b:6000 -> server:53), a half-open TCP connection
// (host_b:6000 -> server:80) and an established one (host_a:5000 -> server:443 on
// web_external).
struct Busy {
    PacketEngine engine{engine_setup()};
    TcpConnection web = test::web();
    Endpoint web_external;
    Busy() {
        Packet dns = udp(at(host_b, 6000), at(server, 53), {1, 2, 3});
        REQUIRE(outbound(engine, dns, t0).verdict == Verdict::forward);
        Packet syn = tcp(at(host_b, 6000), at(server, 80), tcp_flag::syn);
        REQUIRE(outbound(engine, syn, t0).verdict == Verdict::forward);
        REQUIRE(send_syn(engine, web, at(host_a, 5000), t0).verdict == Verdict::forward);
        web_external = mapped_endpoint(engine, Protocol::tcp, at(host_a, 5000));
        crosses(engine, web.from_server(tcp_flag::syn | tcp_flag::ack), t0 + 10ms);
        crosses(engine, web.from_client(tcp_flag::ack), t0 + 20ms);
    }
};

SavedFlow sample_flow(std::uint8_t seed) {
    SavedFlow f;
    f.protocol = Protocol::tcp;
    f.origin = FlowOrigin::wan;
    f.timeout_class = TimeoutClass::tcp_established;
    f.reply_seen = true;
    f.holds_mapping = seed % 2;
    f.internal = at(host_a, std::uint16_t(1000 + seed));
    f.remote = at(server, std::uint16_t(2000 + seed));
    f.external = Port{std::uint16_t(40000 + seed)};
    f.idle_left_ms = 123456u * seed;
    f.tcp.state = std::uint8_t(TcpState::established);
    f.tcp.sides[0] = {0x11111111u * seed, 2, 3, 4, 7, 3};
    f.tcp.sides[1] = {5, 6, 7, 0xfffffff0u, 14, 4};
    return f;
}

FlowSnapshot sample_snapshot() {
    FlowSnapshot s;
    s.saved_at_unix_ms = 1767225600123;
    s.flows = {sample_flow(1), sample_flow(2), sample_flow(3)};
    s.flows[1].origin = FlowOrigin::hairpin_client;
    s.flows[1].peer = 3;
    s.flows[2].origin = FlowOrigin::hairpin_server;
    s.flows[2].peer = 2;
    s.flows[0].protocol = Protocol::udp;
    s.flows[0].tcp = {};
    return s;
}

std::span<const std::uint8_t> bytes_of(const std::vector<std::uint8_t>& v) { return v; }

}  // namespace

TEST_CASE("a flow snapshot decodes to exactly what was encoded") {
    FlowSnapshot s = sample_snapshot();
    auto bytes = encode_flow_snapshot(s);
    CHECK(bytes.size() == 32 + 3 * flow_snapshot_record_bytes);
    auto decoded = decode_flow_snapshot(bytes);
    INFO(decoded.error);
    REQUIRE(decoded.snapshot);
    CHECK(*decoded.snapshot == s);

    auto empty = decode_flow_snapshot(encode_flow_snapshot(FlowSnapshot{42, {}}));
    REQUIRE(empty.snapshot);
    CHECK(empty.snapshot->saved_at_unix_ms == 42);
    CHECK(empty.snapshot->flows.empty());
}

TEST_CASE("a truncated, padded or altered flow snapshot is refused with a reason, never a crash") {
    auto bytes = encode_flow_snapshot(sample_snapshot());
    for (std::size_t length = 0; length < bytes.size(); ++length) {
        auto decoded = decode_flow_snapshot(bytes_of(bytes).first(length));
        CHECK_FALSE(decoded.snapshot);
        CHECK_FALSE(decoded.error.empty());
    }
    auto padded = bytes;
    padded.push_back(0);
    CHECK(decode_flow_snapshot(padded).error.find("truncated or padded") != std::string::npos);
    // Every single-bit flip is caught (by the checksum, or before it by a field check).
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto flipped = bytes;
        flipped[i] ^= 0x10;
        CHECK_FALSE(decode_flow_snapshot(flipped).snapshot);
    }
}

TEST_CASE("garbage and other versions are not read as flow snapshots") {
    std::vector<std::uint8_t> garbage(4096);
    std::uint32_t x = 12345;
    for (auto& b : garbage) b = std::uint8_t((x = x * 1103515245 + 12345) >> 16);
    CHECK(decode_flow_snapshot(garbage).error == "not a flow snapshot (bad magic)");
    // Garbage behind a valid header: the length or the checksum refuses it.
    auto header = encode_flow_snapshot(FlowSnapshot{});
    std::copy(header.begin(), header.begin() + 24, garbage.begin());
    CHECK_FALSE(decode_flow_snapshot(garbage).snapshot);

    auto bytes = encode_flow_snapshot(sample_snapshot());
    bytes[8] = 2;  // version 2
    CHECK(decode_flow_snapshot(bytes).error == "version 2 (this gatewayd reads 1)");
}

TEST_CASE("a snapshot whose fields are out of range is refused even with a good checksum") {
    auto refused = [](FlowSnapshot s) { return decode_flow_snapshot(encode_flow_snapshot(s)).error; };
    FlowSnapshot s = sample_snapshot();
    s.flows[0].protocol = Protocol(47);
    CHECK(refused(s) == "flow 0: unknown protocol 47");
    s = sample_snapshot();
    s.flows[1].tcp.state = 200;
    CHECK(refused(s) == "flow 1: impossible TCP tracker state");
    s = sample_snapshot();
    s.flows[1].tcp.sides[0].scale = 15;  // RFC 7323: at most 14
    CHECK(refused(s) == "flow 1: impossible TCP tracker state");
    s = sample_snapshot();
    s.flows[2].peer = 1;  // flow 1 names flow 2, which names flow 0 instead
    CHECK(refused(s) == "flow 1: its hairpin link does not point back");
    s = sample_snapshot();
    s.flows[1].peer = 9;
    CHECK(refused(s) == "flow 1: its hairpin link does not point back");
}

TEST_CASE("a TCP tracker saved and restored judges the next segments as before") {
    Busy before;
    const Flow* flow = flow_between(before.engine, at(host_a, 5000), at(server, 443));
    REQUIRE(flow);
    auto restored = TcpTracker::restored(flow->tcp.saved());
    REQUIRE(restored);
    CHECK(*restored == flow->tcp);
}

TEST_CASE("an established connection carries on in a new engine on the same external port") {
    Busy before;
    auto saved = before.engine.save_flows(t0 + 1s);
    REQUIRE(saved.size() == 3);
    // Through the file, as the daemon does it.
    auto decoded = decode_flow_snapshot(encode_flow_snapshot(FlowSnapshot{0, saved}));
    REQUIRE(decoded.snapshot);

    Instant later = t0 + 10min;  // the new process's clock: any value
    PacketEngine after(engine_setup());
    auto counts = after.restore_flows(decoded.snapshot->flows, 2s, later);
    CHECK(counts.restored == 3);
    CHECK(counts.expired == 0);
    CHECK(counts.refused == 0);
    REQUIRE(after.mappings().find_by_external(Protocol::tcp, before.web_external.port));
    CHECK(after.mappings().find_by_external(Protocol::tcp, before.web_external.port)->internal == at(host_a, 5000));
    // Mid-stream data from the server: the WAN cannot pick a connection up, so only the
    // handed-over flow lets it through, to the right LAN host and port.
    TcpConnection& c = before.web;
    crosses(after, c.from_server(tcp_flag::ack | tcp_flag::psh, {'h', 'i'}), later);
    crosses(after, c.from_client(tcp_flag::ack), later + 1ms);
    CHECK(flow_between(after, at(host_a, 5000), at(server, 443))->tcp.state() == TcpState::established);

    SECTION("without the handover the same segment is dropped") {
        PacketEngine fresh(engine_setup());
        Packet data = c.from_server(tcp_flag::ack | tcp_flag::psh, {'h', 'i'}).sent;
        CHECK(inbound(fresh, data, later).verdict == Verdict::drop);
    }
}

TEST_CASE("the downtime is taken off the idle timers and flows whose time ran out are dropped") {
    Busy before;
    // UDP times out after 300 s by default, half-open TCP after 240 s, established after 7440 s.
    auto saved = before.engine.save_flows(t0 + 100s);
    PacketEngine after(engine_setup());
    auto counts = after.restore_flows(saved, 250s, t0);
    CHECK(counts.restored == 1);
    CHECK(counts.expired == 2);
    CHECK_FALSE(flow_between(after, at(host_b, 6000), at(server, 53)));
    CHECK_FALSE(flow_between(after, at(host_b, 6000), at(server, 80)));
    const Flow* tcp_flow = flow_between(after, at(host_a, 5000), at(server, 443));
    REQUIRE(tcp_flow);
    // Idle for 100 s before the stop and 250 s while down: 350 s of its timer are gone.
    auto timeout = after.flows().timeout_of(TimeoutClass::tcp_established);
    CHECK(tcp_flow->last_activity == t0 - 350s + 20ms);
    CHECK(timeout > 350s);
}

TEST_CASE("a saved flow whose port is no longer free is refused, not moved") {
    Busy before;
    auto saved = before.engine.save_flows(t0 + 1s);
    EngineSetup setup = engine_setup();
    PortForward web_forward;
    web_forward.name = "now-a-forward";
    web_forward.protocol = Protocol::tcp;
    web_forward.external_ports = {before.web_external.port.value, before.web_external.port.value};
    web_forward.internal = at(host_b, 80);
    setup.firewall.forwards.push_back(web_forward);
    PacketEngine after(setup);
    auto counts = after.restore_flows(saved, 1s, t0 + 2s);
    CHECK(counts.restored == 2);
    CHECK(counts.refused == 1);
    CHECK_FALSE(flow_between(after, at(host_a, 5000), at(server, 443)));
}

TEST_CASE("a hairpin pair is handed over linked, and ends together") {
    EngineSetup setup = engine_setup();
    PortForward web_forward;
    web_forward.name = "web";
    web_forward.protocol = Protocol::udp;
    web_forward.external_ports = {8080, 8080};
    web_forward.internal = at(host_b, 80);
    setup.firewall.forwards.push_back(web_forward);
    PacketEngine before(setup);
    Packet dial = udp(at(host_a, 7000), at(wan_address, 8080), {1});
    REQUIRE(before.translate_hairpin(dial, L4Checksum::complete, t0).verdict == Verdict::forward);
    auto saved = before.save_flows(t0);
    REQUIRE(saved.size() == 2);
    CHECK(saved[0].peer == 2);
    CHECK(saved[1].peer == 1);

    PacketEngine after(setup);
    CHECK(after.restore_flows(saved, 0s, t0).restored == 2);
    CHECK(after.flows().size() == 2);
    after.expire_idle(t0 + 1h);
    CHECK(after.flows().size() == 0);
    CHECK(after.mappings().size() == 0);
}

}  // namespace gw::test

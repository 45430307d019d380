// RFC 7857 §2.1: the idle timeout of a TCP connection still opening (nat.timeouts.tcp_opening)
// and of one closing (nat.timeouts.tcp_closing) are configured apart, for IPv4 and IPv6 flows
// alike, and a reload changes them for the live flows too.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

// Opening and closing set to different values, neither the 240 s default.
EngineSetup with_tcp_timeouts(std::uint32_t opening, std::uint32_t closing) {
    EngineSetup setup = engine_setup();
    setup.nat.timeouts.tcp_opening = opening;
    setup.nat.timeouts.tcp_closing = closing;
    setup.firewall.ipv6.lan_networks = {v6::prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 64;
    return setup;
}

TcpConnection web() { return TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0)); }

void crosses(PacketEngine& engine, const Crossing& segment, Instant now) {
    Packet packet = segment.sent;
    bool from_wan = destination_address(packet) == wan_address;
    auto result = from_wan ? engine.translate_inbound(packet, L4Checksum::complete, now)
                           : engine.translate_outbound(packet, L4Checksum::complete, now);
    REQUIRE(result.verdict == Verdict::forward);
}

void opens(PacketEngine& engine, TcpConnection& c, Instant now) {
    REQUIRE(send_first_segment(engine, c, at(host_a, 5000), tcp_flag::syn, {}, now).verdict == Verdict::forward);
}

// A connection through its handshake and both FINs, the last segment at the returned time.
Instant open_and_close(PacketEngine& engine, TcpConnection& c) {
    opens(engine, c, t0);
    crosses(engine, c.from_server(tcp_flag::syn | tcp_flag::ack), t0 + 10ms);
    crosses(engine, c.from_client(tcp_flag::ack), t0 + 20ms);
    crosses(engine, c.from_client(tcp_flag::fin | tcp_flag::ack), t0 + 1s);
    crosses(engine, c.from_server(tcp_flag::fin | tcp_flag::ack), t0 + 1s);
    crosses(engine, c.from_client(tcp_flag::ack), t0 + 1s);
    return t0 + 1s;
}

const Flow& the_flow(const PacketEngine& engine) {
    const Flow* flow = flow_between(engine, at(host_a, 5000), at(server, 443));
    REQUIRE(flow);
    return *flow;
}

// The IPv6 twin: lan_host:40000 -> remote_host:443.
void ipv6_out(PacketEngine& e, std::uint8_t flags, TcpNumbers n, Instant now) {
    REQUIRE(e.judge_ipv6_outbound(v6::tcp(v6::lan_host, 40000, v6::remote_host, 443, flags, n), now).verdict ==
            Verdict::forward);
}
void ipv6_in(PacketEngine& e, std::uint8_t flags, TcpNumbers n, Instant now) {
    REQUIRE(e.judge_ipv6_inbound(v6::tcp(v6::remote_host, 443, v6::lan_host, 40000, flags, n), now).verdict ==
            Verdict::forward);
}

}  // namespace

TEST_CASE("a TCP connection still opening ends after nat.timeouts.tcp_opening, not tcp_closing") {
    PacketEngine engine(with_tcp_timeouts(150, 400));
    TcpConnection c = web();
    opens(engine, c, t0);
    CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_opening);
    CHECK(engine.flows().idle_left(the_flow(engine), t0) == 150s);
    CHECK(engine.expire_idle(t0 + 150s - 1ms) == 0);
    CHECK(engine.expire_idle(t0 + 150s) == 1);
}

TEST_CASE("a TCP connection after its SYN-ACK is still opening: tcp_opening") {
    PacketEngine engine(with_tcp_timeouts(150, 400));
    TcpConnection c = web();
    opens(engine, c, t0);
    crosses(engine, c.from_server(tcp_flag::syn | tcp_flag::ack), t0 + 1s);
    CHECK(engine.expire_idle(t0 + 1s + 150s - 1ms) == 0);
    CHECK(engine.expire_idle(t0 + 1s + 150s) == 1);
}

TEST_CASE("a TCP connection in TIME_WAIT ends after nat.timeouts.tcp_closing, not tcp_opening") {
    PacketEngine engine(with_tcp_timeouts(150, 400));
    TcpConnection c = web();
    Instant last = open_and_close(engine, c);
    CHECK(the_flow(engine).tcp.state() == TcpState::time_wait);
    CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_closing);
    CHECK(engine.expire_idle(last + 400s - 1ms) == 0);
    CHECK(engine.expire_idle(last + 400s) == 1);
}

TEST_CASE("a TCP connection reset by an RST is closing: tcp_closing") {
    PacketEngine engine(with_tcp_timeouts(400, 300));
    TcpConnection c = web();
    opens(engine, c, t0);
    crosses(engine, c.from_server(tcp_flag::syn | tcp_flag::ack), t0 + 10ms);
    crosses(engine, c.from_client(tcp_flag::ack), t0 + 20ms);
    crosses(engine, c.from_client(tcp_flag::rst), t0 + 1s);
    CHECK(the_flow(engine).tcp.state() == TcpState::closed);
    CHECK(engine.expire_idle(t0 + 1s + 300s - 1ms) == 0);
    CHECK(engine.expire_idle(t0 + 1s + 300s) == 1);
}

TEST_CASE("an IPv6 TCP connection opening and one closing get tcp_opening and tcp_closing too") {
    SECTION("opening") {
        PacketEngine engine(with_tcp_timeouts(150, 400));
        ipv6_out(engine, tcp_flag::syn, {1000, 0, 65535}, t0);
        CHECK(engine.ipv6().flows().size() == 1);
        engine.ipv6().flows().for_each([](const Ipv6Flow& f) { CHECK(f.timeout_class == TimeoutClass::tcp_opening); });
        CHECK(engine.expire_idle(t0 + 150s - 1ms) == 0);
        CHECK(engine.expire_idle(t0 + 150s) == 1);
    }
    SECTION("closing") {
        PacketEngine engine(with_tcp_timeouts(150, 400));
        ipv6_out(engine, tcp_flag::syn, {1000, 0, 65535}, t0);
        ipv6_in(engine, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535}, t0);
        ipv6_out(engine, tcp_flag::ack, {1001, 5001, 65535}, t0);
        ipv6_out(engine, tcp_flag::fin | tcp_flag::ack, {1001, 5001, 65535}, t0 + 1s);
        ipv6_in(engine, tcp_flag::fin | tcp_flag::ack, {5001, 1002, 65535}, t0 + 1s);
        ipv6_out(engine, tcp_flag::ack, {1002, 5002, 65535}, t0 + 1s);
        engine.ipv6().flows().for_each([](const Ipv6Flow& f) { CHECK(f.timeout_class == TimeoutClass::tcp_closing); });
        CHECK(engine.expire_idle(t0 + 1s + 400s - 1ms) == 0);
        CHECK(engine.expire_idle(t0 + 1s + 400s) == 1);
    }
}

TEST_CASE("a reload of tcp_opening and tcp_closing applies to the live opening and closing flows at once") {
    PacketEngine engine(with_tcp_timeouts(240, 240));
    TcpConnection closing = web();
    Instant last = open_and_close(engine, closing);
    TcpConnection opening = TcpConnection::outbound(at(host_b, 6000), at(server, 443), at(wan_address, 0));
    REQUIRE(send_first_segment(engine, opening, at(host_b, 6000), tcp_flag::syn, {}, last).verdict ==
            Verdict::forward);
    REQUIRE(engine.reconfigure(with_tcp_timeouts(130, 600)).refused.empty());
    CHECK(engine.expire_idle(last + 130s - 1ms) == 0);
    CHECK(engine.expire_idle(last + 130s) == 1);  // the opening one
    CHECK(flow_between(engine, at(host_a, 5000), at(server, 443)) != nullptr);
    CHECK(engine.expire_idle(last + 600s - 1ms) == 0);
    CHECK(engine.expire_idle(last + 600s) == 1);  // the closing one, past the old 240 s
}


TEST_CASE("a closing flow an older version saved under its one transitory class comes back as closing") {
    PacketEngine before(with_tcp_timeouts(240, 240));
    TcpConnection c = web();
    Instant last = open_and_close(before, c);
    auto saved = before.save_flows(last + 10s);
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].timeout_class == TimeoutClass::tcp_closing);
    // Such a version wrote 2 for "transitory": the number tcp_opening kept.
    static_assert(std::uint8_t(TimeoutClass::tcp_opening) == 2);
    saved[0].timeout_class = TimeoutClass::tcp_opening;

    PacketEngine after(with_tcp_timeouts(150, 400));
    Instant now = t0 + 1h;
    auto counts = after.restore_flows(saved, 0s, now);
    CHECK(counts.restored == 1);
    const Flow* flow = flow_between(after, at(host_a, 5000), at(server, 443));
    REQUIRE(flow);
    CHECK(flow->timeout_class == TimeoutClass::tcp_closing);
    // Its 230 s left, not cut to the opening timeout's 150 s.
    CHECK(after.flows().idle_left(*flow, now) == 230s);
}

TEST_CASE("an IPv6 closing flow saved under the opening class comes back as closing") {
    PacketEngine before(with_tcp_timeouts(240, 240));
    ipv6_out(before, tcp_flag::syn, {1000, 0, 65535}, t0);
    ipv6_in(before, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535}, t0);
    ipv6_out(before, tcp_flag::ack, {1001, 5001, 65535}, t0);
    ipv6_out(before, tcp_flag::rst, {1001, 0, 0}, t0 + 1s);
    auto saved = before.save_ipv6_flows(t0 + 11s);
    REQUIRE(saved.size() == 1);
    saved[0].timeout_class = TimeoutClass::tcp_opening;

    PacketEngine after(with_tcp_timeouts(150, 400));
    CHECK(after.restore_ipv6_flows(saved, 0s, t0 + 1h).restored == 1);
    after.ipv6().flows().for_each([&](const Ipv6Flow& f) {
        CHECK(f.timeout_class == TimeoutClass::tcp_closing);
        CHECK(after.ipv6().flows().idle_left(f, t0 + 1h) == 230s);
    });
    CHECK(after.ipv6().flows().size() == 1);
}

}  // namespace gw::test

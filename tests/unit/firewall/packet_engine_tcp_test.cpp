// TCP through the engine: the flow's state machine (firewall/tcp_tracker) decides which
// segments cross and which idle timeout the flow is under (RFC 5382 REQ-5: 7440 s once
// established, 240 s while opening or closing).
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


// host_a:5000 is outside the range: its external port is drawn, and learnt by opens().
TcpConnection web() { return TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0)); }

EngineResult out(PacketEngine& engine, Packet& packet, Instant now) {
    return engine.translate_outbound(packet, L4Checksum::complete, now);
}
EngineResult in(PacketEngine& engine, Packet& packet, Instant now) {
    return engine.translate_inbound(packet, L4Checksum::complete, now);
}

// Sends a segment through the engine in its direction and checks it crossed translated.
void crosses(PacketEngine& engine, const Crossing& segment, Instant now) {
    Packet packet = segment.sent;
    bool from_wan = destination_address(packet) == wan_address;
    auto result = from_wan ? in(engine, packet, now) : out(engine, packet, now);
    REQUIRE(result.reason == DropReason::none);
    REQUIRE(result.verdict == Verdict::forward);
    CHECK(packet == segment.translated);
}

// The client's first segment (a SYN unless said otherwise), which makes the mapping; `c`
// learns its external endpoint, and the segment must leave as `c` sends it from there.
void opens(PacketEngine& engine, TcpConnection& c, Instant now, std::uint8_t flags = tcp_flag::syn,
           const Bytes& payload = {}) {
    EngineResult result = send_first_segment(engine, c, at(host_a, 5000), flags, payload, now);
    REQUIRE(result.reason == DropReason::none);
    REQUIRE(result.verdict == Verdict::forward);
}

Instant establish(PacketEngine& engine, TcpConnection& c, Instant start = t0) {
    opens(engine, c, start);
    crosses(engine, c.from_server(tcp_flag::syn | tcp_flag::ack), start + 10ms);
    crosses(engine, c.from_client(tcp_flag::ack), start + 20ms);
    return start + 20ms;
}

const Flow& the_flow(const PacketEngine& engine) {
    const Flow* flow = flow_between(engine, at(host_a, 5000), at(server, 443));
    REQUIRE(flow);
    return *flow;
}

}  // namespace

TEST_CASE("a handshake from the LAN establishes the flow, every segment translated") {
    PacketEngine engine(engine_setup());
    TcpConnection c = web();
    opens(engine, c, t0);
    CHECK(the_flow(engine).tcp.state() == TcpState::syn_sent);
    CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_opening);
    crosses(engine, c.from_server(tcp_flag::syn | tcp_flag::ack), t0 + 10ms);
    CHECK(the_flow(engine).tcp.state() == TcpState::syn_received);
    CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_opening);
    crosses(engine, c.from_client(tcp_flag::ack), t0 + 20ms);
    CHECK(the_flow(engine).tcp.state() == TcpState::established);
    CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_established);
    CHECK(the_flow(engine).reply_seen);

    crosses(engine, c.from_client(tcp_flag::psh | tcp_flag::ack, payload_of_size(100)), t0 + 30ms);
    crosses(engine, c.from_server(tcp_flag::psh | tcp_flag::ack, payload_of_size(1400)), t0 + 40ms);
    crosses(engine, c.from_client(tcp_flag::ack), t0 + 50ms);
    CHECK(engine.counters().drops.total() == 0);
}

TEST_CASE("an established flow is under the 7440 s timeout, a half-open one under 240 s") {
    SECTION("established: 7440 s") {
        PacketEngine engine(engine_setup());
        TcpConnection c = web();
        Instant last = establish(engine, c);
        CHECK(engine.expire_idle(last + 7440s - 1ms) == 0);
        CHECK(engine.expire_idle(last + 7440s) == 1);
    }
    SECTION("after the SYN: 240 s") {
        PacketEngine engine(engine_setup());
        TcpConnection c = web();
        opens(engine, c, t0);
        CHECK(engine.expire_idle(t0 + 240s - 1ms) == 0);
        CHECK(engine.expire_idle(t0 + 240s) == 1);
    }
    SECTION("after the SYN-ACK: 240 s") {
        PacketEngine engine(engine_setup());
        TcpConnection c = web();
        opens(engine, c, t0);
        crosses(engine, c.from_server(tcp_flag::syn | tcp_flag::ack), t0 + 1s);
        CHECK(engine.expire_idle(t0 + 1s + 240s - 1ms) == 0);
        CHECK(engine.expire_idle(t0 + 1s + 240s) == 1);
    }
    SECTION("closing, both FINs acknowledged: 240 s") {
        PacketEngine engine(engine_setup());
        TcpConnection c = web();
        Instant last = establish(engine, c) + 1s;
        crosses(engine, c.from_client(tcp_flag::fin | tcp_flag::ack), last);
        crosses(engine, c.from_server(tcp_flag::fin | tcp_flag::ack), last);
        crosses(engine, c.from_client(tcp_flag::ack), last);
        CHECK(the_flow(engine).tcp.state() == TcpState::time_wait);
        CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_closing);
        CHECK(engine.expire_idle(last + 240s - 1ms) == 0);
        CHECK(engine.expire_idle(last + 240s) == 1);
    }
}

TEST_CASE("an out-of-window RST from the WAN does not kill an established flow") {
    PacketEngine engine(engine_setup());
    TcpConnection c = web();
    Instant last = establish(engine, c);

    // RFC 5961 §3.2 blind reset: a guess far from the receive window.
    Packet reset = c.from_server_at(c.server_next() + 0x40000000, tcp_flag::rst).sent;
    Packet untouched = reset;
    auto result = in(engine, reset, last + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::invalid_tcp);
    CHECK(reset == untouched);
    CHECK(the_flow(engine).tcp.state() == TcpState::established);
    CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_established);

    crosses(engine, c.from_server(tcp_flag::ack, payload_of_size(10)), last + 2s);
    CHECK(engine.expire_idle(last + 2s + 7440s - 1ms) == 0);
}

TEST_CASE("an in-window RST not at the expected sequence is passed on but leaves the flow established") {
    PacketEngine engine(engine_setup());
    TcpConnection c = web();
    Instant last = establish(engine, c);
    // The receiver answers it with a challenge ACK (RFC 5961 §3.2) and stays up; so does the flow.
    Crossing reset = c.from_server_at(c.server_next() + 100, tcp_flag::rst);
    crosses(engine, reset, last + 1s);
    CHECK(the_flow(engine).tcp.state() == TcpState::established);
}

TEST_CASE("an RST from the WAN at the expected sequence closes the flow to the transitory timeout") {
    PacketEngine engine(engine_setup());
    TcpConnection c = web();
    Instant last = establish(engine, c) + 1s;
    crosses(engine, c.from_server(tcp_flag::rst), last);
    CHECK(the_flow(engine).tcp.state() == TcpState::closed);
    CHECK(engine.expire_idle(last + 240s - 1ms) == 0);
    CHECK(engine.expire_idle(last + 240s) == 1);
}

TEST_CASE("an inbound SYN-ACK with no flow is dropped") {
    SECTION("to a port no one holds: the gateway's, for the input policy") {
        PacketEngine engine(engine_setup());
        TcpConnection c = web();
        c.external_is(at(wan_address, 40000));
        Packet syn_ack = c.from_server(tcp_flag::syn | tcp_flag::ack).sent;
        Packet untouched = syn_ack;
        auto result = in(engine, syn_ack, t0);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::denied_by_policy);
        CHECK(syn_ack == untouched);
    }
    SECTION("to a mapping that endpoint-independent filtering opens to anyone: not a connection start") {
        PacketEngine engine(engine_setup(FilteringBehaviour::endpoint_independent));
        Packet syn = tcp(at(host_a, 5000), at(other_server, 443), tcp_flag::syn);  // makes host_a:5000's mapping
        REQUIRE(out(engine, syn, t0).verdict == Verdict::forward);
        TcpConnection c = web();
        c.external_is(mapped_endpoint(engine, Protocol::tcp, at(host_a, 5000)));
        Packet syn_ack = c.from_server(tcp_flag::syn | tcp_flag::ack).sent;
        Packet untouched = syn_ack;
        auto result = in(engine, syn_ack, t0 + 1s);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::invalid_tcp);
        CHECK(syn_ack == untouched);
    }
}

TEST_CASE("a SYN-ACK that does not acknowledge the SYN is dropped and the handshake goes on") {
    PacketEngine engine(engine_setup());
    TcpConnection c = web();
    opens(engine, c, t0);
    Packet wrong = tcp(at(server, 443), mapped_endpoint(engine, Protocol::tcp, at(host_a, 5000)), tcp_flag::syn | tcp_flag::ack,
                       TcpNumbers{0x12345678, c.client_next() + 1000});
    auto result = in(engine, wrong, t0 + 1ms);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::invalid_tcp);
    CHECK(the_flow(engine).tcp.state() == TcpState::syn_sent);
    crosses(engine, c.from_server(tcp_flag::syn | tcp_flag::ack), t0 + 2ms);
    crosses(engine, c.from_client(tcp_flag::ack), t0 + 3ms);
    CHECK(the_flow(engine).tcp.state() == TcpState::established);
}

TEST_CASE("data from the WAN beyond the window the LAN host advertised is dropped") {
    PacketEngine engine(engine_setup());
    TcpConnection c = web();
    Instant last = establish(engine, c);
    // With data, so that it occupies sequence space (a pure ACK is judged by its acknowledgment).
    Packet beyond = tcp(at(server, 443), mapped_endpoint(engine, Protocol::tcp, at(host_a, 5000)), tcp_flag::ack,
                        TcpNumbers{c.server_next() + 200000, c.client_next()}, payload_of_size(100));
    auto result = in(engine, beyond, last + 1s);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::invalid_tcp);
    CHECK(engine.counters().drops[DropReason::invalid_tcp] == 1);
}

TEST_CASE("a LAN connection already open when the daemon started is picked up mid-stream") {
    PacketEngine engine(engine_setup());
    TcpConnection c = web();
    opens(engine, c, t0, tcp_flag::ack, payload_of_size(50));
    CHECK(the_flow(engine).tcp.state() == TcpState::established);
    CHECK(the_flow(engine).timeout_class == TimeoutClass::tcp_established);
    crosses(engine, c.from_server(tcp_flag::ack, payload_of_size(500)), t0 + 10ms);
    crosses(engine, c.from_client(tcp_flag::ack), t0 + 20ms);
}

TEST_CASE("a LAN host's FIN or RST starts no flow") {
    PacketEngine engine(engine_setup());
    for (std::uint8_t flags : {std::uint8_t(tcp_flag::fin | tcp_flag::ack), tcp_flag::rst,
                               std::uint8_t(tcp_flag::syn | tcp_flag::fin)}) {
        Packet packet = tcp(at(host_a, 5000), at(server, 443), flags);
        auto result = out(engine, packet, t0);
        CHECK(result.verdict == Verdict::drop);
        CHECK(result.reason == DropReason::invalid_tcp);
    }
    CHECK(engine.flows().size() == 0);
    CHECK(engine.mappings().size() == 0);
}

}  // namespace gw::test

// The TCP tracker against what it mirrors: netfilter's transition table and tcp_in_window, RFC 793's
// open and close, RFC 5961's rules for RST and RFC 7323's window scaling. The client (original side)
// starts at ISN c0, the server (reply side) at s0; nobody sends data unless a test says so.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "firewall/tcp_tracker.hpp"

namespace Catch {
template <> struct StringMaker<gw::TcpState> {
    static std::string convert(gw::TcpState s) { return std::string(gw::tcp_state_name(s)); }
};
template <> struct StringMaker<gw::TcpJudgement> {
    static std::string convert(gw::TcpJudgement j) { return std::string(gw::tcp_judgement_name(j)); }
};
}  // namespace Catch

namespace gw::test {
namespace {

// Wire numbers, spelled out here rather than taken from the engine's headers.
namespace flag {
constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20, ece = 0x40, cwr = 0x80;
}

using J = TcpJudgement;
constexpr auto SS = TcpState::syn_sent, SR = TcpState::syn_received, ES = TcpState::established,
               FW = TcpState::fin_wait, CW = TcpState::close_wait, LA = TcpState::last_ack,
               TW = TcpState::time_wait, CL = TcpState::closed, S2 = TcpState::syn_sent2;
constexpr auto client = FlowDirection::original;
constexpr auto server = FlowDirection::reply;
constexpr std::uint32_t c0 = 1000, s0 = 5000;

// ---- The segment builder -------------------------------------------------------------

TcpSegment segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack = 0, std::uint32_t length = 0) {
    TcpSegment s;
    s.flags = flags, s.sequence = seq, s.acknowledgment = ack, s.payload_length = length, s.window = 65535;
    return s;
}
TcpSegment syn(std::uint32_t seq) { return segment(flag::syn, seq); }
TcpSegment syn_ack(std::uint32_t seq, std::uint32_t ack) { return segment(flag::syn | flag::ack, seq, ack); }
TcpSegment ack(std::uint32_t seq, std::uint32_t ack) { return segment(flag::ack, seq, ack); }
TcpSegment data(std::uint32_t seq, std::uint32_t ack, std::uint32_t n) { return segment(flag::ack, seq, ack, n); }
TcpSegment fin(std::uint32_t seq, std::uint32_t ack) { return segment(flag::fin | flag::ack, seq, ack); }
TcpSegment rst(std::uint32_t seq) { return segment(flag::rst, seq); }
TcpSegment rst_ack(std::uint32_t seq, std::uint32_t ack) { return segment(flag::rst | flag::ack, seq, ack); }
TcpSegment window(TcpSegment s, std::uint16_t w) { return s.window = w, s; }
TcpSegment scale(TcpSegment s, std::uint8_t shift) { return s.window_scale = shift, s; }

// "SYN+FIN" to its flag bits, so that a table names the combinations it tries.
std::uint8_t flags_named(std::string_view names) {
    constexpr std::pair<std::string_view, std::uint8_t> bits[]{
        {"FIN", flag::fin}, {"SYN", flag::syn}, {"RST", flag::rst}, {"PSH", flag::psh},
        {"ACK", flag::ack}, {"URG", flag::urg}, {"ECE", flag::ece}, {"CWR", flag::cwr}};
    std::uint8_t flags = 0;
    for (auto [name, bit] : bits)
        if (names.find(name) != std::string_view::npos) flags |= bit;
    return flags;
}

// One segment of a conversation and what the tracker must make of it.
struct Step { FlowDirection from; TcpSegment segment; J judgement; TcpState after; };

void play(TcpTracker& t, const std::vector<Step>& steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("step " << i + 1);
        const TcpTracker before = t;
        CHECK(t.track(steps[i].from, steps[i].segment) == steps[i].judgement);
        CHECK(t.state() == steps[i].after);
        if (steps[i].judgement != J::accept) CHECK(t == before);  // refused: no trace at all
    }
}

TcpTracker started(const TcpSegment& first = syn(c0)) {
    auto tracker = TcpTracker::start(first);
    REQUIRE(tracker);
    return *tracker;
}

// A tracker brought to `state` by the shortest ordinary conversation, the client closing
// first; CLOSED is reached by the client's RST once established.
TcpTracker in_state(TcpState state, std::uint32_t c = c0, std::uint32_t s = s0) {
    TcpTracker t = started(syn(c));
    const std::vector<std::pair<FlowDirection, TcpSegment>> conversation{
        {server, syn_ack(s, c + 1)}, {client, ack(c + 1, s + 1)}, {client, fin(c + 1, s + 1)},
        {server, ack(s + 1, c + 2)}, {server, fin(s + 1, c + 2)}, {client, ack(c + 2, s + 2)}};
    if (state == S2) REQUIRE(t.track(server, syn(s)) == J::accept);
    for (std::size_t i = 0; state != S2 && t.state() != (state == CL ? ES : state); ++i)
        REQUIRE(t.track(conversation.at(i).first, conversation.at(i).second) == J::accept);
    if (state == CL) REQUIRE(t.track(client, rst(c + 1)) == J::accept);
    REQUIRE(t.state() == state);
    return t;
}

}  // namespace

// ---- The transition table --------------------------------------------------------------

TEST_CASE("every state answers each kind of segment from each side as the transition table says") {
    struct Outcome { J judgement; TcpState after; };
    auto ok = [](TcpState s) { return Outcome{J::accept, s}; };
    auto no = [](TcpState s) { return Outcome{J::unexpected_in_state, s}; };
    struct Row { TcpState state; FlowDirection from; std::array<Outcome, 5> outcome; };
    const char* const kinds[]{"SYN", "SYN-ACK", "FIN", "ACK", "RST"};  // the order of Row::outcome
    const std::vector<Row> table{
        {SS, client, {ok(SS), no(SS), no(SS), no(SS), ok(CL)}},  {SS, server, {ok(S2), ok(SR), no(SS), ok(SS), ok(CL)}},
        {S2, client, {ok(S2), ok(SR), no(S2), no(S2), ok(CL)}},  {S2, server, {ok(S2), ok(SR), no(S2), ok(S2), ok(CL)}},
        {SR, client, {ok(SR), ok(SR), ok(FW), ok(ES), ok(CL)}},  {SR, server, {no(SR), ok(SR), ok(FW), ok(SR), ok(CL)}},
        {ES, client, {ok(ES), no(ES), ok(FW), ok(ES), ok(CL)}},  {ES, server, {no(ES), ok(ES), ok(FW), ok(ES), ok(CL)}},
        {FW, client, {ok(FW), no(FW), ok(FW), ok(FW), ok(CL)}},  {FW, server, {no(FW), ok(FW), ok(LA), ok(CW), ok(CL)}},
        {CW, client, {ok(CW), no(CW), ok(CW), ok(CW), ok(CL)}},  {CW, server, {no(CW), ok(CW), ok(LA), ok(CW), ok(CL)}},
        {LA, client, {ok(LA), no(LA), ok(TW), ok(TW), ok(CL)}},  {LA, server, {no(LA), ok(LA), ok(LA), ok(LA), ok(CL)}},
        {TW, client, {ok(SS), no(TW), ok(TW), ok(TW), ok(CL)}},  {TW, server, {no(TW), ok(TW), ok(TW), ok(TW), ok(CL)}},
        {CL, client, {ok(SS), no(CL), ok(CL), ok(CL), ok(CL)}},  {CL, server, {no(CL), ok(CL), ok(CL), ok(CL), ok(CL)}},
    };
    for (const Row& row : table) {
        // Each side's next sequence in in_state()'s conversation; a FIN is sent (or resent) at ISN + 1.
        auto next = [&](FlowDirection side) -> std::uint32_t {
            bool client_fin = row.state == FW || row.state == CW || row.state == LA || row.state == TW;
            if (side == client) return c0 + 1 + (client_fin ? 1 : 0);
            return row.state == SS ? s0 : s0 + 1 + (row.state == LA || row.state == TW ? 1 : 0);
        };
        std::uint32_t isn = row.from == client ? c0 : s0, acked = next(row.from == client ? server : client);
        const std::array<TcpSegment, 5> segments{syn(isn), syn_ack(isn, acked), fin(isn + 1, acked),
                                                 ack(isn + 1, acked), rst_ack(next(row.from), acked)};
        for (std::size_t kind = 0; kind < segments.size(); ++kind) {
            TcpTracker t = in_state(row.state);
            const TcpTracker before = t;
            INFO(kinds[kind] << (row.from == client ? " from the client in " : " from the server in ")
                             << tcp_state_name(row.state));
            CHECK(t.track(row.from, segments[kind]) == row.outcome[kind].judgement);
            CHECK(t.state() == row.outcome[kind].after);
            if (row.outcome[kind].judgement != J::accept) CHECK(t == before);
        }
    }
}

// ---- Opening ---------------------------------------------------------------------------

TEST_CASE("SYN, SYN-ACK and ACK establish a connection over which data flows both ways") {
    TcpTracker t = started();
    play(t, {{server, syn_ack(s0, c0 + 1), J::accept, SR}, {client, ack(c0 + 1, s0 + 1), J::accept, ES},
             {client, data(c0 + 1, s0 + 1, 100), J::accept, ES}, {server, data(s0 + 1, c0 + 101, 300), J::accept, ES},
             {client, ack(c0 + 101, s0 + 301), J::accept, ES}});
}

TEST_CASE("only a plain SYN starts a flow, and pickup adds only a plain ACK") {
    struct Case { TcpSegment first; bool starts, starts_with_pickup; };
    const Case cases[]{{syn(c0), true, true}, {segment(flags_named("SYN+ECE+CWR"), c0), true, true},  // RFC 3168
                       {ack(c0, s0), false, true},     {data(c0, s0, 100), false, true}, {rst(c0), false, false},
                       {syn_ack(s0, c0), false, false}, {fin(c0, s0), false, false},
                       {segment(flags_named("SYN+FIN"), c0), false, false}};
    for (const Case& c : cases) {
        INFO("first segment with flags " << int(c.first.flags));
        CHECK(TcpTracker::start(c.first).has_value() == c.starts);
        CHECK(TcpTracker::start(c.first, TcpPickup::allow).has_value() == c.starts_with_pickup);
    }
    CHECK(TcpTracker::start(syn(c0), TcpPickup::allow)->state() == SS);
    CHECK(TcpTracker::start(ack(c0, s0), TcpPickup::allow)->state() == ES);
}

TEST_CASE("in the handshake a SYN may be resent or restarted, but nothing may acknowledge unsent data") {
    TcpTracker t = started();
    const std::uint32_t c1 = c0 + 1'000'000;  // the client gave up and retried with a new ISN
    play(t, {{client, syn(c0), J::accept, SS}, {client, syn(c0 - 10), J::sequence_out_of_window, SS},
             {server, syn_ack(s0, c0 + 2), J::acknowledgment_out_of_window, SS}, {client, syn(c1), J::accept, SS},
             {server, syn_ack(s0, c0 + 1), J::acknowledgment_out_of_window, SS},
             {server, syn_ack(s0, c1 + 1), J::accept, SR},
             {client, ack(c1 + 1, s0 + 2), J::acknowledgment_out_of_window, SR},
             {client, ack(c1 + 1, s0 + 1), J::accept, ES}});
}

TEST_CASE("a simultaneous open (RFC 793 figure 8) goes through SYN_SENT2 to ESTABLISHED") {
    TcpTracker t = started();
    play(t, {{server, syn(s0), J::accept, S2}, {client, syn_ack(c0, s0 + 1), J::accept, SR},
             {server, syn_ack(s0, c0 + 1), J::accept, SR}, {client, ack(c0 + 1, s0 + 1), J::accept, ES},
             {server, data(s0 + 1, c0 + 1, 10), J::accept, ES}});
}

// ---- Closing ---------------------------------------------------------------------------

TEST_CASE("a close from either side walks FIN_WAIT, CLOSE_WAIT, LAST_ACK and TIME_WAIT") {
    for (FlowDirection closer : {client, server}) {
        INFO((closer == client ? "the client closes" : "the server closes"));
        FlowDirection other = closer == client ? server : client;
        std::uint32_t a = closer == client ? c0 + 1 : s0 + 1, b = closer == client ? s0 + 1 : c0 + 1;
        TcpTracker t = in_state(ES);
        play(t, {{closer, fin(a, b), J::accept, FW}, {other, ack(b, a + 1), J::accept, CW},
                 {other, fin(b, a + 1), J::accept, LA}, {closer, ack(a + 1, b + 1), J::accept, TW}});
    }
}

TEST_CASE("a simultaneous close reaches TIME_WAIT once both FINs are acknowledged") {
    TcpTracker t = in_state(ES);
    play(t, {{client, fin(c0 + 1, s0 + 1), J::accept, FW}, {server, fin(s0 + 1, c0 + 1), J::accept, LA},
             {client, ack(c0 + 2, s0 + 2), J::accept, LA}, {server, ack(s0 + 2, c0 + 2), J::accept, TW}});
}

TEST_CASE("half-closed, the other side keeps sending and the FIN's sender may send nothing more") {
    TcpTracker t = in_state(ES);
    play(t, {{client, fin(c0 + 1, s0 + 1), J::accept, FW},
             {client, fin(c0 + 1, s0 + 1), J::accept, FW},  // a retransmitted FIN does not advance the close
             {server, data(s0 + 1, c0 + 1, 500), J::accept, FW},  // data, not yet acknowledging the FIN
             {server, data(s0 + 501, c0 + 2, 500), J::accept, CW},
             {client, ack(c0 + 2, s0 + 1001), J::accept, CW},
             {client, data(c0 + 2, s0 + 1001, 10), J::data_after_fin, CW},
             {server, fin(s0 + 1001, c0 + 2), J::accept, LA}});
}

// ---- RST (RFC 5961 §3.2) ---------------------------------------------------------------

TEST_CASE("an RST at exactly the expected sequence closes the flow") {
    // The client has sent 100 bytes the server acknowledged, and 50 more it has not yet.
    for (auto [from, reset] : {std::pair{server, rst(s0 + 1)},           // at what the client acknowledged
                               {client, rst(c0 + 101)},                  // at what the server acknowledged
                               {client, rst_ack(c0 + 151, s0 + 1)}}) {  // right after its unacknowledged data
        INFO("RST at " << reset.sequence);
        TcpTracker t = in_state(ES);
        play(t, {{client, data(c0 + 1, s0 + 1, 100), J::accept, ES}, {server, ack(s0 + 1, c0 + 101), J::accept, ES},
                 {client, data(c0 + 101, s0 + 1, 50), J::accept, ES}, {from, reset, J::accept, CL}});
    }
}

TEST_CASE("an RST outside the window is invalid, one inside but not exact passes on and does not close") {
    // The server has acknowledged up to c0 + 1 with a 65535-byte window.
    for (std::uint32_t sequence : {c0, c0 - 100'000, c0 + 1 + 65536, c0 + 1 + 0x8000'0000u}) {
        INFO("RST at " << sequence);
        TcpTracker t = in_state(ES);
        play(t, {{client, rst(sequence), J::reset_out_of_window, ES}, {client, rst(c0 + 1), J::accept, CL}});
    }
    // RFC 5961 §3.2: the receiver of a not-exact RST answers with a challenge ACK and stays up.
    TcpTracker t = in_state(ES);
    play(t, {{client, rst(c0 + 1000), J::accept, ES}, {server, ack(s0 + 1, c0 + 1), J::accept, ES},
             {client, rst(c0 + 1), J::accept, CL}});
}

TEST_CASE("in SYN_SENT an RST from the server closes only if it acknowledges the SYN (RFC 793 p.66)") {
    for (auto [rst, closes] : {std::pair{rst_ack(0, c0 + 1), true}, {rst_ack(0, c0 + 2), false},
                               {rst_ack(0, c0), false}, {rst(0), false}, {rst(c0 + 1), false}}) {
        INFO("RST seq " << rst.sequence << " ack " << rst.acknowledgment);
        TcpTracker t = started();
        play(t, {{server, rst, closes ? J::accept : J::reset_out_of_window, closes ? CL : SS}});
    }
}

// ---- Sequence windows (netfilter's tcp_in_window) --------------------------------------

TEST_CASE("data beyond the receiver's window and ACKs for data never sent are invalid and move no bound") {
    TcpTracker t = in_state(ES);  // the server's SYN-ACK allowed c0 + 1 .. c0 + 1 + 65535
    play(t, {{server, ack(s0 + 1, c0 + 2), J::acknowledgment_out_of_window, ES},
             {client, data(c0 + 1, s0 + 2, 10), J::acknowledgment_out_of_window, ES},
             {server, ack(s0 + 1000, c0 + 1), J::accept, ES},  // a pure ACK's sequence is not judged (netfilter)...
             {client, ack(c0 + 1, s0 + 1000), J::acknowledgment_out_of_window, ES},  // ...nor does it move any bound
             {client, data(c0 + 1 + 65536, s0 + 1, 10), J::sequence_out_of_window, ES},
             {server, ack(s0 + 1, c0 + 1 + 65546), J::acknowledgment_out_of_window, ES},
             {client, data(c0 + 1 + 65000, s0 + 1, 535), J::accept, ES},
             {server, ack(s0 + 1, c0 + 1 + 65535), J::accept, ES}});
}

TEST_CASE("a retransmission inside the window changes nothing; data and ACKs a window behind are invalid") {
    TcpTracker t = in_state(ES);
    for (std::uint32_t sent = 0; sent < 120'000; sent += 60'000) {
        REQUIRE(t.track(client, data(c0 + 1 + sent, s0 + 1, 60'000)) == J::accept);
        REQUIRE(t.track(server, ack(s0 + 1, c0 + 1 + sent + 60'000)) == J::accept);
    }
    const TcpTracker before = t;
    CHECK(t.track(client, data(c0 + 1 + 60'000, s0 + 1, 60'000)) == J::accept);
    CHECK(t == before);
    play(t, {{client, data(c0 + 1, s0 + 1, 100), J::sequence_out_of_window, ES},
             {server, ack(s0 + 1, c0 + 1), J::acknowledgment_out_of_window, ES}});
}

TEST_CASE("windows are scaled only when both SYNs carry the option (RFC 7323)") {
    struct Case { bool client_offers, server_offers, scaled; };
    for (Case c : {Case{true, true, true}, Case{true, false, false}, Case{false, true, false}}) {
        INFO("client offers " << c.client_offers << ", server offers " << c.server_offers);
        TcpSegment first = c.client_offers ? scale(syn(c0), 7) : syn(c0);
        TcpSegment answer = window(syn_ack(s0, c0 + 1), 1000);
        TcpTracker t = started(first);
        REQUIRE(t.track(server, c.server_offers ? scale(answer, 7) : answer) == J::accept);
        // RFC 7323 §2.2: the SYN-ACK's own window is not scaled: 1000 bytes for now.
        CHECK(t.track(client, data(c0 + 1 + 5000, s0 + 1, 10)) == J::sequence_out_of_window);
        REQUIRE(t.track(server, window(ack(s0 + 1, c0 + 1), 1000)) == J::accept);
        CHECK(t.track(client, data(c0 + 100'001, s0 + 1, 10)) == (c.scaled ? J::accept : J::sequence_out_of_window));
    }
}

TEST_CASE("a window shift above 14 counts as 14 (RFC 7323 §2.3)") {
    TcpTracker t = started(scale(syn(c0), 15));
    REQUIRE(t.track(server, scale(window(syn_ack(s0, c0 + 1), 1), 15)) == J::accept);
    REQUIRE(t.track(server, window(ack(s0 + 1, c0 + 1), 2)) == J::accept);  // 2 << 14 = 32768 bytes
    play(t, {{client, data(c0 + 1 + 40'000, s0 + 1, 10), J::sequence_out_of_window, SR},
             {client, data(c0 + 1 + 30'000, s0 + 1, 10), J::accept, ES}});
}

TEST_CASE("sequence numbers wrap around 2^32 without upsetting any check") {
    const std::uint32_t c = 0xffff'ff00, s = 0xffff'fff0;
    TcpTracker t = in_state(ES, c, s);
    play(t, {{client, data(c + 1, s + 1, 1000), J::accept, ES}, {server, data(s + 1, c + 1001, 100), J::accept, ES},
             {client, data(c + 1001 + 70'000, s + 101, 10), J::sequence_out_of_window, ES},
             {server, ack(s + 101, c + 1001 + 10), J::acknowledgment_out_of_window, ES},
             {client, rst(c + 1001 + 0x8000'0000u), J::reset_out_of_window, ES},
             {client, fin(c + 1001, s + 101), J::accept, FW}, {server, fin(s + 101, c + 1002), J::accept, LA},
             {client, ack(c + 1002, s + 102), J::accept, TW}});
}

// ---- Pickup (netfilter's nf_conntrack_tcp_loose) ---------------------------------------

TEST_CASE("a flow picked up mid-stream allows large windows but still checks ACKs and RSTs") {
    auto picked = TcpTracker::start(data(7000, 9000, 100), TcpPickup::allow);
    REQUIRE(picked);
    TcpTracker t = *picked;
    play(t, {{server, ack(9000, 7101), J::acknowledgment_out_of_window, ES},
             {server, data(9000, 7100, 500), J::accept, ES},
             {client, ack(7100, 9501), J::acknowledgment_out_of_window, ES},
             {client, data(7100 + 1'000'000, 9500, 10), J::accept, ES},  // the server's window is unknown
             {server, data(9500 + 1'000'000, 7100, 10), J::accept, ES},  // the client's window scale is unknown
             {server, rst(9500 + 0x8000'0000u), J::reset_out_of_window, ES},
             {server, rst(9500), J::accept, CL}});
}

// ---- Flags, parsing, names -------------------------------------------------------------

TEST_CASE("flags real stacks send are valid (PSH, ECE, CWR aside); others are refused in every state") {
    for (std::string_view names : {"SYN", "SYN+URG", "SYN+ACK", "RST", "RST+ACK", "FIN+ACK", "FIN+ACK+URG", "ACK",
                                   "ACK+URG", "ACK+PSH", "FIN+ACK+PSH", "SYN+ECE+CWR", "SYN+ACK+ECE", "ACK+CWR"})
        CHECK(tcp_flags_valid(flags_named(names)));
    for (std::string_view names : {"none", "FIN", "PSH", "URG", "SYN+FIN", "SYN+RST", "FIN+RST+ACK", "FIN+PSH+URG",
                                   "SYN+FIN+PSH+URG", "SYN+ACK+FIN", "SYN+ACK+URG", "RST+FIN"}) {
        INFO(names);
        std::uint8_t flags = flags_named(names);
        CHECK_FALSE(tcp_flags_valid(flags));
        CHECK_FALSE(TcpTracker::start(segment(flags, c0), TcpPickup::allow));
        for (TcpState state : {SS, ES, FW, TW}) {
            TcpTracker t = in_state(state);
            play(t, {{client, segment(flags, c0 + 1, s0 + 1), J::bad_flags, state},
                     {server, segment(flags, s0 + 1, c0 + 1), J::bad_flags, state}});
        }
    }
}

namespace {
// A raw TCP header with the given options (padded to whole words) and payload bytes.
std::vector<std::uint8_t> raw_segment(std::uint8_t flags, std::vector<std::uint8_t> options, std::size_t payload) {
    while (options.size() % 4) options.push_back(0);
    std::vector<std::uint8_t> bytes{0x13, 0x88, 0x01, 0xbb, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
                                    std::uint8_t((20 + options.size()) / 4 << 4), flags, 0x72, 0x10, 0, 0, 0, 0};
    bytes.insert(bytes.end(), options.begin(), options.end());
    bytes.resize(bytes.size() + payload, 0xee);
    return bytes;
}
const wire::TcpHeader& header_of(const std::vector<std::uint8_t>& bytes) {
    return *reinterpret_cast<const wire::TcpHeader*>(bytes.data());
}
}  // namespace

TEST_CASE("a segment is read from its header, the window scale only from a SYN and within the header") {
    const std::vector<std::uint8_t> mss_nop_scale{2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    auto bytes = raw_segment(flag::syn, mss_nop_scale, 10);
    auto s = tcp_segment_from(header_of(bytes), bytes.size());
    REQUIRE(s);
    CHECK(s->flags == flag::syn);
    CHECK(s->sequence == 0x01020304);
    CHECK(s->acknowledgment == 0x0a0b0c0d);
    CHECK(s->window == 0x7210);
    CHECK(s->payload_length == 10);
    CHECK(s->window_scale == std::optional<std::uint8_t>(7));
    auto on_ack = raw_segment(flag::ack, mss_nop_scale, 0);
    CHECK_FALSE(tcp_segment_from(header_of(on_ack), on_ack.size())->window_scale);
    // Data offset 6 ends the options after NOP NOP and half a scale option; its shift byte is payload.
    auto cut = raw_segment(flag::syn, {1, 1, 3, 3}, 4);
    cut[24] = 7;
    CHECK_FALSE(tcp_segment_from(header_of(cut), cut.size())->window_scale);
    // A data offset below five words, or beyond the segment, is refused.
    cut[12] = 4 << 4;
    CHECK_FALSE(tcp_segment_from(header_of(cut), cut.size()));
    cut[12] = 8 << 4;
    CHECK_FALSE(tcp_segment_from(header_of(cut), cut.size()));
}

TEST_CASE("every state has a name and a timeout class, every judgement a name") {
    using enum TcpTimeoutClass;
    for (auto [state, timeout] : {std::pair{SS, transitory}, {S2, transitory}, {SR, transitory}, {ES, established},
                                  {FW, closing}, {CW, closing}, {LA, closing}, {TW, closing}, {CL, closing}}) {
        INFO(tcp_state_name(state));
        CHECK(in_state(state).timeout_class() == timeout);
    }
    CHECK(tcp_state_name(TcpState::close_wait) == "close_wait");
    CHECK(tcp_judgement_name(J::reset_out_of_window) == "reset_out_of_window");
    for (std::size_t j = 0; j < std::size_t(J::count_); ++j) CHECK_FALSE(tcp_judgement_description(J(j)).empty());
}

}  // namespace gw::test

// Hostile fragments (issue 7): what reassembly attacks are made of is dropped and
// counted, later fragments only ever follow a first fragment the engine let through,
// in both directions, and a TCP first fragment is judged against its connection.
#include <catch2/catch.hpp>

#include <vector>

#include "engine_setup.hpp"
#include "nat/fragment_table.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

// A reply to host_a's UDP query, to the port the NAT mapped it to, in fragments of 24 bytes.
struct Reply {
    PacketEngine nat{engine_setup()};
    std::vector<Packet> fragments;

    explicit Reply(std::size_t payload = 64) {
        Packet opens = udp(at(host_a, 5000), at(server, 53));
        REQUIRE(outbound(nat, opens).verdict == Verdict::forward);
        fragments = fragments_of(
            with_identification(udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)),
                                    payload_of_size(payload)),
                                0x4242),
            24);
    }
    EngineResult send(std::size_t index) {
        Packet copy = fragments.at(index);
        return inbound(nat, copy);
    }
};

// A later fragment of the reply's datagram at `offset_units`, holding `length` bytes.
Packet later_fragment(std::uint16_t offset_units, std::size_t length, bool more) {
    Packet p = with_identification(ipv4(server, wan_address, ip_udp, payload_of_size(length)), 0x4242);
    return with_fragment_fields(p, more, offset_units);
}

}  // namespace

TEST_CASE("later fragments may arrive in any order once the first fragment went through") {
    Reply r(88);  // 96 transport bytes: 4 fragments
    REQUIRE(r.fragments.size() == 4);
    CHECK(r.send(0).verdict == Verdict::forward);
    CHECK(r.send(2).verdict == Verdict::forward);
    CHECK(r.send(3).verdict == Verdict::forward);
    CHECK(r.send(1).verdict == Verdict::forward);
    CHECK(r.nat.counters().drops.total() == 0);
    CHECK(r.nat.fragments().size() == 0);  // complete: forgotten at once
}

TEST_CASE("a fragment overlapping or repeating one of its datagram is dropped as overlapping_fragment") {
    Reply r;
    REQUIRE(r.send(0).verdict == Verdict::forward);
    REQUIRE(r.send(1).verdict == Verdict::forward);
    SECTION("a later fragment sent twice") { CHECK(r.send(1).reason == DropReason::overlapping_fragment); }
    SECTION("a second first fragment (the ports a filter judged could be replaced)") {
        CHECK(r.send(0).reason == DropReason::overlapping_fragment);
    }
    SECTION("a later fragment reaching back into the first (teardrop)") {
        Packet overlap = later_fragment(2, 16, true);  // bytes 16..32: the first holds 0..24
        CHECK(inbound(r.nat, overlap).reason == DropReason::overlapping_fragment);
    }
    CHECK(r.nat.counters().drops[DropReason::overlapping_fragment] == 1);
}

TEST_CASE("empty, oversized and misaligned fragments are dropped with their own reasons") {
    Reply r;
    REQUIRE(r.send(0).verdict == Verdict::forward);
    SECTION("a fragment with no data") {
        Packet empty = cut_to(r.fragments.at(1), 20);
        CHECK(inbound(r.nat, empty).reason == DropReason::empty_fragment);
    }
    SECTION("a fragment whose data would end past 65535 bytes (ping of death)") {
        Packet huge = later_fragment(8189, 40, false);  // 65512 + 40 + 20 header > 65535
        CHECK(inbound(r.nat, huge).reason == DropReason::oversized_fragment);
    }
    SECTION("a non-last fragment that is not a multiple of 8 bytes") {
        Packet odd = later_fragment(3, 13, true);
        CHECK(inbound(r.nat, odd).reason == DropReason::malformed_fragment);
    }
    SECTION("a fragment past the end the last fragment set") {
        Packet last = later_fragment(4, 8, false);  // ends at 40; 24..32 still missing
        REQUIRE(inbound(r.nat, last).verdict == Verdict::forward);
        Packet beyond = later_fragment(6, 8, true);
        CHECK(inbound(r.nat, beyond).reason == DropReason::malformed_fragment);
    }
    CHECK(r.nat.counters().drops.total() == 1);
}

TEST_CASE("a misaligned first fragment is dropped before it can open anything") {
    PacketEngine nat(engine_setup());
    Packet first = with_fragment_fields(udp(at(host_a, 5000), at(server, 53), payload_of_size(20)), true, 0);
    Packet odd = cut_to(first, 20 + 8 + 5);  // MF set, 13 bytes: not a multiple of 8
    CHECK(outbound(nat, odd).reason == DropReason::malformed_fragment);
    CHECK(nat.flows().size() == 0);
}

TEST_CASE("an outbound later fragment follows only a first fragment that was let out") {
    std::vector<Packet> fragments =
        fragments_of(with_identification(udp(at(host_a, 5000), at(server, 53), payload_of_size(64)), 0x77), 24);
    SECTION("alone, it is dropped and never leaves with any address") {
        PacketEngine nat(engine_setup());
        Packet later = fragments.at(1);
        CHECK(outbound(nat, later).reason == DropReason::fragment_without_first);
        CHECK(later == fragments.at(1));
        CHECK(nat.counters().outbound_packets == 0);
    }
    SECTION("after a first fragment an outbound rule refused, it is dropped too") {
        EngineSetup setup = engine_setup();
        setup.firewall.policies.outbound = RuleAction::drop;
        PacketEngine nat(setup);
        Packet first = fragments.at(0);
        REQUIRE(outbound(nat, first).reason == DropReason::denied_by_policy);
        Packet later = fragments.at(1);
        CHECK(outbound(nat, later).reason == DropReason::fragment_without_first);
    }
    SECTION("after a first fragment of another host, it is dropped") {
        PacketEngine nat(engine_setup());
        Packet first = fragments.at(0);
        REQUIRE(outbound(nat, first).verdict == Verdict::forward);
        Packet other = fragments.at(1);
        put32(other, 12, host_b.host_order());
        refresh_ip_checksum(other);
        CHECK(outbound(nat, other).reason == DropReason::fragment_without_first);
    }
}

TEST_CASE("a TCP first fragment is judged against its connection's window, not only its flags") {
    PacketEngine nat(engine_setup());
    TcpConnection c = TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0));
    REQUIRE(send_syn(nat, c, at(host_a, 5000)).verdict == Verdict::forward);
    const Endpoint external = mapped_endpoint(nat, Protocol::tcp, at(host_a, 5000));
    for (Crossing s : {c.from_server(tcp_flag::syn | tcp_flag::ack), c.from_client(tcp_flag::ack)}) {
        Packet p = s.sent;
        REQUIRE((destination_address(p) == wan_address ? inbound(nat, p) : outbound(nat, p)).verdict ==
                Verdict::forward);
    }
    SECTION("a blind segment far outside the window is refused, and its later fragments with it") {
        std::vector<Packet> pieces = fragments_of(
            with_identification(tcp(at(server, 443), external, tcp_flag::ack | tcp_flag::psh,
                                    TcpNumbers{c.server_next() + 0x40000000, c.client_next()}, payload_of_size(64)),
                                0x99),
            32);
        Packet first = pieces.at(0);
        CHECK(inbound(nat, first).reason == DropReason::invalid_tcp);
        Packet later = pieces.at(1);
        CHECK(inbound(nat, later).reason == DropReason::fragment_without_first);
    }
    SECTION("an in-window segment crosses in fragments") {
        std::vector<Packet> pieces = fragments_of(
            with_identification(c.from_server(tcp_flag::ack | tcp_flag::psh, payload_of_size(64)).sent, 0x98), 32);
        for (Packet& f : pieces) CHECK(inbound(nat, f).verdict == Verdict::forward);
        CHECK(destination_address(pieces.back()) == host_a);
        // The later fragments count as sent: the acknowledgment of the whole segment is in window.
        Packet ack = c.from_client(tcp_flag::ack).sent;
        CHECK(outbound(nat, ack).verdict == Verdict::forward);
    }
    SECTION("a later fragment starting beyond the receiver's window is refused") {
        std::vector<Packet> pieces = fragments_of(
            with_identification(c.from_server(tcp_flag::ack | tcp_flag::psh, payload_of_size(64)).sent, 0x97), 32);
        REQUIRE(inbound(nat, pieces.at(0)).verdict == Verdict::forward);
        Packet far = with_fragment_fields(pieces.at(1), true, 8100);  // 64800 bytes on: past a 64240 window
        CHECK(inbound(nat, far).reason == DropReason::invalid_tcp);
    }
}

TEST_CASE("the fragment table is bounded: when full the oldest datagram is forgotten, nothing grows") {
    FragmentTable table(2);
    auto first = [](std::uint16_t id) {
        FragmentPiece p;
        p.key = {server, wan_address, ip_udp, id};
        p.end = 24;
        p.ip_header_length = 20;
        return p;
    };
    auto later = [](std::uint16_t id) {
        FragmentPiece p;
        p.key = {server, wan_address, ip_udp, id};
        p.start = 24;
        p.end = 48;
        p.ip_header_length = 20;
        return p;
    };
    table.remember_first(first(1), {false, host_a}, t0);
    table.remember_first(first(2), {false, host_b}, t0 + 1ms);
    table.remember_first(first(3), {false, host_a}, t0 + 2ms);
    CHECK(table.size() == 2);
    CHECK(table.capacity() == 2);
    CHECK(table.evicted_total() == 1);
    CHECK(table.admit_later(later(1), t0 + 3ms).reason == DropReason::fragment_without_first);
    auto second = table.admit_later(later(2), t0 + 3ms);
    CHECK(second.reason == DropReason::none);
    CHECK(second.verdict.internal_destination == host_b);
    CHECK(table.admit_later(later(3), t0 + FragmentTable::lifetime + 2ms).reason ==
          DropReason::fragment_without_first);
    CHECK(table.size() == 0);
}

TEST_CASE("the fragment table refuses a datagram scattered into more pieces than it follows") {
    FragmentTable table;
    FragmentPiece first;
    first.key = {server, wan_address, ip_udp, 5};
    first.end = 8;
    first.ip_header_length = 20;
    table.remember_first(first, {false, host_a}, t0);
    DropReason last = DropReason::none;
    for (std::uint32_t i = 1; i <= FragmentTable::max_ranges + 1 && last == DropReason::none; ++i) {
        FragmentPiece piece = first;
        piece.start = i * 16;  // every other 8 bytes: nothing merges
        piece.end = piece.start + 8;
        last = table.admit_later(piece, t0).reason;
    }
    CHECK(last == DropReason::malformed_fragment);
}

}  // namespace gw::test

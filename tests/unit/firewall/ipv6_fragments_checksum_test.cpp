// IPv6 fragments and TCP checksums judged as IPv4's are (issue 15): later fragments follow
// their first through IPv4's hashed fragment table, in any order, overlaps refused (RFC
// 5722); a SYN, FIN or RST must carry its sender's checksum (bad_tcp_checksum).
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;

EngineSetup ipv6_setup() {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 1024;
    return setup;
}

EngineResult out(PacketEngine& e, const Packet& p, L4Checksum state = L4Checksum::complete) {
    return e.judge_ipv6_outbound(p, t0, state);
}
EngineResult in(PacketEngine& e, const Packet& p, L4Checksum state = L4Checksum::complete) {
    return e.judge_ipv6_inbound(p, t0, state);
}

// A piece of datagram `id` from the LAN host: bytes [offset_units * 8, + size) of what follows
// the fragment header.
Packet piece(std::uint16_t offset_units, std::size_t size, bool more, std::uint32_t id = 42) {
    return v6::ipv6(lan_host, remote_host, udp_proto, payload_of_size(size), {fragment_header(offset_units, more, id)});
}

Packet with_broken_tcp_checksum(Packet p) {
    const std::size_t at = 40 + 16;
    p[at] ^= 0x12;
    return p;
}

}  // namespace

TEST_CASE("later IPv6 fragments follow their first in any order, and an overlapping one is dropped (RFC 5722)") {
    PacketEngine e(ipv6_setup());
    // First: a UDP header and 24 bytes, [0, 32); then [64, 80) (the last), then [32, 64).
    REQUIRE(out(e, v6::udp(lan_host, 5000, remote_host, 53, payload_of_size(24), {fragment_header(0, true, 42)}))
                .verdict == Verdict::forward);
    CHECK(out(e, piece(8, 16, false)).verdict == Verdict::forward);
    CHECK(out(e, piece(6, 24, true)).reason == DropReason::overlapping_fragment);  // [48, 72) overlaps [64, 80)
    CHECK(out(e, piece(4, 32, true)).verdict == Verdict::forward);
    // Every byte seen: the datagram is forgotten, and a straggler follows nothing.
    CHECK(out(e, piece(4, 32, true)).reason == DropReason::fragment_without_first);
    CHECK(e.ipv6().fragments().size() == 0);
    CHECK(e.counters().drops[DropReason::overlapping_fragment] == 1);
}

TEST_CASE("a second first fragment of an IPv6 datagram overlaps the first and is dropped") {
    PacketEngine e(ipv6_setup());
    Packet first = v6::udp(lan_host, 5000, remote_host, 53, payload_of_size(24), {fragment_header(0, true, 9)});
    REQUIRE(out(e, first).verdict == Verdict::forward);
    CHECK(out(e, first).reason == DropReason::overlapping_fragment);
}

TEST_CASE("IPv6 fragments past 65535 bytes or misaligned are dropped before they are followed") {
    PacketEngine e(ipv6_setup());
    REQUIRE(out(e, v6::udp(lan_host, 5000, remote_host, 53, payload_of_size(24), {fragment_header(0, true, 5)}))
                .verdict == Verdict::forward);
    CHECK(out(e, piece(8190, 16, false, 5)).reason == DropReason::oversized_fragment);  // 65520 + 16
    CHECK(out(e, piece(4, 12, true, 5)).reason == DropReason::malformed_fragment);      // more, not a multiple of 8
}

TEST_CASE("a fragmented IPv6 echo request is followed whole, as any other first fragment") {
    PacketEngine e(ipv6_setup());
    Bytes echo(8 + 24);
    echo[0] = icmp6::echo_request;
    put16(echo, 4, 77);
    REQUIRE(out(e, v6::ipv6(lan_host, remote_host, icmpv6, echo, {fragment_header(0, true, 11)})).verdict ==
            Verdict::forward);
    CHECK(out(e, v6::ipv6(lan_host, remote_host, icmpv6, payload_of_size(16), {fragment_header(4, false, 11)})).verdict ==
          Verdict::forward);
}

TEST_CASE("an IPv6 SYN with a bad checksum opens no flow, from either side") {
    EngineSetup setup = ipv6_setup();
    FirewallRule web;
    web.name = "web-in";
    web.direction = RuleDirection::inbound;
    web.protocol = Protocol::tcp;
    web.destination_ports = {PortRange{443, 443}};
    web.action = RuleAction::accept;
    setup.firewall.rules = {web};
    PacketEngine e(setup);
    Packet syn_out = v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535});
    Packet syn_in = v6::tcp(remote_host, 50000, lan_host, 443, tcp_flag::syn, {1000, 0, 65535});
    CHECK(out(e, with_broken_tcp_checksum(syn_out)).reason == DropReason::bad_tcp_checksum);
    CHECK(in(e, with_broken_tcp_checksum(syn_in)).reason == DropReason::bad_tcp_checksum);
    CHECK(e.ipv6().flows().size() == 0);
    CHECK(e.counters().drops[DropReason::bad_tcp_checksum] == 2);
    // A checksum the kernel finishes later (CHECKSUM_PARTIAL) cannot be judged: it passes.
    CHECK(out(e, with_broken_tcp_checksum(syn_out), L4Checksum::pseudo_header_only).verdict == Verdict::forward);
}

TEST_CASE("an IPv6 RST with a bad checksum is dropped and leaves its connection established") {
    PacketEngine e(ipv6_setup());
    REQUIRE(out(e, v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535})).verdict ==
            Verdict::forward);
    REQUIRE(in(e, v6::tcp(remote_host, 443, lan_host, 40000, tcp_flag::syn | tcp_flag::ack, {5000, 1001, 65535}))
                .verdict == Verdict::forward);
    REQUIRE(out(e, v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::ack, {1001, 5001, 65535})).verdict ==
            Verdict::forward);
    Packet reset = v6::tcp(remote_host, 443, lan_host, 40000, tcp_flag::rst | tcp_flag::ack, {5001, 1001, 65535});
    CHECK(in(e, with_broken_tcp_checksum(reset)).reason == DropReason::bad_tcp_checksum);
    const Ipv6Flow* flow = nullptr;
    e.ipv6().flows().for_each([&](const Ipv6Flow& f) { flow = &f; });
    REQUIRE(flow);
    CHECK(flow->tcp.state() == TcpState::established);
    // Data segments are not summed (they are the many, and change no state).
    Packet data = v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::ack | tcp_flag::psh, {1001, 5001, 65535},
                          payload_of_size(10));
    CHECK(out(e, with_broken_tcp_checksum(data)).verdict == Verdict::forward);
}

}  // namespace gw

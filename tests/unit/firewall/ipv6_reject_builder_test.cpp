// What a reject rule answers IPv6 packets with: a TCP RST built per RFC 793, an ICMPv6
// Destination Unreachable quoting the packet (RFC 4443), and nothing where no answer is due.
#include <catch2/catch.hpp>

#include <array>

#include "firewall/ipv6_packet_view.hpp"
#include "firewall/ipv6_reject_builder.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;

Packet answer_to(const Packet& offending) {
    std::array<std::uint8_t, max_ipv6_reject_size> out{};
    std::size_t length = build_ipv6_reject(offending, out);
    return Packet(out.begin(), out.begin() + std::ptrdiff_t(length));
}

// The answer's upper-layer checksum, recomputed from scratch, is right.
bool checksum_right(const Packet& p) {
    Bytes upper(p.begin() + 40, p.end());
    std::size_t at = p[6] == tcp_proto ? 16 : 2;
    std::uint16_t carried = get16(upper, at);
    put16(upper, at, 0);
    return checksum_of(Ipv6Address(*reinterpret_cast<const Ipv6Address::Bytes*>(p.data() + 8)),
                       Ipv6Address(*reinterpret_cast<const Ipv6Address::Bytes*>(p.data() + 24)), p[6], upper) == carried;
}

}  // namespace

TEST_CASE("a rejected IPv6 SYN is answered with an RST+ACK from the address it was sent to") {
    Packet syn = v6::tcp(remote_host, 50000, lan_host, 23, tcp_flag::syn, {1000, 0, 65535});
    Packet rst = answer_to(syn);
    REQUIRE(rst.size() == 60);
    Ipv6Parse parsed = parse_ipv6(rst);
    REQUIRE(parsed.view);
    CHECK(parsed.view->source == lan_host);
    CHECK(parsed.view->destination == remote_host);
    CHECK(parsed.view->source_port == 23);
    CHECK(parsed.view->destination_port == 50000);
    CHECK(rst[40 + 13] == (tcp_flag::rst | tcp_flag::ack));
    CHECK(get32(rst, 40 + 8) == 1001);  // acknowledges the SYN
    CHECK(checksum_right(rst));
}

TEST_CASE("a rejected IPv6 segment with ACK gets an RST at the sequence it acknowledged") {
    Packet data = v6::tcp(lan_host, 40000, remote_host, 80, tcp_flag::ack | tcp_flag::psh, {7000, 9000, 65535},
                          payload_of_size(10));
    Packet rst = answer_to(data);
    REQUIRE(rst.size() == 60);
    CHECK(rst[40 + 13] == tcp_flag::rst);
    CHECK(get32(rst, 40 + 4) == 9000);
    CHECK(checksum_right(rst));
}

TEST_CASE("a rejected UDP datagram is answered with ICMPv6 port unreachable quoting it; others administratively prohibited") {
    Packet datagram = v6::udp(remote_host, 5000, lan_host, 161, payload_of_size(20));
    Packet error = answer_to(datagram);
    REQUIRE(error.size() == 40 + 8 + datagram.size());
    CHECK(error[6] == icmpv6);
    CHECK(error[40] == icmp6::destination_unreachable);
    CHECK(error[41] == 4);
    CHECK(Packet(error.begin() + 48, error.end()) == datagram);
    CHECK(checksum_right(error));
    Packet gre = v6::ipv6(remote_host, lan_host, 47, payload_of_size(12));
    CHECK(answer_to(gre).at(41) == 1);
    Packet ping = echo(remote_host, lan_host, icmp6::echo_request, 3);
    CHECK(answer_to(ping).at(41) == 1);
}

TEST_CASE("the quote of an ICMPv6 reject stops at the minimum MTU") {
    Packet big = v6::udp(remote_host, 5000, lan_host, 161, payload_of_size(1400));
    Packet error = answer_to(big);
    CHECK(error.size() == 1280);
    CHECK(checksum_right(error));
}

TEST_CASE("no reject answer to an RST, an ICMPv6 error or reply, a later fragment, or a multicast source") {
    CHECK(answer_to(v6::tcp(remote_host, 1, lan_host, 2, tcp_flag::rst)).empty());
    Packet quoted = v6::udp(lan_host, 1, remote_host, 2);
    CHECK(answer_to(icmp_error(icmp6::destination_unreachable, 4, remote_host, lan_host, quoted)).empty());
    CHECK(answer_to(echo(remote_host, lan_host, icmp6::echo_reply, 3)).empty());
    CHECK(answer_to(v6::ipv6(remote_host, lan_host, udp_proto, payload_of_size(16), {fragment_header(8, false, 5)})).empty());
    CHECK(answer_to(v6::udp(address("ff02::1"), 1, lan_host, 2)).empty());
    Packet malformed = v6::udp(remote_host, 1, lan_host, 2);
    malformed.resize(30);
    CHECK(answer_to(malformed).empty());
}

}  // namespace gw

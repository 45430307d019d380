// The IPv6 parser the firewall judges by: the fixed header, the extension header chain
// walked to the upper layer, and every malformed chain refused with its reason.
#include <catch2/catch.hpp>

#include "firewall/ipv6_packet_view.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;

Ipv6Parse parsed(const Packet& p) { return parse_ipv6(p); }

}  // namespace

TEST_CASE("a plain TCP segment over IPv6 gives its addresses, protocol and ports") {
    Packet p = v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn);
    Ipv6Parse r = parsed(p);
    REQUIRE(r.view);
    CHECK(r.view->source == lan_host);
    CHECK(r.view->destination == remote_host);
    CHECK(r.view->protocol == tcp_proto);
    CHECK(r.view->has_ports);
    CHECK(r.view->source_port == 40000);
    CHECK(r.view->destination_port == 443);
    CHECK(r.view->extension_headers == 0);
    CHECK(r.view->upper_layer.size() == 20);
}

TEST_CASE("the chain is walked through hop-by-hop, destination options, routing and fragment headers") {
    Packet p = v6::udp(lan_host, 5000, remote_host, 53, payload_of_size(12),
                       {options_header(hop_by_hop), options_header(destination_options), routing_header(2, 0),
                        fragment_header(0, false, 77), options_header(destination_options)});
    Ipv6Parse r = parsed(p);
    REQUIRE(r.view);
    CHECK(r.view->extension_headers == 5);
    CHECK(r.view->protocol == udp_proto);
    CHECK(r.view->destination_port == 53);
    REQUIRE(r.view->fragment);
    CHECK(r.view->fragment->is_atomic());
    CHECK(r.view->fragment->identification == 77);
}

TEST_CASE("ICMPv6 echo carries its identifier where a port would be") {
    Ipv6Parse r = parsed(echo(lan_host, remote_host, icmp6::echo_request, 0x1234));
    REQUIRE(r.view);
    CHECK(r.view->has_icmp_header);
    CHECK(r.view->icmp_type == icmp6::echo_request);
    CHECK(r.view->has_ports);
    CHECK(r.view->source_port == 0x1234);
}

TEST_CASE("a later fragment is parsed without an upper-layer header") {
    Packet p = v6::ipv6(lan_host, remote_host, udp_proto, payload_of_size(16), {fragment_header(185, true, 9)});
    Ipv6Parse r = parsed(p);
    REQUIRE(r.view);
    REQUIRE(r.view->fragment);
    CHECK(r.view->fragment->is_later());
    CHECK_FALSE(r.view->has_ports);
    CHECK(r.view->upper_layer.empty());
}

TEST_CASE("malformed IPv6 packets and extension chains are refused, each with its reason") {
    struct Case {
        const char* description;
        Packet packet;
        DropReason reason;
    };
    Packet base = v6::udp(lan_host, 5000, remote_host, 53);
    Packet short_buffer = base;
    short_buffer.resize(30);
    Packet payload_too_long = base;
    put16(payload_too_long, 4, std::uint16_t(base.size()));  // claims 40 more bytes than there are
    Packet jumbogram = base;
    put16(jumbogram, 4, 0);
    Packet chain_cut = v6::udp(lan_host, 5000, remote_host, 53, {}, {options_header(destination_options)});
    chain_cut[41] = 5;  // the options header claims 48 bytes
    Packet version_4 = base;
    version_4[0] = 0x45;
    std::vector<Extension> too_many(9, options_header(destination_options));
    Case cases[] = {
        {"shorter than the fixed header", short_buffer, DropReason::truncated_ipv6_header},
        {"not version 6", version_4, DropReason::truncated_ipv6_header},
        {"payload length beyond the buffer", payload_too_long, DropReason::bad_ipv6_payload_length},
        {"a jumbogram (payload length 0)", jumbogram, DropReason::bad_ipv6_payload_length},
        {"an extension header running past the payload", chain_cut, DropReason::malformed_ipv6_extension_headers},
        {"hop-by-hop not first (RFC 8200 4.1)",
         v6::udp(lan_host, 5000, remote_host, 53, {}, {options_header(destination_options), options_header(hop_by_hop)}),
         DropReason::malformed_ipv6_extension_headers},
        {"two fragment headers",
         v6::udp(lan_host, 5000, remote_host, 53, {}, {fragment_header(0, false, 1), fragment_header(0, false, 2)}),
         DropReason::malformed_ipv6_extension_headers},
        {"two routing headers",
         v6::udp(lan_host, 5000, remote_host, 53, {}, {routing_header(2, 0), routing_header(2, 0)}),
         DropReason::malformed_ipv6_extension_headers},
        {"a type 0 routing header with segments left (RFC 5095)",
         v6::udp(lan_host, 5000, remote_host, 53, {}, {routing_header(0, 1)}), DropReason::malformed_ipv6_extension_headers},
        {"more than 8 extension headers",
         v6::udp(lan_host, 5000, remote_host, 53, {}, too_many), DropReason::malformed_ipv6_extension_headers},
        {"a first fragment without the whole upper-layer header (RFC 7112)",
         v6::ipv6(lan_host, remote_host, tcp_proto, payload_of_size(8), {fragment_header(0, true, 4)}),
         DropReason::malformed_ipv6_extension_headers},
        {"an unfragmented TCP header cut short", v6::ipv6(lan_host, remote_host, tcp_proto, payload_of_size(12)),
         DropReason::truncated_l4_header},
    };
    for (const Case& c : cases) {
        INFO(c.description);
        Ipv6Parse r = parsed(c.packet);
        CHECK_FALSE(r.view);
        CHECK(r.reason == c.reason);
    }
}

TEST_CASE("a type 0 routing header with no segments left is only walked past") {
    Ipv6Parse r = parsed(v6::udp(lan_host, 5000, remote_host, 53, {}, {routing_header(0, 0)}));
    REQUIRE(r.view);
    CHECK(r.view->protocol == udp_proto);
}

TEST_CASE("a buffer longer than the payload length is read only up to it") {
    Packet p = v6::udp(lan_host, 5000, remote_host, 53, payload_of_size(4));
    p.resize(p.size() + 10, 0xee);  // link-layer padding
    Ipv6Parse r = parsed(p);
    REQUIRE(r.view);
    CHECK(r.view->upper_layer.size() == 12);
}

TEST_CASE("a quoted datagram may be cut short after the first 8 bytes of its TCP header") {
    Packet p = v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn);
    p.resize(40 + 8);
    Ipv6Parse r = parse_quoted_ipv6(p);
    REQUIRE(r.view);
    CHECK(r.view->source_port == 40000);
    CHECK_FALSE(parse_ipv6(p).view);  // as a packet of its own it is truncated
}

}  // namespace gw

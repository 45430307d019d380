// Untrusted bytes: what the parser accepts, and every malformed packet refused with its
// reason, counted, and never modified (Click's CheckIPHeader, pf's PFRES_*).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine_setup.hpp"
#include "nat/packet_view.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


struct Malformed {
    std::string description;
    Packet packet;
    DropReason reason;
};

// Every malformation, in packets going from `from` to `to`.
std::vector<Malformed> malformed_packets(Ipv4Address from, Ipv4Address to) {
    Packet a_udp = udp(at(from, 5000), at(to, 53), payload_of_size(12));
    Packet a_tcp = tcp(at(from, 5000), at(to, 80), tcp_flag::syn);
    Packet a_ping = icmp_echo(from, to, icmp_type::echo_request, 5000, 1);
    return {
        {"a buffer shorter than an IPv4 header", first_bytes(a_udp, 19), DropReason::truncated_ip_header},
        {"an empty buffer", Packet{}, DropReason::truncated_ip_header},
        {"IP version 6", with_ip_version(a_udp, 6), DropReason::not_ipv4},
        {"IP version 0", with_ip_version(a_udp, 0), DropReason::not_ipv4},
        {"an IHL of 4 words", with_ip_header_length_field(a_udp, 4), DropReason::bad_header_length},
        {"an IHL of 0", with_ip_header_length_field(a_udp, 0), DropReason::bad_header_length},
        {"an IHL beyond the buffer", with_ip_header_length_field(a_udp, 15), DropReason::bad_header_length},
        {"a total length beyond the buffer", with_total_length_field(a_udp, std::uint16_t(a_udp.size() + 1)),
         DropReason::bad_total_length},
        {"a total length below the header", with_total_length_field(a_udp, 19), DropReason::bad_total_length},
        {"a total length of 0 (TSO-style)", with_total_length_field(a_udp, 0), DropReason::bad_total_length},
        {"a bad IP header checksum", with_broken_ip_checksum(a_udp), DropReason::bad_ip_checksum},
        {"a TCP data offset beyond the packet", with_tcp_data_offset_field(a_tcp, 6), DropReason::truncated_l4_header},
        {"a TCP data offset below 5 words", with_tcp_data_offset_field(a_tcp, 4), DropReason::truncated_l4_header},
        {"a TCP header cut short", cut_to(a_tcp, 20 + 19), DropReason::truncated_l4_header},
        {"a UDP header cut short", cut_to(a_udp, 20 + 7), DropReason::truncated_l4_header},
        {"no UDP header at all", cut_to(a_udp, 20), DropReason::truncated_l4_header},
        {"an ICMP header cut short", cut_to(a_ping, 20 + 4), DropReason::truncated_l4_header},
        {"a first fragment too short for the UDP ports",
         with_fragment_fields(cut_to(a_udp, 20 + 4), true, 0), DropReason::tiny_first_fragment},
        {"a first fragment too short for the whole TCP header",
         with_fragment_fields(cut_to(a_tcp, 20 + 16), true, 0), DropReason::tiny_first_fragment},
    };
}

}  // namespace

TEST_CASE("a malformed LAN packet is dropped with its reason, counted, and left untouched") {
    for (const Malformed& row : malformed_packets(host_a, server)) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(engine_setup(PortRange{1024, 65535}));
            Packet packet = row.packet;
            auto result = nat.translate_outbound(packet, L4Checksum::complete, t0);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == row.reason);
            CHECK(packet == row.packet);
            CHECK(nat.counters().drops[row.reason] == 1);
            CHECK(nat.counters().drops.total() == 1);
            CHECK(nat.mappings().size() == 0);
        }
    }
}

TEST_CASE("a malformed WAN packet is dropped with its reason, counted, and left untouched") {
    for (const Malformed& row : malformed_packets(server, wan_address)) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(engine_setup(PortRange{1024, 65535}));
            // A mapping the malformed packets would hit if they were read at all.
            Packet opens = udp(at(host_a, 5000), at(server, 53));
            REQUIRE(nat.translate_outbound(opens, L4Checksum::complete, t0).verdict == Verdict::forward);
            Packet packet = row.packet;
            auto result = nat.translate_inbound(packet, L4Checksum::complete, t0);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == row.reason);
            CHECK(packet == row.packet);
            CHECK(nat.counters().drops[row.reason] == 1);
            CHECK(nat.counters().drops.total() == 1);
        }
    }
}

TEST_CASE("a LAN packet of a protocol the NAT cannot translate is dropped as unsupported_protocol") {
    PacketEngine nat(engine_setup(PortRange{1024, 65535}));
    Packet gre = ipv4(host_a, server, ip_gre, payload_of_size(24));
    Packet untouched = gre;
    auto result = nat.translate_outbound(gre, L4Checksum::complete, t0);
    CHECK(result.verdict == Verdict::drop);
    CHECK(result.reason == DropReason::unsupported_protocol);
    CHECK(gre == untouched);
    CHECK(nat.counters().drops[DropReason::unsupported_protocol] == 1);
}

TEST_CASE("every drop reason has a name and a description") {
    for (std::size_t i = 0; i < drop_reason_count; ++i) {
        auto reason = DropReason(i);
        CHECK_FALSE(drop_reason_name(reason).empty());
        CHECK_FALSE(drop_reason_description(reason).empty());
    }
    CHECK(drop_reason_name(DropReason::tiny_first_fragment) == "tiny_first_fragment");
}

TEST_CASE("a parsed packet views its transport header in place") {
    Packet packet = with_ip_options(tcp(at(host_a, 5000), at(server, 80), tcp_flag::syn, payload_of_size(5)),
                                    {1, 1, 1, 0});
    packet.resize(packet.size() + 6, 0);  // link-layer padding
    ParseResult parsed = parse_ipv4(packet);
    REQUIRE(parsed.ok());
    const PacketView& v = parsed.view;
    CHECK(v.datagram.size() == packet.size() - 6);
    CHECK(v.protocol == ip_tcp);
    CHECK(v.l4 == packet.data() + 24);
    CHECK(v.l4_length == 25);
    CHECK(static_cast<void*>(v.tcp) == packet.data() + 24);
    CHECK(v.udp == nullptr);
    CHECK(v.icmp == nullptr);
    CHECK_FALSE(v.is_fragment());
}

TEST_CASE("a later fragment is parsed without a transport header") {
    Packet later = fragments_of(udp(at(server, 53), at(wan_address, 5000), payload_of_size(40)), 24).back();
    ParseResult parsed = parse_ipv4(later);
    REQUIRE(parsed.ok());
    CHECK(parsed.view.is_later_fragment());
    CHECK(parsed.view.udp == nullptr);
    CHECK(parsed.view.l4_length == 24);
}

TEST_CASE("a quoted datagram needs its IP header and 8 transport bytes, not its full length") {
    Packet datagram = tcp(at(wan_address, 40000), at(server, 443), tcp_flag::ack, payload_of_size(100));
    struct Row {
        std::string description;
        Packet quote;
        DropReason reason;
    };
    std::vector<Row> table{
        {"the whole datagram", datagram, DropReason::none},
        {"the header and 8 bytes", first_bytes(datagram, 28), DropReason::none},
        {"the header and 7 bytes", first_bytes(datagram, 27), DropReason::truncated_l4_header},
        {"part of the header", first_bytes(datagram, 19), DropReason::truncated_ip_header},
        {"an IHL beyond the quote", with_ip_header_length_field(first_bytes(datagram, 28), 8),
         DropReason::bad_header_length},
        {"a later fragment", with_fragment_fields(datagram, true, 3), DropReason::malformed_icmp_error},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            Packet quote = row.quote;
            ParseResult parsed = parse_quoted_ipv4(quote);
            CHECK(parsed.reason == row.reason);
            if (parsed.ok()) CHECK(static_cast<void*>(parsed.view.tcp) == quote.data() + 20);
        }
    }
}

}  // namespace gw::test

// The test oracle itself: the builder must make valid packets and the verifier must
// notice any damage, or every translation test built on them proves nothing.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "nat/checksum.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

struct Built {
    std::string description;
    Packet packet;
};

std::vector<Built> one_of_each_kind() {
    Packet sent = udp(at(wan_address, 40000), at(server, 53), payload_of_size(21));
    return {
        {"a TCP SYN", tcp(at(host_a, 5000), at(server, 80), tcp_flag::syn)},
        {"a TCP segment with an odd-length payload", tcp(at(host_a, 5000), at(server, 80), tcp_flag::ack, payload_of_size(37))},
        {"a UDP datagram", udp(at(host_a, 5000), at(server, 53), payload_of_size(12))},
        {"a UDP datagram without checksum", udp(at(host_a, 5000), at(server, 53), payload_of_size(12), false)},
        {"an echo request", icmp_echo(host_a, server, icmp_type::echo_request, 0x4242, 1, payload_of_size(56))},
        {"a port unreachable quoting a whole datagram",
         icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address, sent, sent.size())},
        {"a port unreachable quoting 28 bytes",
         icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server, wan_address, sent, 28)},
        {"a packet with IP options", with_ip_options(udp(at(host_a, 1), at(server, 2)), {1, 1, 1, 0})},
    };
}

}  // namespace

TEST_CASE("every kind of packet the builder makes has valid checksums") {
    for (const Built& built : one_of_each_kind()) {
        DYNAMIC_SECTION(built.description) {
            CHECK(checksum_errors(built.packet) == "");
            CHECK(total_length(built.packet) == built.packet.size());
        }
    }
}

TEST_CASE("the verifier notices any single flipped bit") {
    for (const Built& built : one_of_each_kind()) {
        DYNAMIC_SECTION(built.description) {
            for (std::size_t byte = 0; byte < built.packet.size(); ++byte) {
                for (int bit = 0; bit < 8; ++bit) {
                    Packet damaged = built.packet;
                    damaged[byte] ^= std::uint8_t(1 << bit);
                    // A UDP checksum turned into 0 means "no checksum": not damage the verifier can see.
                    bool udp_checksum_now_absent = protocol_of(built.packet) == ip_udp &&
                                                   byte >= 26 && byte <= 27 && l4_checksum_field(damaged) == 0;
                    if (udp_checksum_now_absent) continue;
                    if (protocol_of(built.packet) == ip_udp && l4_checksum_field(built.packet) == 0 && byte >= 20)
                        continue;  // nothing covers the payload of a datagram sent without checksum
                    INFO("byte " << byte << " bit " << bit);
                    CHECK_FALSE(checksums_valid(damaged));
                }
            }
        }
    }
}

TEST_CASE("the oracle gives the IPv4 header checksum of a known header") {
    // The header of a captured UDP packet, 192.168.0.1 -> 192.168.0.199, checksum 0xb861.
    Packet header = ipv4(Ipv4Address::from_octets(192, 168, 0, 1), Ipv4Address::from_octets(192, 168, 0, 199), ip_udp,
                         Bytes(0x73 - 20));
    put16(header, 4, 0);
    put16(header, 6, 0x4000);
    refresh_ip_checksum(header);
    CHECK(get16(header, 10) == 0xb861);
}

TEST_CASE("the oracle and the engine's own full checksum agree") {
    for (std::size_t length : {0, 1, 2, 7, 20, 33, 1500}) {
        Bytes bytes = payload_of_size(length, std::uint8_t(length));
        CHECK(std::uint16_t(~ones_sum(bytes)) == internet_checksum(bytes));
    }
    CHECK(pseudo_header_partial_sum(host_a, server, ip_udp, 33) == pseudo_header_sum(host_a, server, Protocol::udp, 33));
}

TEST_CASE("a CHECKSUM_PARTIAL packet holds the pseudo-header sum and finishing it gives the full checksum") {
    for (const Packet& whole : {tcp(at(host_a, 5000), at(server, 443), tcp_flag::ack, payload_of_size(33)),
                                udp(at(host_a, 5000), at(server, 53), payload_of_size(10))}) {
        Packet partial = with_checksum_partial(whole);
        CHECK(l4_checksum_field(partial) ==
              pseudo_header_partial_sum(source_address(whole), destination_address(whole), protocol_of(whole),
                                        std::uint16_t(whole.size() - 20)));
        CHECK_FALSE(checksums_valid(partial));
        CHECK(finish_checksum_partial(partial) == whole);
    }
}

TEST_CASE("fragments split at 8-byte boundaries and reassemble into the datagram") {
    Packet datagram = may_fragment(with_identification(udp(at(host_a, 5000), at(server, 53), payload_of_size(45)), 0x77));
    std::vector<Packet> fragments = fragments_of(datagram, 24);
    REQUIRE(fragments.size() == 3);
    CHECK(l4_of(fragments[0]).size() == 24);
    CHECK(fragment_offset_units(fragments[1]) == 3);
    CHECK(more_fragments(fragments[1]));
    CHECK_FALSE(more_fragments(fragments[2]));
    for (const Packet& f : fragments) CHECK(checksum_errors(f) == "");
    CHECK(reassembled({fragments[2], fragments[0], fragments[1]}) == datagram);
}

TEST_CASE("the verifier checks the quoted datagram's own IP and UDP checksums") {
    Packet sent = udp(at(wan_address, 40000), at(server, 53), payload_of_size(21));
    Packet bad_quoted_udp = sent;
    put16(bad_quoted_udp, 26, std::uint16_t(get16(sent, 26) ^ 0x00f0));
    Packet bad_quoted_ip = sent;
    put16(bad_quoted_ip, 10, std::uint16_t(get16(sent, 10) ^ 0x00f0));
    // Each error's own ICMP checksum is right: only the quote is damaged.
    CHECK(checksum_errors(icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server,
                                     wan_address, bad_quoted_udp, bad_quoted_udp.size())) == "quoted UDP checksum; ");
    CHECK(checksum_errors(icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, server,
                                     wan_address, bad_quoted_ip, bad_quoted_ip.size())) == "quoted IP header checksum; ");
}

TEST_CASE("an ICMP error quotes only as much of the datagram as asked") {
    Packet sent = udp(at(wan_address, 40000), at(server, 53), payload_of_size(100));
    Packet error = icmp_error(icmp_type::time_exceeded, 0, router, wan_address, sent, 28);
    CHECK(quoted_datagram(error) == Packet(sent.begin(), sent.begin() + 28));
    CHECK(source_of(quoted_datagram(error)) == at(wan_address, 40000));
    Packet frag_needed = icmp_error(icmp_type::destination_unreachable, icmp_code::fragmentation_needed, router,
                                    wan_address, sent, 28, 1400);
    CHECK(icmp_next_hop_mtu(frag_needed) == 1400);
}

}  // namespace gw::test

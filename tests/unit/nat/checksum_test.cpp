// The engine's checksum arithmetic against the test oracle's full recomputation:
// RFC 1071 sums and RFC 1624 incremental updates, for finished checksums and for the
// plain partial sums of CHECKSUM_PARTIAL packets.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "nat/checksum.hpp"
#include "nat/endpoint_rewrite.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

// Changes random aligned words of `bytes`, recording them in `delta` as the engine does.
void rewrite_random_words(Bytes& bytes, ChecksumDelta& delta, std::mt19937& random) {
    std::uniform_int_distribution<std::size_t> offset(0, bytes.size() / 2 - 2);
    std::uniform_int_distribution<std::uint32_t> value(0, 0xffffffff);
    for (int n = 0; n < 3; ++n) {
        std::size_t at = offset(random) * 2;
        if (n == 0) {
            std::uint32_t old_value = get32(bytes, at), new_value = value(random);
            delta.replace32(old_value, new_value);
            put32(bytes, at, new_value);
        } else {
            std::uint16_t old_word = get16(bytes, at), new_word = std::uint16_t(value(random));
            delta.replace16(old_word, new_word);
            put16(bytes, at, new_word);
        }
    }
}

}  // namespace

TEST_CASE("internet_checksum gives the RFC 1071 worked example") {
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    Bytes bytes{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(ones_complement_sum(bytes) == 0xddf2);
    CHECK(internet_checksum(bytes) == 0x220d);
}

TEST_CASE("an odd last byte is summed as if padded with zero") {
    CHECK(ones_complement_sum(Bytes{0xab}) == 0xab00);
    CHECK(ones_complement_sum(Bytes{0x12, 0x34, 0xab}) == 0xbd34);
}

TEST_CASE("an incremental update equals a full recomputation (RFC 1624)") {
    std::mt19937 random(1624);
    for (int i = 0; i < 5000; ++i) {
        Bytes bytes = payload_of_size(40 + 2 * (i % 20), std::uint8_t(i));
        for (auto& b : bytes) b = std::uint8_t(random());
        std::uint16_t before = std::uint16_t(~ones_sum(bytes));
        ChecksumDelta delta;
        rewrite_random_words(bytes, delta, random);
        INFO("round " << i);
        REQUIRE(delta.apply_to_checksum(before) == std::uint16_t(~ones_sum(bytes)));
    }
}

TEST_CASE("an incremental update of a partial sum equals the plain sum of the new words") {
    std::mt19937 random(5);
    for (int i = 0; i < 5000; ++i) {
        Bytes bytes(12);
        for (auto& b : bytes) b = std::uint8_t(random());
        std::uint16_t before = ones_sum(bytes);
        ChecksumDelta delta;
        rewrite_random_words(bytes, delta, random);
        INFO("round " << i);
        REQUIRE(delta.apply_to_partial_sum(before) == ones_sum(bytes));
    }
}

TEST_CASE("the pseudo-header sum matches the oracle's") {
    CHECK(pseudo_header_sum(host_a, server, Protocol::tcp, 20) == pseudo_header_partial_sum(host_a, server, ip_tcp, 20));
    CHECK(pseudo_header_sum(Ipv4Address(0xffffffff), Ipv4Address(0xffffffff), Protocol::udp, 0xffff) ==
          pseudo_header_partial_sum(Ipv4Address(0xffffffff), Ipv4Address(0xffffffff), ip_udp, 0xffff));
}

TEST_CASE("replacing an address changes the checksum as replacing its two words does") {
    ChecksumDelta by_address, by_words;
    by_address.replace_address(host_a, wan_address);
    by_words.replace16(0xc0a8, 0xcb00);
    by_words.replace16(0x010a, 0x7101);
    for (std::uint16_t checksum : {0x0000, 0x1234, 0xfffe, 0xffff})
        CHECK(by_address.apply_to_checksum(checksum) == by_words.apply_to_checksum(checksum));
}

TEST_CASE("an update that changes nothing leaves a checksum as it was") {
    ChecksumDelta none;
    none.replace16(0x1234, 0x1234);
    for (std::uint16_t checksum : {0x0001, 0x1234, 0xfffe}) CHECK(none.apply_to_checksum(checksum) == checksum);
}

TEST_CASE("finish_partial_checksum completes a CHECKSUM_PARTIAL packet as skb_checksum_help would") {
    struct Row {
        std::string description;
        Packet whole;
    };
    // A UDP payload whose checksum computes to 0, so that finishing must send all ones.
    Bytes zero_sum;
    for (std::uint32_t word = 0; word <= 0xffff && zero_sum.empty(); ++word) {
        Bytes candidate{std::uint8_t(word >> 8), std::uint8_t(word)};
        if (raw_l4_checksum(udp(at(host_a, 5000), at(server, 53), candidate)) == 0) zero_sum = candidate;
    }
    REQUIRE_FALSE(zero_sum.empty());
    std::vector<Row> table{
        {"TCP", tcp(at(host_a, 5000), at(server, 443), tcp_flag::ack, payload_of_size(45))},
        {"TCP SYN", tcp(at(host_a, 5000), at(server, 443), tcp_flag::syn)},
        {"UDP", udp(at(host_a, 5000), at(server, 53), payload_of_size(12))},
        {"UDP whose checksum computes to 0", udp(at(host_a, 5000), at(server, 53), zero_sum)},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            Packet packet = with_checksum_partial(row.whole);
            CHECK(finish_partial_checksum(packet));
            CHECK(packet == row.whole);
            CHECK(packet == finish_checksum_partial(with_checksum_partial(row.whole)));
        }
    }
    CHECK(l4_checksum_field(table.back().whole) == 0xffff);
}

TEST_CASE("finish_partial_checksum leaves alone what has no TCP/UDP checksum to finish") {
    struct Row {
        std::string description;
        Packet packet;
    };
    std::vector<Row> table{
        {"an ICMP echo", icmp_echo(host_a, server, icmp_type::echo_request, 1, 1)},
        {"a fragment", fragments_of(udp(at(host_a, 5000), at(server, 53), payload_of_size(40)), 24).front()},
        {"a malformed packet", with_broken_ip_checksum(udp(at(host_a, 5000), at(server, 53)))},
        {"a GRE packet", ipv4(host_a, server, ip_gre, payload_of_size(8))},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            Packet packet = row.packet;
            CHECK_FALSE(finish_partial_checksum(packet));
            CHECK(packet == row.packet);
        }
    }
}

}  // namespace gw::test

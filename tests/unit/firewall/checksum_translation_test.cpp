// Translation keeps every checksum right: checked against the builder's packets and by
// full recomputation, for complete checksums, UDP's "no checksum", RFC 768's all-ones
// zero, and CHECKSUM_PARTIAL packets whose field holds only the pseudo-header sum.
#include <catch2/catch.hpp>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


EngineSetup config_with(PortRange range) { return engine_setup(range); }

}  // namespace

TEST_CASE("translation keeps every checksum right, checked by full recomputation over many flows") {
    std::mt19937 random(20240611);
    auto any = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
    PacketEngine nat(config_with({20000, 29999}));
    for (int i = 0; i < 2000; ++i) {
        Endpoint inside = at(Ipv4Address::from_octets(192, 168, std::uint8_t(any(0, 255)), std::uint8_t(any(1, 254))),
                             std::uint16_t(any(1, 65535)));
        // 1.0.0.0 to 126.255.255.255: public or at least neither LAN nor martian (127/8 is).
        Endpoint outside = at(Ipv4Address(std::uint32_t(any(0x01000000, 0x7effffff))), std::uint16_t(any(1, 65535)));
        Bytes data = payload_of_size(std::size_t(any(0, 80)), std::uint8_t(any(0, 255)));
        int kind = any(0, 2);
        // A TCP connection picked up mid-stream, its reply acknowledging the data.
        TcpNumbers out_numbers{std::uint32_t(any(0, 0x7fffffff)) * 2, std::uint32_t(any(0, 0x7fffffff)) * 2};
        TcpNumbers in_numbers{out_numbers.acknowledgment, out_numbers.sequence + std::uint32_t(data.size())};
        Packet sent = kind == 0   ? tcp(inside, outside, tcp_flag::ack, out_numbers, data)
                      : kind == 1 ? udp(inside, outside, data)
                                  : icmp_echo(inside.address, outside.address, icmp_type::echo_request,
                                              inside.port.value, 1, data);
        INFO("flow " << i << ": " << hex_dump(sent));
        REQUIRE(nat.translate_outbound(sent, L4Checksum::complete, t0).verdict == Verdict::forward);
        CHECK(checksum_errors(sent) == "");
        Endpoint external = source_of(sent);
        Packet expected_out = kind == 0   ? tcp(external, outside, tcp_flag::ack, out_numbers, data)
                              : kind == 1 ? udp(external, outside, data)
                                          : icmp_echo(wan_address, outside.address, icmp_type::echo_request,
                                                      external.port.value, 1, data);
        CHECK(sent == expected_out);

        Packet reply = kind == 0   ? tcp(outside, external, tcp_flag::ack, in_numbers, data)
                       : kind == 1 ? udp(outside, external, data)
                                   : icmp_echo(outside.address, wan_address, icmp_type::echo_reply,
                                               external.port.value, 1, data);
        REQUIRE(nat.translate_inbound(reply, L4Checksum::complete, t0).verdict == Verdict::forward);
        CHECK(checksum_errors(reply) == "");
        CHECK(destination_of(reply) == inside);
    }
}

TEST_CASE("a UDP datagram sent without checksum is translated without checksum, both ways") {
    PacketEngine nat(config_with({40000, 40099}));
    Packet out = udp(at(host_a, 5000), at(server, 69), payload_of_size(9), false);
    REQUIRE(nat.translate_outbound(out, L4Checksum::complete, t0).verdict == Verdict::forward);
    Endpoint external = mapped_endpoint(nat, Protocol::udp, at(host_a, 5000));
    CHECK(out == udp(external, at(server, 69), payload_of_size(9), false));
    CHECK(l4_checksum_field(out) == 0);

    Packet in = udp(at(server, 69), external, payload_of_size(9), false);
    REQUIRE(nat.translate_inbound(in, L4Checksum::complete, t0).verdict == Verdict::forward);
    CHECK(in == udp(at(server, 69), at(host_a, 5000), payload_of_size(9), false));
    CHECK(l4_checksum_field(in) == 0);
}

namespace {

// A two-byte payload for which the datagram from `source` to `destination` has a
// computed checksum of 0 (found by search, with the oracle).
Bytes payload_making_checksum_zero(Endpoint source, Endpoint destination) {
    for (std::uint32_t word = 0; word <= 0xffff; ++word) {
        Bytes payload{std::uint8_t(word >> 8), std::uint8_t(word)};
        if (raw_l4_checksum(udp(source, destination, payload)) == 0) return payload;
    }
    FAIL("no payload gives a zero checksum");
    return {};
}

}  // namespace

TEST_CASE("RFC 768: a UDP checksum that computes to 0 after translation is sent as all ones") {
    SECTION("outbound") {
        PacketEngine nat(config_with({40000, 40099}));
        // A first datagram makes the mapping, whose port the zero-making payload depends on.
        Packet first = udp(at(host_a, 5000), at(server, 53));
        REQUIRE(nat.translate_outbound(first, L4Checksum::complete, t0).verdict == Verdict::forward);
        Endpoint external = mapped_endpoint(nat, Protocol::udp, at(host_a, 5000));
        Bytes payload = payload_making_checksum_zero(external, at(server, 53));
        Packet packet = udp(at(host_a, 5000), at(server, 53), payload);
        REQUIRE(l4_checksum_field(packet) != 0xffff);  // the case is made by the translation
        REQUIRE(nat.translate_outbound(packet, L4Checksum::complete, t0).verdict == Verdict::forward);
        CHECK(source_of(packet) == external);
        CHECK(l4_checksum_field(packet) == 0xffff);
        CHECK(checksum_errors(packet) == "");
    }
    SECTION("inbound") {
        PacketEngine nat(config_with({40000, 40099}));
        Packet out = udp(at(host_a, 5000), at(server, 53));
        REQUIRE(nat.translate_outbound(out, L4Checksum::complete, t0).verdict == Verdict::forward);
        Bytes payload = payload_making_checksum_zero(at(server, 53), at(host_a, 5000));
        Packet packet = udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)), payload);
        REQUIRE(l4_checksum_field(packet) != 0xffff);
        REQUIRE(nat.translate_inbound(packet, L4Checksum::complete, t0).verdict == Verdict::forward);
        CHECK(destination_of(packet) == at(host_a, 5000));
        CHECK(l4_checksum_field(packet) == 0xffff);
        CHECK(checksum_errors(packet) == "");
    }
}

TEST_CASE("a CHECKSUM_PARTIAL packet gets the pseudo-header sum of its new addresses, and no port change") {
    struct Row {
        std::string description;
        Protocol protocol;
        Packet packet;                         // from the LAN host
        std::function<Packet(Endpoint)> reply;  // coming back to the WAN endpoint it was given
    };
    Bytes data = payload_of_size(31);
    TcpNumbers out_numbers{1000, 2000}, in_numbers{2000, 1000 + 31};
    // Internal port 80 is outside the range, so the port does change.
    std::vector<Row> table{
        {"TCP", Protocol::tcp, tcp(at(host_a, 80), at(server, 443), tcp_flag::ack, out_numbers, data),
         [&](Endpoint external) { return tcp(at(server, 443), external, tcp_flag::ack, in_numbers, data); }},
        {"UDP", Protocol::udp, udp(at(host_a, 80), at(server, 443), data),
         [&](Endpoint external) { return udp(at(server, 443), external, data); }}};
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(config_with({40000, 40099}));
            std::uint16_t l4_length = std::uint16_t(row.packet.size() - 20);

            Packet out = with_checksum_partial(row.packet);
            REQUIRE(nat.translate_outbound(out, L4Checksum::pseudo_header_only, t0).verdict == Verdict::forward);
            Endpoint external = mapped_endpoint(nat, row.protocol, at(host_a, 80));
            REQUIRE(source_of(out) == external);
            REQUIRE(external.port != Port{80});
            CHECK(l4_checksum_field(out) == pseudo_header_partial_sum(wan_address, server, protocol_of(out), l4_length));
            CHECK(checksum_errors(finish_checksum_partial(out)) == "");

            Packet in = with_checksum_partial(row.reply(external));
            REQUIRE(nat.translate_inbound(in, L4Checksum::pseudo_header_only, t0).verdict == Verdict::forward);
            REQUIRE(destination_of(in) == at(host_a, 80));
            CHECK(l4_checksum_field(in) == pseudo_header_partial_sum(server, host_a, protocol_of(in), l4_length));
            CHECK(checksum_errors(finish_checksum_partial(in)) == "");
        }
    }
}

TEST_CASE("a CHECKSUM_PARTIAL packet translated then finished is the packet a full translation gives") {
    Bytes data = payload_of_size(27);
    struct Row {
        std::string description;
        Protocol protocol;
        Packet sent;
        std::function<Packet(Endpoint)> leaves;  // as it leaves from the WAN endpoint it was given
    };
    std::vector<Row> table{
        {"TCP", Protocol::tcp, tcp(at(host_a, 80), at(server, 443), tcp_flag::psh | tcp_flag::ack, data),
         [&](Endpoint external) { return tcp(external, at(server, 443), tcp_flag::psh | tcp_flag::ack, data); }},
        {"UDP", Protocol::udp, udp(at(host_a, 80), at(server, 443), data),
         [&](Endpoint external) { return udp(external, at(server, 443), data); }},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(config_with({40000, 40099}));
            Packet packet = with_checksum_partial(row.sent);
            REQUIRE(nat.translate_outbound(packet, L4Checksum::pseudo_header_only, t0).verdict == Verdict::forward);
            REQUIRE(finish_partial_checksum(packet));
            CHECK(packet == row.leaves(mapped_endpoint(nat, row.protocol, at(host_a, 80))));
        }
    }
}

}  // namespace gw::test

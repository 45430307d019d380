// The client side of PCP MAP (RFC 6887 §11) that gatewayd speaks to the NAT upstream of
// its WAN (issue 19): the request's bytes field by field, and which datagrams answer it.
// Answers are built with the server side's own encoders (what igd/pcp_responder sends).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "igd/pcp_map_exchange.hpp"

namespace gw {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr Ipv4Address our_wan = Ipv4Address::from_octets(100, 64, 0, 2);
constexpr Ipv4Address upstream_public = Ipv4Address::from_octets(203, 0, 113, 1);

PcpMapAsk udp_ask(std::uint32_t lifetime = 3600) {
    PcpMapAsk ask;
    ask.client = our_wan;
    ask.nonce = PcpNonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ask.protocol = 17;
    ask.internal_port = Port{5004};
    ask.suggested_external = Port{5004};
    ask.lifetime = lifetime;
    return ask;
}

Bytes success_for(const PcpMapAsk& ask, Port external, std::uint32_t lifetime, std::uint32_t epoch = 777) {
    PcpMapData assigned{ask.nonce, ask.protocol, ask.internal_port, external, pcp_address_of(upstream_public)};
    return encode_pcp_response(PcpResponse{PcpOpcode::map, PcpResult::success, lifetime, epoch, assigned, {}});
}

Expected<PcpMapAnswer, UpstreamFailure> answer_to(const PcpMapAsk& ask, const Bytes& datagram) {
    auto read = read_pcp_map_answer(ask, datagram);
    REQUIRE(read.has_value());
    return *read;
}

}  // namespace

TEST_CASE("a MAP request carries our WAN address as client and no option (RFC 6887 §11.1, RFC 7648 §5)") {
    Bytes bytes = encode_pcp_map_ask(udp_ask(7200));
    REQUIRE(bytes.size() == pcp_header_size + pcp_map_data_size);  // 60: no THIRD_PARTY, no other option
    CHECK(bytes[0] == 2);                                           // version
    CHECK(bytes[1] == 1);                                           // R = 0, opcode MAP
    CHECK(Bytes(bytes.begin() + 4, bytes.begin() + 8) == Bytes{0, 0, 0x1c, 0x20});  // lifetime 7200
    CHECK(Bytes(bytes.begin() + 8, bytes.begin() + 24) ==
          Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 100, 64, 0, 2});  // ::ffff:100.64.0.2
    CHECK(Bytes(bytes.begin() + 24, bytes.begin() + 36) == Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});  // nonce
    CHECK(bytes[36] == 17);                                                             // UDP
    CHECK(Bytes(bytes.begin() + 40, bytes.begin() + 44) == Bytes{0x13, 0x8c, 0x13, 0x8c});  // 5004 -> 5004
    CHECK(Bytes(bytes.begin() + 44, bytes.end()) ==
          Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0});  // no suggested address
    // What a PCP server reads: the same fields back.
    auto decoded = decode_pcp_request(bytes);
    REQUIRE(decoded.has_value());
    CHECK(decoded->options == PcpOptions{});
}

TEST_CASE("a SUCCESS for our nonce, protocol and internal port gives the assigned address, port, lifetime and epoch") {
    PcpMapAsk ask = udp_ask();
    auto answer = answer_to(ask, success_for(ask, Port{40004}, 1800));
    REQUIRE(answer.has_value());
    CHECK(answer->external_address == upstream_public);
    CHECK(answer->external_port == Port{40004});
    CHECK(answer->lifetime == 1800);
    CHECK(answer->epoch_seconds == 777);
}

TEST_CASE("an answer for another nonce, protocol, internal port or opcode is not ours: keep waiting (§11.4)") {
    PcpMapAsk ask = udp_ask();
    PcpMapAsk other_nonce = ask, other_protocol = ask, other_port = ask;
    other_nonce.nonce[0] ^= 0xff;
    other_protocol.protocol = 6;
    other_port.internal_port = Port{5006};
    for (const PcpMapAsk& other : {other_nonce, other_protocol, other_port})
        CHECK_FALSE(read_pcp_map_answer(ask, success_for(other, Port{5004}, 3600)).has_value());
    CHECK_FALSE(read_pcp_map_answer(ask, encode_pcp_unsolicited_announce(5)).has_value());
    CHECK_FALSE(read_pcp_map_answer(ask, encode_pcp_map_ask(ask)).has_value());  // our request reflected
    CHECK_FALSE(read_pcp_map_answer(ask, Bytes{1, 2, 3}).has_value());
}

TEST_CASE("a late copy of the create is not the answer to the delete, nor the delete's to a create") {
    PcpMapAsk create = udp_ask(), remove = udp_ask(0);
    CHECK_FALSE(read_pcp_map_answer(remove, success_for(create, Port{5004}, 3600)).has_value());
    CHECK_FALSE(read_pcp_map_answer(create, success_for(remove, Port{5004}, 0)).has_value());
    CHECK(answer_to(remove, success_for(remove, Port{5004}, 0)).has_value());
}

TEST_CASE("PCP result codes become the carrier's failure kinds, with the RFC's name and how long the error stands") {
    PcpMapAsk ask = udp_ask();
    Bytes request = encode_pcp_map_ask(ask);
    auto failure_for = [&](PcpResult result) {
        auto answer = answer_to(ask, encode_pcp_error_response(request, result, 30, 777));
        REQUIRE_FALSE(answer.has_value());
        return answer.error();
    };
    UpstreamFailure taken = failure_for(PcpResult::cannot_provide_external);
    CHECK(taken.kind == UpstreamFailure::Kind::port_taken);
    CHECK(taken.reason == "PCP CANNOT_PROVIDE_EXTERNAL (stands for 30 s)");
    for (PcpResult refused : {PcpResult::not_authorized, PcpResult::no_resources, PcpResult::unsupp_opcode,
                              PcpResult::unsupp_option, PcpResult::unsupp_protocol, PcpResult::user_ex_quota,
                              PcpResult::network_failure, PcpResult::address_mismatch}) {
        UpstreamFailure failure = failure_for(refused);
        CHECK(failure.kind == UpstreamFailure::Kind::refused);
        CHECK(failure.reason.find(std::string(pcp_result_name(refused))) != std::string::npos);
    }
}

TEST_CASE("a server that speaks only NAT-PMP, or refuses our version, says so at once") {
    PcpMapAsk ask = udp_ask();
    auto natpmp = answer_to(ask, Bytes{0, 0x81, 0, 1, 0, 0, 0, 9});  // RFC 6886 §3.5: unsupported version
    REQUIRE_FALSE(natpmp.has_value());
    CHECK(natpmp.error().kind == UpstreamFailure::Kind::refused);
    CHECK(natpmp.error().reason.find("NAT-PMP") != std::string::npos);
    Bytes wrong_version = encode_pcp_map_ask(ask);
    wrong_version[0] = 3;
    auto header_only = answer_to(ask, encode_pcp_error_response(wrong_version, PcpResult::unsupp_version, 1800, 1));
    REQUIRE_FALSE(header_only.has_value());
    CHECK(header_only.error().reason == "PCP UNSUPP_VERSION");
}

TEST_CASE("a SUCCESS without a usable IPv4 address or port is a bad answer") {
    PcpMapAsk ask = udp_ask();
    PcpMapData v6{ask.nonce, ask.protocol, ask.internal_port, Port{5004},
                  *Ipv6Address::parse("2001:db8::1")};
    auto not_ipv4 = answer_to(ask, encode_pcp_response({PcpOpcode::map, PcpResult::success, 3600, 1, v6, {}}));
    REQUIRE_FALSE(not_ipv4.has_value());
    CHECK(not_ipv4.error().kind == UpstreamFailure::Kind::bad_answer);
    auto no_port = answer_to(ask, success_for(ask, Port{0}, 3600));
    REQUIRE_FALSE(no_port.has_value());
    CHECK(no_port.error().kind == UpstreamFailure::Kind::bad_answer);
}

}  // namespace gw

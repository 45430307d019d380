// The client side of NAT-PMP (RFC 6886) that gatewayd speaks to the NAT upstream of its
// WAN (issue 19): requests laid out as §3.2 and §3.3 draw them, responses read back, and
// which datagrams answer which request. Answers are built with the server side's encoders.
#include <catch2/catch.hpp>

#include <cstdint>
#include <variant>
#include <vector>

#include "igd/natpmp_exchange.hpp"

namespace gw {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr Ipv4Address upstream_public = Ipv4Address::from_octets(203, 0, 113, 1);

NatPmpMappingRequest tcp_request(std::uint32_t lifetime = 7200) {
    return NatPmpMappingRequest{Protocol::tcp, Port{3389}, Port{3389}, lifetime};
}

}  // namespace

TEST_CASE("NAT-PMP client requests are laid out as RFC 6886 §3.2 and §3.3 draw them") {
    CHECK(encode_natpmp_external_address_request() == Bytes{0, 0});
    CHECK(encode_natpmp_mapping_request(tcp_request()) == Bytes{0, 2, 0, 0, 0x0d, 0x3d, 0x0d, 0x3d, 0, 0, 0x1c, 0x20});
    CHECK(encode_natpmp_mapping_request({Protocol::udp, Port{5004}, Port{0}, 0}) ==
          Bytes{0, 1, 0, 0, 0x13, 0x8c, 0, 0, 0, 0, 0, 0});  // a delete: lifetime 0, external 0 (§3.4)
    // What a NAT-PMP server reads: the same fields back.
    auto decoded = decode_natpmp_request(encode_natpmp_mapping_request(tcp_request()));
    REQUIRE(decoded.has_value());
    CHECK(std::get<NatPmpMappingRequest>(*decoded) == tcp_request());
}

TEST_CASE("NAT-PMP responses decode field by field, and anything else is no response") {
    auto address = decode_natpmp_response(
        encode_natpmp_external_address_response(NatPmpResult::success, 42, upstream_public));
    REQUIRE(address.has_value());
    CHECK(std::get<NatPmpExternalAddressResponse>(*address) ==
          NatPmpExternalAddressResponse{NatPmpResult::success, 42, upstream_public});
    auto mapping = decode_natpmp_response(
        encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::success, 42, Port{3389}, Port{13389}, 3600));
    REQUIRE(mapping.has_value());
    CHECK(std::get<NatPmpMappingResponse>(*mapping) ==
          NatPmpMappingResponse{Protocol::tcp, NatPmpResult::success, 42, Port{3389}, Port{13389}, 3600});
    auto header = decode_natpmp_response(encode_natpmp_header_response(7, NatPmpResult::unsupported_opcode, 42));
    REQUIRE(header.has_value());
    CHECK(std::get<NatPmpHeaderResponse>(*header) == NatPmpHeaderResponse{7, NatPmpResult::unsupported_opcode, 42});
    CHECK_FALSE(decode_natpmp_response(encode_natpmp_mapping_request(tcp_request())).has_value());  // a request
    CHECK_FALSE(decode_natpmp_response(Bytes{2, 0x81, 0, 0, 0, 0, 0, 0}).has_value());            // PCP's version
    CHECK_FALSE(decode_natpmp_response(Bytes{0, 0x82, 0, 0, 0, 0, 0, 1}).has_value());            // truncated mapping
    CHECK_FALSE(decode_natpmp_response(Bytes{0, 0x80, 0, 9, 0, 0, 0, 1, 1, 2, 3, 4}).has_value());  // result 9
}

TEST_CASE("a mapping answer for our opcode and internal port gives the external port, lifetime and epoch") {
    auto answer = read_natpmp_mapping_answer(
        tcp_request(),
        encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::success, 99, Port{3389}, Port{13389}, 3600));
    REQUIRE(answer.has_value());
    REQUIRE(answer->has_value());
    CHECK((*answer)->external_port == Port{13389});
    CHECK((*answer)->lifetime_seconds == 3600);
    CHECK((*answer)->epoch_seconds == 99);
}

TEST_CASE("a NAT-PMP answer for another protocol, internal port or opcode is not ours: keep waiting") {
    for (const Bytes& other :
         {encode_natpmp_mapping_response(Protocol::udp, NatPmpResult::success, 1, Port{3389}, Port{3389}, 60),
          encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::success, 1, Port{3390}, Port{3390}, 60),
          encode_natpmp_external_address_response(NatPmpResult::success, 1, upstream_public),
          encode_natpmp_header_response(1, NatPmpResult::unsupported_version, 1)})
        CHECK_FALSE(read_natpmp_mapping_answer(tcp_request(), other).has_value());
    CHECK_FALSE(read_natpmp_address_answer(
                    encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::success, 1, Port{1}, Port{1}, 60))
                    .has_value());
}

TEST_CASE("NAT-PMP result codes are refusals with the RFC's name; a success without port or address is a bad answer") {
    for (NatPmpResult result : {NatPmpResult::not_authorized, NatPmpResult::network_failure,
                                NatPmpResult::out_of_resources}) {
        auto answer = read_natpmp_mapping_answer(
            tcp_request(), encode_natpmp_mapping_response(Protocol::tcp, result, 1, Port{3389}, Port{0}, 0));
        REQUIRE(answer.has_value());
        REQUIRE_FALSE(answer->has_value());
        CHECK(answer->error().kind == UpstreamFailure::Kind::refused);
        CHECK(answer->error().reason == "NAT-PMP " + std::string(natpmp_result_name(result)));
    }
    auto unsupported = read_natpmp_address_answer(encode_natpmp_header_response(0, NatPmpResult::unsupported_version, 1));
    REQUIRE(unsupported.has_value());
    CHECK(unsupported->error().kind == UpstreamFailure::Kind::refused);
    auto no_port = read_natpmp_mapping_answer(
        tcp_request(), encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::success, 1, Port{3389}, Port{0}, 60));
    REQUIRE(no_port.has_value());
    CHECK(no_port->error().kind == UpstreamFailure::Kind::bad_answer);
    auto no_address = read_natpmp_address_answer(
        encode_natpmp_external_address_response(NatPmpResult::success, 1, Ipv4Address()));
    REQUIRE(no_address.has_value());
    CHECK(no_address->error().kind == UpstreamFailure::Kind::bad_answer);
    auto deleted = read_natpmp_mapping_answer(
        tcp_request(0), encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::success, 1, Port{3389}, Port{0}, 0));
    REQUIRE(deleted.has_value());
    CHECK(deleted->has_value());  // a delete's answer carries no port (§3.4)
}

}  // namespace gw

// NAT-PMP on the wire (RFC 6886): requests decoded from, and responses encoded to, the
// byte layouts of §3.2, §3.3 and §3.5. The expected bytes are the RFC's figures, field
// by field.
#include <catch2/catch.hpp>

#include <cstdint>
#include <variant>
#include <vector>

#include "igd/natpmp_message.hpp"

namespace gw {
namespace {

using Bytes = std::vector<std::uint8_t>;

NatPmpDecodeError decode_error(const Bytes& datagram) {
    auto decoded = decode_natpmp_request(datagram);
    REQUIRE_FALSE(decoded.has_value());
    return decoded.error();
}

NatPmpMappingRequest mapping_request(const Bytes& datagram) {
    auto decoded = decode_natpmp_request(datagram);
    REQUIRE(decoded.has_value());
    REQUIRE(std::holds_alternative<NatPmpMappingRequest>(*decoded));
    return std::get<NatPmpMappingRequest>(*decoded);
}

}  // namespace

TEST_CASE("an external address request is version 0, opcode 0 (RFC 6886 3.2)") {
    CHECK(std::holds_alternative<NatPmpExternalAddressRequest>(decode_natpmp_request(Bytes{0, 0}).value()));
}

TEST_CASE("a UDP mapping request carries internal port, suggested port and lifetime in network order (3.3)") {
    //                       vers op  reserved  internal     suggested    lifetime 7200
    auto r = mapping_request({0, 1, 0, 0, 0x13, 0x88, 0x1f, 0x90, 0x00, 0x00, 0x1c, 0x20});
    CHECK(r == NatPmpMappingRequest{Protocol::udp, Port{5000}, Port{8080}, 7200});
}

TEST_CASE("opcode 2 asks for a TCP mapping, and a lifetime above 2^31 is read unsigned") {
    auto r = mapping_request({0, 2, 0, 0, 0x00, 0x16, 0x00, 0x00, 0xff, 0xff, 0xff, 0xfe});
    CHECK(r == NatPmpMappingRequest{Protocol::tcp, Port{22}, Port{0}, 0xfffffffeU});
}

TEST_CASE("the reserved field of a mapping request is ignored on reception (3.3)") {
    auto r = mapping_request({0, 1, 0xde, 0xad, 0x13, 0x88, 0x13, 0x88, 0, 0, 0, 60});
    CHECK(r.internal == Port{5000});
    CHECK(r.lifetime_seconds == 60);
}

TEST_CASE("bytes after a complete request are ignored") {
    CHECK(std::holds_alternative<NatPmpExternalAddressRequest>(decode_natpmp_request(Bytes{0, 0, 9, 9, 9}).value()));
    CHECK(mapping_request({0, 1, 0, 0, 0, 80, 0, 80, 0, 0, 0, 1, 7, 7}).internal == Port{80});
}

TEST_CASE("a datagram under two bytes has nothing to answer to") {
    CHECK(decode_error({}).problem == NatPmpProblem::too_short);
    CHECK(decode_error({0}).problem == NatPmpProblem::too_short);
}

TEST_CASE("a mapping request shorter than 12 bytes is truncated and ignored") {
    auto e = decode_error({0, 1, 0, 0, 0x13, 0x88, 0, 0, 0, 0, 0});
    CHECK(e.problem == NatPmpProblem::truncated_mapping_request);
    CHECK(e.opcode == 1);
    CHECK(decode_error({0, 2}).problem == NatPmpProblem::truncated_mapping_request);
}

TEST_CASE("a version other than 0 is unsupported, and keeps its opcode for the answer (3.5)") {
    auto e = decode_error({1, 0});
    CHECK(e.problem == NatPmpProblem::unsupported_version);
    CHECK(e.opcode == 0);
    // A PCP request (RFC 6887 version 2, MAP opcode 1) at a NAT-PMP-only server.
    auto pcp = decode_error({2, 1, 0, 0, 0, 0, 0, 60});
    CHECK(pcp.problem == NatPmpProblem::unsupported_version);
    CHECK(pcp.opcode == 1);
}

TEST_CASE("opcodes 3 to 127 are unsupported (3.5)") {
    CHECK(decode_error({0, 3}).problem == NatPmpProblem::unsupported_opcode);
    auto e = decode_error({0, 127, 1, 2});
    CHECK(e.problem == NatPmpProblem::unsupported_opcode);
    CHECK(e.opcode == 127);
}

TEST_CASE("a response sent to the server is never answered, whatever its version (3.5)") {
    CHECK(decode_error({0, 128, 0, 0, 0, 0, 0, 1, 203, 0, 113, 1}).problem == NatPmpProblem::response_opcode);
    CHECK(decode_error({0, 129}).problem == NatPmpProblem::response_opcode);
    CHECK(decode_error({0, 255}).problem == NatPmpProblem::response_opcode);
    CHECK(decode_error({2, 0x81}).problem == NatPmpProblem::response_opcode);  // a PCP response
}

TEST_CASE("the external address response is opcode 128, result, epoch and the address (3.2)") {
    auto bytes = encode_natpmp_external_address_response(NatPmpResult::success, 0x01020304,
                                                         Ipv4Address::from_octets(203, 0, 113, 1));
    CHECK(bytes == Bytes{0, 128, 0, 0, 1, 2, 3, 4, 203, 0, 113, 1});
}

TEST_CASE("a failed external address response carries address 0 (3.2)") {
    auto bytes = encode_natpmp_external_address_response(NatPmpResult::network_failure, 7,
                                                         Ipv4Address::from_octets(203, 0, 113, 1));
    CHECK(bytes == Bytes{0, 128, 0, 3, 0, 0, 0, 7, 0, 0, 0, 0});
}

TEST_CASE("a mapping response is opcode 128 + request's, internal port, mapped port and lifetime (3.3)") {
    auto udp = encode_natpmp_mapping_response(Protocol::udp, NatPmpResult::success, 42, Port{5000}, Port{5001}, 7200);
    CHECK(udp == Bytes{0, 129, 0, 0, 0, 0, 0, 42, 0x13, 0x88, 0x13, 0x89, 0, 0, 0x1c, 0x20});
    auto tcp = encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::success, 1, Port{22}, Port{2222}, 60);
    CHECK(tcp == Bytes{0, 130, 0, 0, 0, 0, 0, 1, 0, 22, 0x08, 0xae, 0, 0, 0, 60});
}

TEST_CASE("a refused mapping response keeps the internal port and zeroes port and lifetime (3.3)") {
    auto bytes = encode_natpmp_mapping_response(Protocol::tcp, NatPmpResult::out_of_resources, 9, Port{5000},
                                                Port{5000}, 60);
    CHECK(bytes == Bytes{0, 130, 0, 4, 0, 0, 0, 9, 0x13, 0x88, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("unsupported version and opcode answers are the 8-byte header with opcode 128 + request's (3.5)") {
    CHECK(encode_natpmp_header_response(1, NatPmpResult::unsupported_version, 5) == Bytes{0, 129, 0, 1, 0, 0, 0, 5});
    CHECK(encode_natpmp_header_response(3, NatPmpResult::unsupported_opcode, 5) == Bytes{0, 131, 0, 5, 0, 0, 0, 5});
}

TEST_CASE("every result code has a name for the counters") {
    for (std::uint16_t code = 0; code < natpmp_result_count; ++code)
        CHECK(natpmp_result_name(NatPmpResult(code)) != "unknown");
}

}  // namespace gw

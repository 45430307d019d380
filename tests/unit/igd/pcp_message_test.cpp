// PCP's wire format (RFC 6887 §7, §11.1, §12.1, §13): byte for byte as the RFC draws
// it, and every way a request can be refused before its meaning is looked at (§8.2).
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "igd/pcp_message.hpp"
#include "pcp_fixtures.hpp"

namespace gw {
namespace {

using namespace pcp_test;
using Bytes = std::vector<std::uint8_t>;

// The fixed-size IPv4-mapped address field ::ffff:a.b.c.d (§5).
Bytes mapped(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
    return out;
}

std::optional<PcpResult> refusal_of(const Bytes& message) {
    auto decoded = decode_pcp_request(message);
    REQUIRE_FALSE(decoded.has_value());
    return decoded.error().result;
}

const PcpRequest& accepted(const Expected<PcpRequest, PcpDecodeError>& decoded) {
    if (!decoded) FAIL("refused: " << decoded.error().reason);
    return *decoded;
}

}  // namespace

TEST_CASE("a MAP request is laid out as RFC 6887 figures 2 and 9 draw it, and decodes back") {
    MapRequest map;
    map.client = lan(20);
    map.protocol = 17;
    map.internal_port = 0x1388;   // 5000
    map.suggested_port = 0x1389;  // 5001
    map.suggested_address = pcp_address_of(wan_address);
    map.lifetime = 0x00000e10;  // 3600
    Bytes expected = concat({
        {2, 1, 0, 0},                              // version 2, R=0 opcode MAP, reserved
        {0x00, 0x00, 0x0e, 0x10},                  // requested lifetime
        mapped(192, 168, 50, 20),                  // PCP client's IP address
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},  // mapping nonce
        {17, 0, 0, 0},                             // protocol, 24 reserved bits
        {0x13, 0x88, 0x13, 0x89},                  // internal port, suggested external port
        mapped(203, 0, 113, 1),                    // suggested external address
    });
    CHECK(map.bytes() == expected);
    CHECK(accepted(decode_pcp_request(expected)) == map.request());
}

TEST_CASE("a PEER request adds the remote peer's port, 16 reserved bits and address (figure 10)") {
    PeerRequest peer;
    peer.remote_port = 3478;
    Bytes bytes = peer.bytes();
    REQUIRE(bytes.size() == 24 + 56);
    CHECK(bytes[1] == 2);
    CHECK(Bytes(bytes.begin() + 60, bytes.end()) == concat({{0x0d, 0x96, 0, 0}, mapped(198, 51, 100, 7)}));
    CHECK(accepted(decode_pcp_request(bytes)) == peer.request());
}

TEST_CASE("THIRD_PARTY, PREFER_FAILURE and FILTER are laid out as section 13 draws them") {
    MapRequest map;
    map.options.third_party = pcp_address_of(lan(30));
    map.options.prefer_failure = true;
    map.options.filters = {filter(Ipv4Address::from_octets(198, 51, 100, 7), 32, 443)};
    Bytes bytes = map.bytes();
    Bytes options(bytes.begin() + 60, bytes.end());
    CHECK(options == concat({
                         {1, 0, 0, 16}, mapped(192, 168, 50, 30),           // THIRD_PARTY
                         {2, 0, 0, 0},                                      // PREFER_FAILURE
                         {3, 0, 0, 20}, {0, 128, 0x01, 0xbb}, mapped(198, 51, 100, 7),  // FILTER
                     }));
    CHECK(accepted(decode_pcp_request(bytes)).options == map.options);
}

TEST_CASE("a MAP response carries R, the result, lifetime, epoch and 96 reserved bits (figure 3)") {
    PcpResponse response;
    response.opcode = PcpOpcode::map;
    response.result = PcpResult::success;
    response.lifetime = 7200;
    response.epoch_seconds = 0x01020304;
    response.data = PcpMapData{nonce(1), 6, Port{5000}, Port{40000}, pcp_address_of(wan_address)};
    Bytes bytes = encode_pcp_response(response);
    CHECK(Bytes(bytes.begin(), bytes.begin() + 24) ==
          concat({{2, 0x81, 0, 0}, {0, 0, 0x1c, 0x20}, {1, 2, 3, 4}, Bytes(12, 0)}));
    CHECK(Bytes(bytes.begin() + 36, bytes.end()) ==
          concat({{6, 0, 0, 0}, {0x13, 0x88, 0x9c, 0x40}, mapped(203, 0, 113, 1)}));
    CHECK(decoded_response(bytes) == response);
}

TEST_CASE("the unsolicited ANNOUNCE is a 24-octet SUCCESS response with lifetime 0 and the epoch") {
    CHECK(encode_pcp_unsolicited_announce(77) == concat({{2, 0x80, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 77}, Bytes(12, 0)}));
}

TEST_CASE("every result code has its RFC name, and only the four short ones are short lifetime errors") {
    CHECK(pcp_result_name(PcpResult::success) == "SUCCESS");
    CHECK(pcp_result_name(PcpResult::excessive_remote_peers) == "EXCESSIVE_REMOTE_PEERS");
    int short_ones = 0;
    for (std::uint8_t code = 0; code < pcp_result_count; ++code) {
        CHECK(pcp_result_name(PcpResult(code)) != "?");
        short_ones += is_short_lifetime_error(PcpResult(code));
    }
    CHECK(short_ones == 4);
    CHECK(is_short_lifetime_error(PcpResult::user_ex_quota));
    CHECK_FALSE(is_short_lifetime_error(PcpResult::address_mismatch));
}

TEST_CASE("requests too short to read or carrying the R bit are dropped without an answer (section 8.2)") {
    CHECK(refusal_of({}) == std::nullopt);
    CHECK(refusal_of({2}) == std::nullopt);
    Bytes response_sent_back = announce_bytes();
    response_sent_back[1] |= 0x80;
    CHECK(refusal_of(response_sent_back) == std::nullopt);
}

TEST_CASE("a request of another version is answered UNSUPP_VERSION") {
    for (std::uint8_t version : {1, 3, 255}) {
        Bytes message = MapRequest{}.bytes();
        message[0] = version;
        CHECK(refusal_of(message) == PcpResult::unsupp_version);
    }
}

TEST_CASE("a request shorter than 24, longer than 1100 or not a multiple of 4 octets is MALFORMED_REQUEST") {
    Bytes announce = announce_bytes();
    CHECK(refusal_of(Bytes(announce.begin(), announce.begin() + 2)) == PcpResult::malformed_request);
    CHECK(refusal_of(Bytes(announce.begin(), announce.begin() + 20)) == PcpResult::malformed_request);
    Bytes odd = announce;
    odd.resize(26);
    CHECK(refusal_of(odd) == PcpResult::malformed_request);
    // 1100 octets is the largest request: ANNOUNCE and an ignored optional option.
    Bytes largest = with_raw_option(announce, 200, Bytes(1100 - 24 - 4, 0));
    REQUIRE(largest.size() == 1100);
    CHECK(decode_pcp_request(largest).has_value());
    Bytes too_long = with_raw_option(announce, 200, Bytes(1100 - 24, 0));
    CHECK(refusal_of(too_long) == PcpResult::malformed_request);
}

TEST_CASE("an unknown opcode is UNSUPP_OPCODE, and a MAP or PEER without its opcode data is MALFORMED_REQUEST") {
    for (std::uint8_t opcode : {3, 64, 127}) {
        Bytes message = announce_bytes();
        message[1] = opcode;
        CHECK(refusal_of(message) == PcpResult::unsupp_opcode);
    }
    Bytes short_map = MapRequest{}.bytes();
    short_map.resize(24 + 32);
    CHECK(refusal_of(short_map) == PcpResult::malformed_request);
    Bytes short_peer = PeerRequest{}.bytes();
    short_peer.resize(24 + 36);
    CHECK(refusal_of(short_peer) == PcpResult::malformed_request);
}

TEST_CASE("an unknown option 0-127 is UNSUPP_OPTION; one of 128-255 is ignored (section 7.3)") {
    CHECK(refusal_of(with_raw_option(MapRequest{}.bytes(), 4, {})) == PcpResult::unsupp_option);
    CHECK(refusal_of(with_raw_option(MapRequest{}.bytes(), 0, {})) == PcpResult::unsupp_option);
    CHECK(refusal_of(with_raw_option(MapRequest{}.bytes(), 127, {1, 2, 3})) == PcpResult::unsupp_option);
    auto decoded = decode_pcp_request(with_raw_option(MapRequest{}.bytes(), 128, {1, 2, 3, 4, 5}));
    CHECK(accepted(decoded) == MapRequest{}.request());
}

TEST_CASE("an option repeated beyond its maximum, of the wrong length or running past the end is MALFORMED_OPTION") {
    Bytes third_party(16, 0);
    third_party[10] = third_party[11] = 0xff;
    Bytes twice = with_raw_option(with_raw_option(MapRequest{}.bytes(), 1, third_party), 1, third_party);
    CHECK(refusal_of(twice) == PcpResult::malformed_option);
    CHECK(refusal_of(with_raw_option(with_raw_option(MapRequest{}.bytes(), 2, {}), 2, {})) ==
          PcpResult::malformed_option);
    CHECK(refusal_of(with_raw_option(MapRequest{}.bytes(), 1, Bytes(12, 0))) == PcpResult::malformed_option);
    CHECK(refusal_of(with_raw_option(MapRequest{}.bytes(), 2, Bytes(4, 0))) == PcpResult::malformed_option);
    CHECK(refusal_of(with_raw_option(MapRequest{}.bytes(), 3, Bytes(16, 0))) == PcpResult::malformed_option);
    Bytes overrun = with_raw_option(MapRequest{}.bytes(), 200, Bytes(8, 0));
    overrun[60 + 3] = 12;  // says 12 octets, 8 follow
    CHECK(refusal_of(overrun) == PcpResult::malformed_option);
}

TEST_CASE("FILTER may appear any number of times, but only with a valid prefix length") {
    MapRequest map;
    map.options.filters = {filter(lan(99), 32), filter(lan(98), 24), filter(lan(97), 0)};
    CHECK(accepted(decode_pcp_request(map.bytes())).options.filters.size() == 3);
    map.options.filters = {PcpFilter{129, Port{0}, Ipv6Address()}};
    CHECK(refusal_of(map.bytes()) == PcpResult::malformed_option);
    map.options.filters = {PcpFilter{64, Port{0}, pcp_address_of(lan(99))}};  // IPv4 needs 96 + n
    CHECK(refusal_of(map.bytes()) == PcpResult::malformed_option);
}

TEST_CASE("an option is refused with an opcode it is not valid for") {
    PeerRequest peer;
    peer.map.options.prefer_failure = true;
    CHECK(refusal_of(peer.bytes()) == PcpResult::malformed_option);
    peer.map.options = {};
    peer.map.options.filters = {filter(lan(99), 32)};
    CHECK(refusal_of(peer.bytes()) == PcpResult::malformed_option);
    peer.map.options = {};
    peer.map.options.third_party = pcp_address_of(lan(30));
    CHECK(accepted(decode_pcp_request(peer.bytes())).options.third_party == pcp_address_of(lan(30)));
    Bytes third_party(16, 0);
    CHECK(refusal_of(with_raw_option(announce_bytes(), 1, third_party)) == PcpResult::malformed_option);
}

TEST_CASE("an error response is the whole request under a response header with R set") {
    MapRequest map;
    map.options.filters = {filter(lan(99), 32)};
    Bytes request = with_raw_option(map.bytes(), 200, {9, 9});
    Bytes response = encode_pcp_error_response(request, PcpResult::not_authorized, 1800, 42);
    REQUIRE(response.size() == request.size());
    CHECK(Bytes(response.begin(), response.begin() + 24) ==
          concat({{2, 0x81, 0, 2}, {0, 0, 0x07, 0x08}, {0, 0, 0, 42}, Bytes(12, 0)}));
    CHECK(Bytes(response.begin() + 24, response.end()) == Bytes(request.begin() + 24, request.end()));
}

TEST_CASE("an error response to a request of a bad length or version is the header alone") {
    Bytes odd = MapRequest{}.bytes();
    odd.resize(30);
    CHECK(encode_pcp_error_response(odd, PcpResult::malformed_request, 1800, 1).size() == 24);
    Bytes version_one = MapRequest{}.bytes();
    version_one[0] = 1;
    Bytes response = encode_pcp_error_response(version_one, PcpResult::unsupp_version, 1800, 1);
    CHECK(response.size() == 24);
    CHECK(response[0] == 2);  // the version this server speaks
    CHECK(response[3] == 1);
}

TEST_CASE("IPv4 addresses go in their IPv4-mapped form, and both all-zeros forms mean no suggestion") {
    CHECK(pcp_address_of(lan(20)).to_string() == "::ffff:192.168.50.20");
    CHECK(ipv4_of_pcp_address(pcp_address_of(lan(20))) == lan(20));
    CHECK_FALSE(ipv4_of_pcp_address(*Ipv6Address::parse("2001:db8::1")));
    // §5: the first 96 bits must match exactly, not just the ffff.
    CHECK_FALSE(ipv4_of_pcp_address(*Ipv6Address::parse("1::ffff:192.168.50.20")));
    CHECK(is_pcp_unspecified(Ipv6Address()));
    CHECK(is_pcp_unspecified(*Ipv6Address::parse("::ffff:0.0.0.0")));
    CHECK_FALSE(is_pcp_unspecified(pcp_address_of(wan_address)));
}

}  // namespace gw

// A PCP mapping's nonce is kept in the lease file, so that after a restart its client
// can still refresh and delete it and nobody else can (RFC 6887 §11.2); lease files
// written before the field existed stay readable.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "igd/lease_file.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/pcp_responder.hpp"
#include "pcp_fixtures.hpp"

namespace gw {
namespace {

using namespace pcp_test;
using namespace std::chrono_literals;

constexpr std::int64_t wall0 = 1'767'225'000;
constexpr Instant engine0 = 5'000'000ms;
const std::string header = "gatewayd-leases 1\n";

PortMapping pcp_mapping() {
    PortMapping m;
    m.protocol = Protocol::udp;
    m.external = Port{5000};
    m.internal = Endpoint{lan(21), Port{5000}};
    m.description = "PCP";
    m.expires = engine0 + 600s;
    m.owner = lan(21);
    m.pcp_nonce = PcpNonce{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};
    return m;
}

}  // namespace

TEST_CASE("a PCP mapping's line carries its nonce as 24 hex digits before the description") {
    CHECK(serialize_leases({pcp_mapping()}, wall0, engine0) ==
          header +
              "udp 5000 192.168.50.21:5000 owner=192.168.50.21 remote=* expires=1767225600 enabled=1 "
              "nonce=0123456789abcdef01234567 desc=\"PCP\"\n");
    auto read = parse_leases(serialize_leases({pcp_mapping()}, wall0, engine0), wall0, engine0);
    CHECK(read.errors.empty());
    REQUIRE(read.mappings.size() == 1);
    CHECK(read.mappings[0] == pcp_mapping());
}

TEST_CASE("a line written before nonces existed reads as a mapping without one") {
    auto read = parse_leases(header +
                                 "tcp 3389 192.168.50.20:3389 owner=192.168.50.20 remote=* expires=1767225600 "
                                 "enabled=1 desc=\"Remote Assistance\"\n",
                             wall0, engine0);
    CHECK(read.errors.empty());
    REQUIRE(read.mappings.size() == 1);
    CHECK_FALSE(read.mappings[0].pcp_nonce);
}

TEST_CASE("a bad or repeated nonce is an error on its line") {
    const std::string start = "udp 5000 192.168.50.21:5000 owner=192.168.50.21 remote=* expires=never enabled=1 ";
    auto short_nonce = parse_leases(header + start + "nonce=0123 desc=\"PCP\"\n", wall0, engine0);
    REQUIRE(short_nonce.errors.size() == 1);
    CHECK(short_nonce.errors[0] == "leases:2: bad nonce '0123' (24 hex digits)");
    auto not_hex = parse_leases(header + start + "nonce=0123456789abcdef0123456z desc=\"PCP\"\n", wall0, engine0);
    CHECK(not_hex.errors.size() == 1);
    auto twice = parse_leases(
        header + start + "nonce=0123456789abcdef01234567 nonce=0123456789abcdef01234567 desc=\"PCP\"\n", wall0,
        engine0);
    REQUIRE(twice.errors.size() == 1);
    CHECK(twice.errors[0] == "leases:2: duplicate field 'nonce'");
}

TEST_CASE("after a restart the PCP client refreshes and deletes its mapping with its nonce, and only with it") {
    MappingPolicy before(igd_config(), {});
    MapRequest request;
    request.internal_port = 5000;
    request.suggested_port = 6000;
    auto granted = answer_pcp(request.bytes(), context_for(), before, engine0);
    REQUIRE(granted.result == PcpResult::success);

    auto text = serialize_leases(before.all(), wall0, engine0 + 10s);
    auto read = parse_leases(text, wall0 + 30, 7s);
    REQUIRE(read.errors.empty());
    MappingPolicy after(igd_config(), {});
    REQUIRE(after.restore(read.mappings, 7s).restored == 1);

    MapRequest thief = request;
    thief.mapping_nonce = nonce(99);
    CHECK(answer_pcp(thief.bytes(), context_for(), after, 8s).result == PcpResult::not_authorized);
    auto refreshed = answer_pcp(request.bytes(), context_for(), after, 8s);
    REQUIRE(refreshed.result == PcpResult::success);
    CHECK(std::get<PcpMapData>(decoded_response(refreshed.response).data).external_port == Port{6000});

    request.lifetime = 0;
    auto deleted = answer_pcp(request.bytes(), context_for(), after, 9s);
    CHECK(deleted.result == PcpResult::success);
    CHECK(deleted.changes.removed.size() == 1);
    CHECK(after.size() == 0);
}

}  // namespace gw

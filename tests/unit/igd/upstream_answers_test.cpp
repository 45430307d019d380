// What a front end answers about a fresh grant once its upstream half is known
// (wan.upstream_mappings): the upstream's address and port, the local ones, or an
// error under wan.upstream_failure: refuse.
#include <catch2/catch.hpp>

#include "igd/pcp_responder.hpp"
#include "igd/upstream_carrier.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address upstream_public = Ipv4Address::from_octets(198, 51, 100, 7);

UpstreamOutcome held(Port port, std::chrono::seconds left = 600s) {
    UpstreamOutcome o;
    o.kind = UpstreamOutcome::Kind::held;
    o.external_address = upstream_public;
    o.external_port = port;
    o.lifetime_left = left;
    return o;
}

UpstreamOutcome failed(UpstreamFailure::Kind kind) {
    UpstreamOutcome o;
    o.kind = UpstreamOutcome::Kind::failed;
    o.failure = UpstreamFailure{kind, "NO_RESOURCES"};
    return o;
}

TEST_CASE("without an upstream in use the local answer stands, whatever wan.upstream_failure says") {
    auto j = judge_upstream(UpstreamOutcome{}, Port{5004}, true, true, false);
    CHECK(j.kind == UpstreamJudgement::Kind::local);
    CHECK_FALSE(j.warn);
}

TEST_CASE("an upstream half on the same port is answered with the upstream's address and port") {
    CHECK(judge_upstream(held(Port{5004}), Port{5004}, false, true, false).kind == UpstreamJudgement::Kind::upstream);
    CHECK(judge_upstream(held(Port{5004}), Port{5004}, false, false, true).kind == UpstreamJudgement::Kind::upstream);
}

TEST_CASE("NAT-PMP and PCP answer the upstream's other port, they name mappings by internal port") {
    CHECK(judge_upstream(held(Port{40000}), Port{5004}, true, false, false).kind == UpstreamJudgement::Kind::upstream);
}

TEST_CASE("UPnP AddPortMapping meeting another upstream port is a conflict under refuse, a warning under keep") {
    auto refused = judge_upstream(held(Port{40000}), Port{5004}, true, true, false);
    CHECK(refused.kind == UpstreamJudgement::Kind::refuse);
    CHECK(refused.port_taken);
    auto kept = judge_upstream(held(Port{40000}), Port{5004}, false, true, false);
    CHECK(kept.kind == UpstreamJudgement::Kind::local);
    CHECK(kept.warn);
}

TEST_CASE("AddAnyPortMapping meeting another upstream port answers the local port, which deletes still find") {
    auto j = judge_upstream(held(Port{40000}), Port{5004}, true, false, true);
    CHECK(j.kind == UpstreamJudgement::Kind::local);
    CHECK(j.warn);
}

TEST_CASE("an upstream failure or silence refuses under refuse and keeps with a warning under keep") {
    auto refused = judge_upstream(failed(UpstreamFailure::Kind::refused), Port{5004}, true, false, false);
    CHECK(refused.kind == UpstreamJudgement::Kind::refuse);
    CHECK_FALSE(refused.port_taken);
    CHECK(refused.why == "the upstream refused (NO_RESOURCES)");
    CHECK(judge_upstream(failed(UpstreamFailure::Kind::port_taken), Port{5004}, true, false, false).port_taken);
    UpstreamOutcome silent;
    silent.kind = UpstreamOutcome::Kind::pending;
    CHECK(judge_upstream(silent, Port{5004}, true, true, false).kind == UpstreamJudgement::Kind::refuse);
    auto kept = judge_upstream(silent, Port{5004}, false, true, false);
    CHECK(kept.kind == UpstreamJudgement::Kind::local);
    CHECK(kept.warn);
}

TEST_CASE("a NAT-PMP mapping response is rewritten to the upstream's port, or to an error result") {
    auto response = encode_natpmp_mapping_response(Protocol::udp, NatPmpResult::success, 77, Port{5004}, Port{5004}, 600);
    auto rewritten = response;
    natpmp_answer_upstream_port(rewritten, Port{40000});
    CHECK(rewritten[10] == 40000 >> 8);
    CHECK(rewritten[11] == (40000 & 0xff));
    rewritten[10] = response[10];
    rewritten[11] = response[11];
    CHECK(rewritten == response);
    natpmp_answer_error(response, NatPmpResult::network_failure);
    CHECK(response[3] == 3);
    CHECK(response[10] == 0);
    CHECK(response[15] == 0);
}

std::vector<std::uint8_t> pcp_map_response(std::uint32_t lifetime) {
    PcpResponse r;
    r.opcode = PcpOpcode::map;
    r.lifetime = lifetime;
    r.epoch_seconds = 10;
    PcpMapData map;
    map.protocol = 17;
    map.internal_port = Port{5004};
    map.external_port = Port{5004};
    map.external_address = *Ipv6Address::parse("::ffff:10.0.0.2");
    r.data = map;
    return encode_pcp_response(r);
}

TEST_CASE("a PCP MAP response is given the upstream's address and port and the smaller lifetime (RFC 7648)") {
    auto bytes = pcp_map_response(7200);
    pcp_answer_upstream(bytes, upstream_public, Port{40000}, 600s);
    auto decoded = decode_pcp_response(bytes);
    REQUIRE(decoded);
    CHECK(decoded->lifetime == 600);
    const auto& map = std::get<PcpMapData>(decoded->data);
    CHECK(map.external_port == Port{40000});
    CHECK(map.external_address == *Ipv6Address::parse("::ffff:198.51.100.7"));
    CHECK(map.internal_port == Port{5004});

    auto shorter_locally = pcp_map_response(120);
    pcp_answer_upstream(shorter_locally, upstream_public, Port{5004}, 600s);
    CHECK(decode_pcp_response(shorter_locally)->lifetime == 120);
}

TEST_CASE("a PCP MAP response turned into an error carries that error's short lifetime") {
    auto bytes = pcp_map_response(7200);
    pcp_answer_error(bytes, PcpResult::cannot_provide_external);
    auto decoded = decode_pcp_response(bytes);
    REQUIRE(decoded);
    CHECK(decoded->result == PcpResult::cannot_provide_external);
    CHECK(decoded->lifetime == pcp_short_error_lifetime_seconds);  // RFC 6887 §7.4: a short lifetime error
}

}  // namespace
}  // namespace gw

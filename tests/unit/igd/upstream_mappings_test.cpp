// The upstream halves of carried openings (wan.upstream_mappings): a new opening is
// claimed at once, renewed before half its upstream lifetime, closed upstream when the
// local opening goes, retried with backoff after a failure, and claimed again with its
// nonce when the upstream restarts or gatewayd does.
#include <catch2/catch.hpp>

#include "igd/upstream_lease_file.hpp"
#include "igd/upstream_mappings.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

constexpr Instant t0 = 1'000'000ms;
constexpr Ipv4Address upstream_public = Ipv4Address::from_octets(198, 51, 100, 7);
constexpr CarriedKey rtp{Protocol::udp, Port{5004}};
constexpr CarriedKey rdp{Protocol::tcp, Port{3389}};
constexpr PcpNonce nonce_a{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

UpstreamGrant grant(Port port, std::chrono::seconds lifetime, std::optional<std::uint32_t> epoch = std::nullopt) {
    UpstreamGrant g;
    g.via = UpstreamProtocol::pcp;
    g.external_address = upstream_public;
    g.external_port = port;
    g.lifetime = lifetime;
    g.nonce = nonce_a;
    g.epoch_seconds = epoch;
    return g;
}

std::vector<LocalOpening> openings(std::initializer_list<CarriedKey> keys, std::optional<Instant> expires = std::nullopt) {
    std::vector<LocalOpening> out;
    for (auto key : keys) out.push_back({key, expires});
    return out;
}

TEST_CASE("a new local opening is claimed upstream at once for the same port, for what is left of its lease") {
    UpstreamMappings carried;
    CHECK(carried.reconcile(openings({rtp}, t0 + 600s), t0).empty());
    auto due = carried.due(t0);
    REQUIRE(due.size() == 1);
    CHECK(due[0].key == rtp);
    CHECK(due[0].request.internal_port == Port{5004});
    CHECK(due[0].request.suggested_external == Port{5004});
    CHECK(due[0].request.lifetime == 600s);
    CHECK_FALSE(due[0].request.nonce);
    CHECK(carried.outcome(rtp, t0).kind == UpstreamOutcome::Kind::pending);
}

TEST_CASE("an opening without expiry asks the upstream for an hour, a short lease for two minutes at least") {
    UpstreamMappings carried;
    carried.reconcile({{rtp, std::nullopt}, {rdp, t0 + 10s}}, t0);
    auto due = carried.due(t0);
    REQUIRE(due.size() == 2);
    CHECK(due[0].request.lifetime == 120s);   // tcp 3389 sorts first
    CHECK(due[1].request.lifetime == 3600s);
}

TEST_CASE("a grant on another port is what the front end is told, with the upstream's lifetime left") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    CHECK_FALSE(carried.granted(rtp, grant(Port{40000}, 600s), t0));
    auto outcome = carried.outcome(rtp, t0 + 100s);
    CHECK(outcome.kind == UpstreamOutcome::Kind::held);
    CHECK(outcome.external_address == upstream_public);
    CHECK(outcome.external_port == Port{40000});
    CHECK(outcome.lifetime_left == 500s);
    CHECK(carried.held_count() == 1);
}

TEST_CASE("the upstream half is renewed before half of its lifetime, with the same nonce and port") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    carried.granted(rtp, grant(Port{40000}, 600s), t0);
    CHECK(carried.due(t0 + 299s).empty());
    CHECK(carried.next_due() == t0 + 300s);
    auto due = carried.due(t0 + 300s);
    REQUIRE(due.size() == 1);
    CHECK(due[0].request.nonce == nonce_a);
    CHECK(due[0].request.suggested_external == Port{40000});
}

TEST_CASE("an upstream grant without expiry is never renewed") {
    UpstreamMappings carried;
    carried.reconcile(openings({rdp}), t0);
    carried.granted(rdp, grant(Port{3389}, 0s), t0);
    CHECK(carried.due(t0 + 1000h).empty());
    CHECK_FALSE(carried.next_due());
}

TEST_CASE("deleting or expiring the local opening closes its upstream half") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp, rdp}), t0);
    carried.granted(rtp, grant(Port{40000}, 600s), t0);
    carried.granted(rdp, grant(Port{3389}, 600s), t0);
    auto closing = carried.reconcile(openings({rdp}), t0 + 1s);
    REQUIRE(closing.size() == 1);
    CHECK(closing[0].key == rtp);
    CHECK(closing[0].grant.external_port == Port{40000});
    CHECK_FALSE(carried.find(rtp));
    CHECK(carried.outcome(rtp, t0).kind == UpstreamOutcome::Kind::not_carried);
}

TEST_CASE("an opening that goes before its first answer has nothing upstream to close") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    CHECK(carried.reconcile({}, t0 + 1s).empty());
    // The answer that comes after: no half takes it (the worker then unmaps it).
    carried.granted(rtp, grant(Port{5004}, 600s), t0 + 2s);
    CHECK_FALSE(carried.find(rtp));
}

TEST_CASE("a failed claim is retried with a doubling backoff, and tells the front end why") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    carried.failed(rtp, {UpstreamFailure::Kind::refused, "NOT_AUTHORIZED"}, t0);
    auto outcome = carried.outcome(rtp, t0);
    CHECK(outcome.kind == UpstreamOutcome::Kind::failed);
    CHECK(outcome.failure->reason == "NOT_AUTHORIZED");
    CHECK(carried.next_due() == t0 + 5s);
    carried.failed(rtp, {UpstreamFailure::Kind::refused, "NOT_AUTHORIZED"}, t0 + 5s);
    CHECK(carried.next_due() == t0 + 15s);
    carried.granted(rtp, grant(Port{5004}, 600s), t0 + 15s);
    CHECK(carried.outcome(rtp, t0 + 15s).kind == UpstreamOutcome::Kind::held);
}

TEST_CASE("a failed renewal keeps the half held while its upstream lifetime runs") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    carried.granted(rtp, grant(Port{5004}, 600s), t0);
    carried.failed(rtp, {UpstreamFailure::Kind::no_answer, "timeout"}, t0 + 300s);
    CHECK(carried.outcome(rtp, t0 + 300s).kind == UpstreamOutcome::Kind::held);
    carried.failed(rtp, {UpstreamFailure::Kind::no_answer, "timeout"}, t0 + 601s);
    CHECK(carried.outcome(rtp, t0 + 601s).kind == UpstreamOutcome::Kind::failed);
}

TEST_CASE("an upstream epoch that went back makes every half due again, with its nonce (RFC 6887 8.5)") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp, rdp}), t0);
    CHECK_FALSE(carried.granted(rtp, grant(Port{5004}, 600s, 1000), t0));
    CHECK_FALSE(carried.granted(rdp, grant(Port{3389}, 600s, 1000), t0));
    CHECK(carried.due(t0 + 10s).empty());
    // 100 s later the upstream says it has been up for 20 s: it restarted.
    CHECK(carried.granted(rtp, grant(Port{5004}, 600s, 20), t0 + 100s));
    auto due = carried.due(t0 + 100s);
    REQUIRE(due.size() == 1);  // rtp's answer was the re-claim itself
    CHECK(due[0].key == rdp);
    CHECK(due[0].request.nonce == nonce_a);
    CHECK(due[0].request.suggested_external == Port{3389});
}

TEST_CASE("an epoch that advances with time is no restart") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp, rdp}), t0);
    carried.granted(rtp, grant(Port{5004}, 600s, 1000), t0);
    CHECK_FALSE(carried.granted(rdp, grant(Port{3389}, 600s, 1200), t0 + 200s));
    CHECK(carried.due(t0 + 200s).empty());
}

TEST_CASE("an upstream gone suspends every half until a new one is found, which re-claims them all") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    carried.granted(rtp, grant(Port{5004}, 600s), t0);
    carried.suspend_all();
    CHECK(carried.due(t0 + 1000s).empty());
    CHECK_FALSE(carried.next_due());
    // Gone upstream: nothing to close there.
    CHECK(carried.reconcile({}, t0 + 1s).empty());
    carried.reconcile(openings({rtp}), t0 + 2s);
    carried.reclaim_all(t0 + 3s);
    CHECK(carried.due(t0 + 3s).size() == 1);
}

TEST_CASE("upstream halves survive a restart through the state file and are re-claimed with their nonce") {
    UpstreamMappings before;
    before.reconcile(openings({rtp, rdp}), t0);
    before.granted(rtp, grant(Port{40000}, 7200s), t0);
    UpstreamGrant upnp = grant(Port{3389}, 3600s);
    upnp.via = UpstreamProtocol::upnp;
    upnp.nonce.reset();
    before.granted(rdp, upnp, t0);
    std::string text = serialize_upstream_halves(before.held_grants());
    CHECK(text ==
          "gatewayd-upstream 1\n"
          "tcp 3389 via=upnp external=198.51.100.7:3389 lifetime=3600\n"
          "udp 5004 via=pcp external=198.51.100.7:40000 lifetime=7200 nonce=0102030405060708090a0b0c\n");

    auto read = parse_upstream_halves(text);
    CHECK(read.errors.empty());
    UpstreamMappings after;
    after.restore(read.halves);
    after.reconcile(openings({rtp}), t0);  // rdp's lease ran out while we were down
    auto due = after.due(t0);
    REQUIRE(due.size() == 1);
    CHECK(due[0].request.nonce == nonce_a);
    CHECK(due[0].request.suggested_external == Port{40000});
}

TEST_CASE("a bad upstream file line costs only that line, and no file means nothing restored") {
    auto read = parse_upstream_halves(
        "gatewayd-upstream 1\n"
        "udp 5004 via=smoke external=198.51.100.7:40000\n"
        "tcp 3389 via=upnp external=198.51.100.7:3389\n");
    CHECK(read.halves.size() == 1);
    REQUIRE(read.errors.size() == 1);
    CHECK(read.errors[0] == "upstream:2: bad via 'smoke'");
    CHECK(parse_upstream_halves("").halves.empty());
}

TEST_CASE("an announcement whose epoch went back makes every half due, one in step with the last answer none") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    carried.granted(rtp, grant(Port{5004}, 3600s, 500), t0);
    CHECK(carried.due(t0 + 10s).empty());
    CHECK_FALSE(carried.announced(510, t0 + 10s));  // an address announcement, no restart
    CHECK(carried.due(t0 + 10s).empty());
    CHECK(carried.announced(0, t0 + 20s));  // restarted
    CHECK(carried.due(t0 + 20s).size() == 1);
}

TEST_CASE("announcements that keep saying the upstream restarted re-claim at most once every ten seconds") {
    UpstreamMappings carried;
    carried.reconcile(openings({rtp}), t0);
    carried.granted(rtp, grant(Port{5004}, 3600s, 500), t0);
    REQUIRE(carried.announced(0, t0 + 20s));  // a restart: every half due
    carried.granted(rtp, grant(Port{5004}, 3600s, 1), t0 + 20s);
    // Forged from the upstream's address, each going back again: nothing until the gap is over.
    CHECK_FALSE(carried.announced(0, t0 + 21s));
    CHECK_FALSE(carried.announced(0, t0 + 29s));
    CHECK(carried.due(t0 + 29s).empty());
    CHECK(carried.announced(0, t0 + 40s));  // going back again, the gap over
    CHECK(carried.due(t0 + 40s).size() == 1);
}

}  // namespace
}  // namespace gw

// GENA behind the front end: caps per client and in total, finite timeouts, SIDs owned
// (issue 14 item 5).
#include <catch2/catch.hpp>

#include "igd/gena_subscriptions.hpp"

namespace gw {
namespace {

using namespace std::chrono_literals;

const ClientAddress host_a = Ipv4Address::from_octets(192, 168, 1, 10);
const ClientAddress host_b = Ipv4Address::from_octets(192, 168, 1, 11);

HttpRequest subscribe(std::string timeout = "Second-infinite") {
    HttpRequest r;
    r.method = "SUBSCRIBE";
    r.headers = {{"NT", "upnp:event"}, {"CALLBACK", "<http://x/>"}, {"TIMEOUT", timeout}};
    return r;
}

HttpRequest with_sid(std::string method, std::string sid) {
    HttpRequest r;
    r.method = std::move(method);
    r.headers = {{"SID", std::move(sid)}};
    return r;
}

}  // namespace

TEST_CASE("an infinite or too long TIMEOUT is clamped to 1800 s before pupnp reads it") {
    GenaSubscriptions gena;
    auto r = subscribe();
    CHECK(!gena.admit(r, host_a, 0ms));
    CHECK(r.header("timeout") == "Second-1800");
    auto shorter = subscribe("Second-300");
    CHECK(!gena.admit(shorter, host_a, 0ms));
    CHECK(shorter.header("timeout") == "Second-300");
    auto huge = subscribe("Second-99999999999999999999");
    CHECK(!gena.admit(huge, host_a, 0ms));
    CHECK(huge.header("timeout") == "Second-1800");
}

TEST_CASE("a client flooding SUBSCRIBEs is capped while another client still subscribes") {
    GenaSubscriptions gena(GenaLimits{.per_client = 3, .total = 5, .max_timeout_seconds = 1800});
    for (int i = 0; i < 3; ++i) {
        auto r = subscribe();
        REQUIRE(!gena.admit(r, host_a, 0ms));
        gena.answered(r, host_a, 200, "uuid:a" + std::to_string(i), "Second-1800", 0ms);
    }
    auto more = subscribe();
    CHECK(gena.admit(more, host_a, 0ms) == HttpRefusal::subscriptions_per_client);
    auto other = subscribe();
    CHECK(!gena.admit(other, host_b, 0ms));  // pending counts until answered
    auto other2 = subscribe();
    CHECK(!gena.admit(other2, host_b, 0ms));
    auto other3 = subscribe();
    CHECK(gena.admit(other3, host_b, 0ms) == HttpRefusal::subscriptions_total);
    CHECK(gena.held() == 5);
}

TEST_CASE("a SUBSCRIBE whose answer never came back (the client reset it) still counts until it could have ended") {
    // pupnp keeps a subscription whose 200 it wrote to a front end that had hung up: a
    // client resetting after each SUBSCRIBE must not slip past the per-client cap.
    GenaSubscriptions gena(GenaLimits{.per_client = 2, .total = 10, .max_timeout_seconds = 1800});
    for (int i = 0; i < 2; ++i) {
        auto r = subscribe("Second-300");
        REQUIRE(!gena.admit(r, host_a, 0ms));
        gena.answered(r, host_a, 0, "", "", 0ms);
    }
    auto more = subscribe();
    CHECK(gena.admit(more, host_a, 1s) == HttpRefusal::subscriptions_per_client);
    auto later = subscribe();
    CHECK(!gena.admit(later, host_a, 301s));  // the asked 300 s are over: pupnp has dropped them too
}

TEST_CASE("subscriptions end at their timeout, and renewals and UNSUBSCRIBE need the holder's SID") {
    GenaSubscriptions gena(GenaLimits{.per_client = 1, .total = 10, .max_timeout_seconds = 1800});
    auto r = subscribe("Second-300");
    REQUIRE(!gena.admit(r, host_a, 0ms));
    gena.answered(r, host_a, 200, "uuid:1", "Second-300", 0ms);
    auto stolen = with_sid("UNSUBSCRIBE", "uuid:1");
    CHECK(gena.admit(stolen, host_b, 1s) == HttpRefusal::unknown_subscription);
    auto renewal = with_sid("SUBSCRIBE", "uuid:1");
    CHECK(!gena.admit(renewal, host_a, 200s));
    gena.answered(renewal, host_a, 200, "uuid:1", "Second-300", 200s);
    CHECK(gena.held_by(host_a) == 1);
    auto late = with_sid("SUBSCRIBE", "uuid:1");
    CHECK(gena.admit(late, host_a, 501s) == HttpRefusal::unknown_subscription);  // expired at 500 s
    CHECK(gena.held() == 0);
    auto again = subscribe();
    REQUIRE(!gena.admit(again, host_a, 501s));
    gena.answered(again, host_a, 200, "uuid:2", "Second-1800", 501s);
    auto bye = with_sid("UNSUBSCRIBE", "uuid:2");
    REQUIRE(!gena.admit(bye, host_a, 502s));
    gena.answered(bye, host_a, 200, "", "", 502s);
    CHECK(gena.held() == 0);
}

}  // namespace gw

// The STUN client's retransmissions (RFC 5389 section 7.2.1), as a pure schedule.
#include <catch2/catch.hpp>

#include "daemon/stun_client.hpp"

namespace gw::test {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

TEST_CASE("RFC 5389 7.2.1: requests at 0, 500, 1500, ... 31500 ms and failure at 39500 ms without a budget") {
    StunRetransmission r;
    r.budget = 60s;
    auto s = stun_schedule(r);
    CHECK(s.sends == std::vector<ms>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 15500ms, 31500ms});
    CHECK(s.give_up == 39500ms);
}

TEST_CASE("the daemon's default schedule stops within 10 seconds after five requests") {
    auto s = stun_schedule(StunRetransmission{});
    CHECK(s.sends == std::vector<ms>{0ms, 500ms, 1500ms, 3500ms, 7500ms});
    CHECK(s.give_up == 9500ms);
}

TEST_CASE("a single request waits Rm times the RTO for its answer") {
    StunRetransmission r;
    r.max_requests = 1;
    r.initial_rto = 100ms;
    auto s = stun_schedule(r);
    CHECK(s.sends == std::vector<ms>{0ms});
    CHECK(s.give_up == 1600ms);
}

}  // namespace gw::test

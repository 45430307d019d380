// The token bucket behind rule rate limits, with time passed in: exact to the millisecond.
#include <catch2/catch.hpp>

#include <chrono>

#include "firewall/rate_limiter.hpp"

namespace gw {

namespace {
using std::chrono::milliseconds;
}  // namespace

TEST_CASE("a per-minute rate refills one packet every 60/N seconds") {
    RateLimiter limiter(RateLimit{0, 1, 2});  // 2/min burst 1
    CHECK(limiter.admit(milliseconds(0)));
    CHECK_FALSE(limiter.admit(milliseconds(29999)));
    CHECK(limiter.admit(milliseconds(30000)));
    CHECK_FALSE(limiter.admit(milliseconds(30000)));
}

TEST_CASE("a rate limiter starts with its whole burst and never holds more") {
    RateLimiter limiter(RateLimit{10, 4, 0});
    for (int i = 0; i < 4; ++i) CHECK(limiter.admit(milliseconds(5)));
    CHECK_FALSE(limiter.admit(milliseconds(5)));
    // An hour idle refills to the burst, not to 36000 packets.
    for (int i = 0; i < 4; ++i) CHECK(limiter.admit(std::chrono::hours(1)));
    CHECK_FALSE(limiter.admit(std::chrono::hours(1)));
}

TEST_CASE("a rate limiter survives time that goes backwards or is huge") {
    RateLimiter limiter(RateLimit{1, 1, 0});
    CHECK(limiter.admit(milliseconds(10'000)));
    CHECK_FALSE(limiter.admit(milliseconds(5'000)));  // earlier: nothing refilled
    CHECK_FALSE(limiter.admit(milliseconds(10'999)));
    CHECK(limiter.admit(milliseconds(11'000)));
    CHECK(limiter.admit(milliseconds(std::int64_t(1) << 62)));  // no overflow after ages idle
}

TEST_CASE("a rate limiter refills at N packets a second, to the millisecond") {
    RateLimiter limiter(RateLimit{4, 1, 0});  // one packet every 250 ms
    CHECK(limiter.admit(milliseconds(0)));
    CHECK_FALSE(limiter.admit(milliseconds(249)));
    CHECK(limiter.admit(milliseconds(250)));
    CHECK_FALSE(limiter.admit(milliseconds(499)));
    CHECK(limiter.admit(milliseconds(500)));
}

}  // namespace gw

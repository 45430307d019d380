// A token bucket with time passed in: no clock, so replay and tests are exact.
// Owned by whoever owns the thing being limited (a RuleTable's rule, the drop log);
// not thread-safe, like everything on a worker's packet path.
#pragma once

#include <cstdint>

#include "firewall/firewall_config.hpp"
#include "nat/mapping.hpp"

namespace gw {

class RateLimiter {
public:
    // Starts full: the first `burst` packets pass at once.
    explicit RateLimiter(RateLimit limit) noexcept;

    // Spends one token if there is one. True = within the limit. Time that goes
    // backwards (a replay that restarts) refills nothing and is otherwise ignored.
    bool admit(Instant now) noexcept;

private:
    void refill(Instant now) noexcept;

    // Tokens are counted in 1/60000ths of a packet, so that a rate of N packets a
    // minute refills exactly N units a millisecond, whatever the unit of the limit.
    static constexpr std::uint64_t units_per_packet = 60000;

    std::uint64_t capacity_;        // burst, in units
    std::uint64_t refill_per_ms_;   // packets a minute = units a millisecond
    std::uint64_t level_;           // units available now
    Instant last_refill_{0};
    bool started_ = false;          // last_refill_ is meaningful
};

}  // namespace gw

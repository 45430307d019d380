#include "firewall/rate_limiter.hpp"

#include <algorithm>

namespace gw {

RateLimiter::RateLimiter(RateLimit limit) noexcept
    : capacity_(std::uint64_t(limit.burst) * units_per_packet),
      refill_per_ms_(limit.packets_per_minute()),
      level_(capacity_) {}

void RateLimiter::refill(Instant now) noexcept {
    if (!started_) {
        started_ = true;
        last_refill_ = now;
        return;
    }
    if (now <= last_refill_) return;
    auto elapsed = std::uint64_t((now - last_refill_).count());
    last_refill_ = now;
    if (refill_per_ms_ == 0) return;
    // Compared before multiplying: after months idle, elapsed * rate would overflow.
    std::uint64_t missing = capacity_ - level_;
    if (elapsed >= missing / refill_per_ms_ + 1) {
        level_ = capacity_;
    } else {
        level_ = std::min(capacity_, level_ + elapsed * refill_per_ms_);
    }
}

bool RateLimiter::admit(Instant now) noexcept {
    refill(now);
    if (level_ < units_per_packet) return false;
    level_ -= units_per_packet;
    return true;
}

}  // namespace gw

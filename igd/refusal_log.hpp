// The log line of a refusal (STYLE 12: every refusal has a named counter, which its
// refuser keeps, and a rate-limited log line, which this writes). Lines over the limit
// are counted, not written; the next line written says how many were left out:
//   "UPnP: AddPortMapping refused: 718 ConflictInMappingEntry (12 refusals not logged
//    before it; see gatewayctl status)"
// One for each front end that refuses: the IGD's SOAP actions, its HTTP front end,
// SSDP, NAT-PMP and PCP.
//
// Threads: any; the bucket is behind a mutex (front ends only, never the packet path).
#pragma once

#include <cstdint>
#include <mutex>
#include <string_view>

#include "firewall/rate_limiter.hpp"

namespace gw {

class RefusalLog {
public:
    static constexpr RateLimit default_limit{.per_second = 5, .burst = 20};

    explicit RefusalLog(RateLimit limit = default_limit) : limit_(limit) {}

    // Writes `line` at info level, unless the limit is spent at `now`.
    void write(std::string_view line, Instant now);

private:
    std::mutex mutex_;
    RateLimiter limit_;            // with mutex_ held
    std::uint64_t not_logged_ = 0;  // with mutex_ held
};

}  // namespace gw

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

    // A front end's refusals are the client's business: info. What the operator must act
    // on (a mapping the upstream NAT did not carry) is a warning.
    enum class Level : std::uint8_t { info, warning };

    explicit RefusalLog(RateLimit limit = default_limit, Level level = Level::info) : limit_(limit), level_(level) {}

    // Writes `line` at the log's level, unless the limit is spent at `now`.
    void write(std::string_view line, Instant now);

private:
    std::mutex mutex_;
    RateLimiter limit_;            // with mutex_ held
    std::uint64_t not_logged_ = 0;  // with mutex_ held
    Level level_;
};

}  // namespace gw

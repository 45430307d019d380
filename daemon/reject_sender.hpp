// Sends the answers of `reject` rules (built by firewall/reject_builder) through a raw
// IP socket in the daemon's network namespace.
#pragma once

#include <cstdint>
#include <span>

#include "firewall/rate_limiter.hpp"

namespace gw {

class RejectSender {
public:
    RejectSender();  // throws StartupError without CAP_NET_RAW
    ~RejectSender();
    RejectSender(const RejectSender&) = delete;
    RejectSender& operator=(const RejectSender&) = delete;

    // Answers the offending packet if an answer is due; failures are counted, not fatal.
    // At most answer_limit answers a second leave (RFC 4443 2.4(f), RFC 1812 4.3.2.8):
    // spoofed packets that hit a reject rule must not turn the gateway into a reflector.
    void answer(std::span<const std::uint8_t> offending, Instant now);
    // The same for an IPv6 packet (firewall/ipv6_reject_builder); without an IPv6 raw
    // socket (a kernel without IPv6) the answer is counted as failed.
    void answer_ipv6(std::span<const std::uint8_t> offending, Instant now);
    // The ICMP administratively prohibited to a LAN host whose packet no mapping could be
    // made for (EngineResult::unreachable; the engine has rate-limited them already).
    void answer_no_mapping(std::span<const std::uint8_t> offending, Instant now);
    std::uint64_t sent() const { return sent_; }
    std::uint64_t failed() const { return failed_; }
    std::uint64_t rate_limited() const { return rate_limited_; }

    static constexpr RateLimit answer_limit{.per_second = 200, .burst = 100};

private:
    // Sends a built IPv4 answer (none when empty) within answer_limit.
    void send_ipv4(std::span<const std::uint8_t> answer, Instant now);

    int fd_ = -1;
    int fd6_ = -1;
    std::uint64_t sent_ = 0, failed_ = 0, rate_limited_ = 0;
    RateLimiter limiter_{answer_limit};
};

}  // namespace gw

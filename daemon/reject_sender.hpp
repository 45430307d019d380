// Sends the answers of `reject` rules (built by firewall/reject_builder) through a raw
// IP socket in the daemon's network namespace.
#pragma once

#include <cstdint>
#include <span>

namespace gw {

class RejectSender {
public:
    RejectSender();  // throws StartupError without CAP_NET_RAW
    ~RejectSender();
    RejectSender(const RejectSender&) = delete;
    RejectSender& operator=(const RejectSender&) = delete;

    // Answers the offending packet if an answer is due; failures are counted, not fatal.
    void answer(std::span<const std::uint8_t> offending);
    // The same for an IPv6 packet (firewall/ipv6_reject_builder); without an IPv6 raw
    // socket (a kernel without IPv6) the answer is counted as failed.
    void answer_ipv6(std::span<const std::uint8_t> offending);
    std::uint64_t sent() const { return sent_; }
    std::uint64_t failed() const { return failed_; }

private:
    int fd_ = -1;
    int fd6_ = -1;
    std::uint64_t sent_ = 0, failed_ = 0;
};

}  // namespace gw

// The firewall's decision log: one structured line per logged decision (every drop,
// and accepts by rules with `log: true`), rate-limited to firewall.log_lines_per_second
// with a count of the lines suppressed in between. Example:
//   drop rule=rdp-others reason=denied_by_rule dir=inbound proto=tcp src=198.51.100.7:40112 dst=203.0.113.1:3389
//   flags=S len=60 time=2026-11-25T20:45:01.123Z
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "firewall/packet_engine.hpp"

namespace gw {

class DecisionLog {
public:
    explicit DecisionLog(std::uint32_t lines_per_second) : lines_per_second_(lines_per_second) {}

    // Reload (firewall.log_lines_per_second): from the next line on. The workers write
    // this log with the engine lock held; so must the caller of this.
    void set_lines_per_second(std::uint32_t lines_per_second) { lines_per_second_ = lines_per_second; }
    std::uint32_t lines_per_second() const { return lines_per_second_; }

    // `head`: the first bytes of the packet as it arrived (before any rewrite);
    // `length`: its whole length.
    void record(const EngineResult& result, std::string_view direction, std::span<const std::uint8_t> head,
                std::size_t length, Instant now);

    // The line for a decision, without rate limiting (exposed for tests).
    static std::string format(const EngineResult& result, std::string_view direction,
                              std::span<const std::uint8_t> head, std::size_t length);

private:
    std::uint32_t lines_per_second_;
    Instant window_start_{-1000};
    std::uint32_t lines_in_window_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace gw

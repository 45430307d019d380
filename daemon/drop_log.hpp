// Explains drops without flooding: the first drop of each reason is logged with the
// packet's addresses, later ones are counted and summarised at most once a minute.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "nat/drop_reason.hpp"
#include "nat/mapping.hpp"

namespace gw {

class DropLog {
public:
    static constexpr Instant summary_interval = std::chrono::seconds(60);

    void record(DropReason reason, std::string_view direction, std::span<const std::uint8_t> packet, Instant now);

private:
    struct PerReason {
        Instant last_logged{-1};
        std::uint64_t suppressed = 0;
        bool ever_logged = false;
    };
    std::array<PerReason, drop_reason_count> reasons_{};
};

}  // namespace gw

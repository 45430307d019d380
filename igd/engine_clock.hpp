// The clocks of the I/O side: engine time (monotonic, what every Instant means in the
// daemon) and wall-clock seconds (only for the lease file, which must survive reboots).
#pragma once

#include <time.h>

#include <cstdint>

#include "nat/mapping.hpp"

namespace gw {

inline Instant monotonic_now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Instant(std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
}

inline std::int64_t wall_clock_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

}  // namespace gw

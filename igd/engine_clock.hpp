// The clocks of the I/O side: engine time (monotonic, what every Instant means in the
// daemon) and wall-clock seconds (only for the lease file, which must survive reboots).
#pragma once

#include <time.h>

#include <cstdint>
#include <functional>

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

// The clocks a service reads, injected so that leases are tested without waiting: the
// daemon passes the real ones (the default), a test one it moves by hand.
struct ServiceClock {
    std::function<Instant()> now = monotonic_now;
    std::function<std::int64_t()> wall_seconds = wall_clock_seconds;
};

}  // namespace gw

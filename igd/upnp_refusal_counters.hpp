// A counter per reason the IGD refused a SOAP action: one per UPnP error it answered
// with (402 for a bad argument, 728 for a client over its limit...) and one for actions
// from outside the LAN networks (answered 606, but a different story for an operator).
// STYLE 12: every refusal is counted; gatewayctl status shows the non-zero ones.
//
// Threads: pupnp's pool counts, gatewayctl's thread reads; relaxed atomics (the counts
// are statistics, nothing is ordered by them).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "igd/upnp_error.hpp"

namespace gw {

class UpnpRefusalCounters {
public:
    void count(UpnpError error);
    void count_outside_lan() { outside_lan_.fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t of(UpnpError error) const;
    std::uint64_t outside_lan() const { return outside_lan_.load(std::memory_order_relaxed); }
    // ("728_no_port_maps_available", n) for every reason counted at least once, in code
    // order, then ("outside_lan", n).
    std::vector<std::pair<std::string, std::uint64_t>> nonzero() const;

private:
    std::array<std::atomic<std::uint64_t>, all_upnp_errors.size()> by_error_{};
    std::atomic<std::uint64_t> outside_lan_{0};
};

}  // namespace gw

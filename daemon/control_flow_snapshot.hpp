// gatewayctl flows' copy of the flow table. It is taken in parts of at most
// flows_per_lock_hold flows, each part under its own short hold of the engine lock, and
// the JSON is built afterwards with no lock: a table of a million flows then costs the
// workers about a thousand waits of tens of microseconds, instead of one wait of a
// second while its answer is written (issue 15).
//
// Each flow copied is whole and consistent; a flow that comes or goes between two parts
// may be missing from the copy, as it would be from a copy taken a moment earlier or later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "daemon/locked_engine.hpp"

namespace gw {

inline constexpr std::size_t flows_per_lock_hold = 1024;

// `flows --proto P --host ADDR --port N`: every given part must match.
struct FlowFilter {
    std::optional<Protocol> protocol;
    std::optional<Ipv4Address> host;       // the internal or the remote address
    std::optional<std::uint16_t> port;     // the internal, external or remote port
    bool matches(const Flow& flow) const;
};

std::vector<Flow> snapshot_flows(const LockedEngine& engine, const FlowFilter& filter,
                                 std::size_t per_hold = flows_per_lock_hold);

}  // namespace gw

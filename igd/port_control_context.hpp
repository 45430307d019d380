// What the port-control protocols on UDP 5351 (NAT-PMP, PCP) tell a client besides the
// mapping itself, supplied by the server that owns the socket: the address mappings are
// reachable at, and the epoch clients use to notice a restart (RFC 6886 §3.6,
// RFC 6887 §8.5).
#pragma once

#include <cstdint>
#include <optional>

#include "nat/endpoint.hpp"

namespace gw {

struct PortControlContext {
    // nullopt (or 0.0.0.0): no usable external address now; requests are answered with
    // a network failure instead of a mapping nobody could reach.
    std::optional<Ipv4Address> external_address;
    std::uint32_t epoch_seconds = 0;  // seconds since the server started
};

}  // namespace gw

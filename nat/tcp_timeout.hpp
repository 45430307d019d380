// Which RFC 5382 idle timeout a TCP mapping is under, from the segments seen so far.
// Deliberately coarse: the firewall's connection tracker owns the real TCP state
// machine; the NAT only needs to tell "established" (REQ-5: >= 2 h 4 min) from
// "partially open or closing" (>= 4 min).
#pragma once

#include <cstdint>

#include "mapping.hpp"

namespace gw {

enum class Direction : std::uint8_t { outbound, inbound };

// Updates `progress` with a segment's flags and returns the timeout class that now applies.
TimeoutClass tcp_timeout_after(TcpProgress& progress, std::uint8_t tcp_flags, Direction direction);

}  // namespace gw

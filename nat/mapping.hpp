// A NAPT mapping: one internal endpoint bound to one external port on the WAN
// address, shared by every session (flow) it has with any destination (RFC 4787
// REQ-1, endpoint-independent mapping). It lives exactly as long as one of its flows
// does: flows hold references, and the last one to expire releases it (RFC 4787
// REQ-6: outbound traffic keeps a mapping alive because it keeps a flow alive).
#pragma once

#include <chrono>
#include <cstdint>

#include "endpoint.hpp"

namespace gw {

// Engine time: milliseconds since an epoch of the caller's choosing (monotonic clock
// in the daemon, capture timestamps in replay, plain numbers in tests).
using Instant = std::chrono::milliseconds;

struct Mapping {
    Endpoint internal;
    Port external;
    Protocol protocol = Protocol::udp;
    std::uint32_t flow_count = 0;  // flows holding this mapping; 0 only while being created
    bool in_use = false;
};

}  // namespace gw

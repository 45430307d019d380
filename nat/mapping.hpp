// A NAPT mapping: one internal endpoint bound to one external port on the WAN
// address, shared by every destination it talks to (RFC 4787 REQ-1, endpoint-
// independent mapping). Owned by MappingTable; callers hold pointers only until the
// next insert or expiry.
#pragma once

#include <chrono>
#include <cstdint>

#include "endpoint.hpp"

namespace gw {

// Engine time: milliseconds since an epoch of the caller's choosing (monotonic clock
// in the daemon, capture timestamps in replay, plain numbers in tests).
using Instant = std::chrono::milliseconds;

// Which idle timeout applies; also the idle list the mapping sits on.
enum class TimeoutClass : std::uint8_t { udp, icmp, tcp_transitory, tcp_established, count_ };

// What the engine has seen of a TCP mapping, enough to pick the RFC 5382 timeout.
struct TcpProgress {
    bool syn_from_inside = false;
    bool reply_from_outside = false;
    bool closing = false;  // FIN or RST seen
};

struct Mapping {
    Endpoint internal;
    Port external;
    Protocol protocol = Protocol::udp;
    TimeoutClass timeout_class = TimeoutClass::udp;
    TcpProgress tcp;
    Instant last_activity{0};
    // Links of the idle list of this timeout class, as slot numbers (intrusive list).
    std::uint32_t idle_prev = 0;
    std::uint32_t idle_next = 0;
    bool in_use = false;
};

}  // namespace gw

// Asks a STUN server (RFC 5389 Binding) what address the internet sees the gateway as:
// a UDP socket bound to the WAN address, the request retransmitted on the RFC's
// schedule within a bounded time. Blocking: the daemon runs it on a thread of its own
// (wan_monitor.hpp), never on the packet or main loop threads.
//
// Its datagrams are the gateway's own: OUTPUT -o WAN queues them (track_local_output),
// which opens a gateway flow, and the answer coming back to the WAN address matches it
// at PREROUTING and is delivered locally, whatever the input policy says.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "nat/stun_message.hpp"

namespace gw {

// RFC 5389 section 7.2.1: RTO 500 ms doubling, Rc = 7 requests, Rm = 16 RTOs after the
// last; all that takes 39.5 s, so the schedule is also cut at `budget` (a status must
// not say "asking" for long, and a WAN address change starts a new query).
struct StunRetransmission {
    std::chrono::milliseconds initial_rto{500};
    int max_requests = 7;       // Rc
    int last_wait_factor = 16;  // Rm
    std::chrono::milliseconds budget{9500};
};

struct StunSchedule {
    std::vector<std::chrono::milliseconds> sends;  // offsets from the start, the first 0
    std::chrono::milliseconds give_up{0};          // no answer by then: failed
};
// Pure: when each request goes and when to give up.
StunSchedule stun_schedule(const StunRetransmission& r);

struct StunQueryOutcome {
    std::optional<StunBindingSuccess> answer;
    std::string problem;  // when no answer: "no answer from ... after N requests", a decode problem, an error
    int requests_sent = 0;
};

// Resolves `server` (IPv4), sends from `source` (port chosen by the kernel) and waits.
// Stray datagrams (another transaction, not STUN) are ignored; an error response ends
// the query. `cancelled` is polled every 100 ms: a newer WAN address makes this moot.
StunQueryOutcome query_stun_server(const StunServerConfig& server, Ipv4Address source, const StunRetransmission& r,
                                   const std::function<bool()>& cancelled);

}  // namespace gw

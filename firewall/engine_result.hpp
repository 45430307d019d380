// What the engine makes of one packet: the verdict, and for a drop its reason and the
// rule that decided. Shared by the IPv4 engine and the IPv6 firewall.
#pragma once

#include <cstdint>

#include "firewall/firewall_config.hpp"
#include "nat/drop_reason.hpp"

namespace gw {

enum class Verdict : std::uint8_t {
    forward,          // translated in place (or a routed flow left as is): send it on
    deliver_locally,  // for the gateway itself and admitted: untouched
    drop,             // see reason
    reject,           // drop, and answer with a TCP RST / ICMP unreachable (build_reject)
};

struct EngineResult {
    Verdict verdict = Verdict::drop;
    DropReason reason = DropReason::none;
    const FirewallRule* rule = nullptr;  // the rule that decided a new flow; null = policy or no rule
    bool log = false;                    // the deciding rule asked for a log line
    // Judged as input to the gateway itself (the input rules, then policy.input), whichever
    // hook it arrived at: a WAN packet for the gateway comes through PREROUTING.
    bool input = false;
    // A LAN host's packet dropped because no mapping could be made for it (host_port_limit,
    // ports_exhausted, mapping_table_full): answer the host with an ICMP destination
    // unreachable, administratively prohibited (RFC 5508 REQ-8; build_no_mapping_unreachable).
    // Set only within the engine's rate limit and when nat.unreachable_when_full is on.
    bool unreachable = false;
};

}  // namespace gw

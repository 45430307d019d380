// NAT-PMP (RFC 6886) as a front end of the one mapping policy: a request in, the
// response out, and what it changed in the policy for the mapping service to carry out.
// Pure: no I/O, no clock (`now` comes in), no logging (the answer says what happened,
// the server logs and counts it).
//
// The internal client is the request's source address, so the policy's secure mode,
// permission rules, per-client and global limits, lease cap (upnp.max_lease) and the
// lease file apply to NAT-PMP exactly as to UPnP. NAT-PMP's mappings are told apart
// from other front ends' by their description, "NAT-PMP <internal port> <udp|tcp>"
// (what miniupnpd writes, so `upnpc -l` shows where a mapping came from).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "igd/mapping_changes.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/natpmp_message.hpp"
#include "igd/port_control_context.hpp"

namespace gw {

inline constexpr std::string_view natpmp_description_prefix = "NAT-PMP ";

struct NatPmpAnswer {
    std::vector<std::uint8_t> response;  // empty: send nothing
    MappingChanges changes;              // for PortMappingService to carry out
    // The result sent (success when nothing was sent: see `ignored`).
    NatPmpResult result = NatPmpResult::success;
    std::optional<NatPmpProblem> ignored_or_malformed;  // what decode found, if anything
    std::optional<MappingRefusal> refusal;              // the policy's reason behind a refusal
    std::string decision;                               // one line for the log: what was asked, what was done
};

// Whether a mapping was made by NAT-PMP (its description).
bool is_natpmp_mapping(const PortMapping& mapping);

// The NAT-PMP result a policy refusal is answered with (§3.5): 2 Not Authorized for
// what the client may not have (permission rules, secure mode, a reserved port), 4 Out
// of Resources for limits and exhausted ports.
NatPmpResult natpmp_result_of(MappingRefusal refusal);

// RFC 6886 §3.2-3.5. A mapping request:
//  - lifetime > 0: a repeat request for the same internal port renews the client's
//    NAT-PMP mapping and keeps its external port; otherwise the suggested external port
//    is granted when free (the internal port when 0), else another free one (grant_any).
//    The lifetime granted is the policy's (capped by upnp.max_lease).
//  - lifetime 0 deletes the client's NAT-PMP mapping of that internal port (success also
//    when there was none); with internal port 0 too, all its NAT-PMP mappings of that
//    protocol (§3.4). Other front ends' mappings are never touched.
NatPmpAnswer answer_natpmp(std::span<const std::uint8_t> request, Ipv4Address client,
                           const PortControlContext& context, MappingPolicy& policy, Instant now);

}  // namespace gw

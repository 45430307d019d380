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
#include <string>
#include <utility>
#include <vector>

#include "base/expected.hpp"
#include "daemon/locked_engine.hpp"

namespace gw {

inline constexpr std::size_t flows_per_lock_hold = 1024;

// `flows --proto P --host ADDR --port N --internal ADDR:PORT --remote ADDR:PORT`, and
// the same selectors for `flows delete` (a full 5-tuple is --proto with --internal and
// --remote): every given part must match.
struct FlowFilter {
    std::optional<Protocol> protocol;
    std::optional<Ipv4Address> host;       // the internal or the remote address
    std::optional<std::uint16_t> port;     // the internal, external or remote port
    std::optional<Endpoint> internal;      // exactly the LAN-side (or the gateway's) end
    std::optional<Endpoint> remote;        // exactly the WAN-side peer
    bool matches(const Flow& flow) const;
    bool selects_anything() const { return protocol || host || port || internal || remote; }
};

// The same for IPv6 flows (`flows6`, `flows6 delete`): the LAN end is the internal one.
struct Ipv6FlowFilter {
    std::optional<std::uint8_t> protocol;  // IANA number: 6, 17, 58
    std::optional<Ipv6Address> host;       // the LAN or the remote address
    std::optional<std::uint16_t> port;     // the LAN or the remote port
    std::optional<std::pair<Ipv6Address, std::uint16_t>> internal, remote;
    bool matches(const Ipv6Flow& flow) const;
    bool selects_anything() const { return protocol || host || port || internal || remote; }
};

// Reads the selectors of `words` from index `first` on (`--proto P`, `--host ADDR`,
// `--port N`, `--internal ADDR:PORT`, `--remote ADDR:PORT`; IPv6 endpoints as
// [ADDR]:PORT). The error names the word not understood.
Expected<FlowFilter, Error> parse_flow_filter(const std::vector<std::string>& words, std::size_t first);
Expected<Ipv6FlowFilter, Error> parse_ipv6_flow_filter(const std::vector<std::string>& words, std::size_t first);

// gatewayctl's seconds_left: whole seconds, rounded up, so that 0 means ended.
inline std::int64_t seconds_left(Instant idle_left) { return (idle_left.count() + 999) / 1000; }

// A flow as copied, with the time its idle timeout leaves it at the copy's `now`.
struct FlowCopy {
    Flow flow;
    Instant idle_left{0};
};

std::vector<FlowCopy> snapshot_flows(const LockedEngine& engine, const FlowFilter& filter, Instant now = Instant{0},
                                     std::size_t per_hold = flows_per_lock_hold);

// `flows delete`: ends the flows the filter selects, in parts of the table under short
// holds of the engine lock as the copy above; returns how many flows ended (a hairpin
// flow's linked one included). What they held goes as when they expire: a NAT mapping
// no other flow holds is released, and a later packet of the connection is judged as a
// new one.
std::size_t end_flows(LockedEngine& engine, const FlowFilter& filter, std::size_t per_hold = flows_per_lock_hold);
std::size_t end_ipv6_flows(LockedEngine& engine, const Ipv6FlowFilter& filter,
                           std::size_t per_hold = flows_per_lock_hold);

}  // namespace gw

// What gatewayctl changed at runtime, kept across a restart or a crash: the forwards
// opened for a while (`forwards add ... --for`) with their wall-clock end, and the static
// forwards switched on or off (`forwards enable|disable`), which hold until the next
// reload as they did before the restart. One line each, readable and fixable by hand:
//
//   gatewayd-control-state 1
//   timed for-a-while tcp 5000 192.168.50.10:5000 expires=1767225600
//   switched web disabled
//
// Names are written with %XX for spaces, control bytes and '%'. The file sits in the
// state directory beside the lease file (flow_handover.hpp), written atomically on every
// change. It is untrusted: a bad line is reported ("control-state:3: ...") and skipped,
// and what is read is applied through the same checks as gatewayctl's own requests.
//
// Pure: serialize/parse only; GatewayControl does the I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nat/endpoint.hpp"

namespace gw {

inline constexpr std::string_view control_state_header = "gatewayd-control-state 1";

struct ControlState {
    struct Timed {
        std::string name;
        Protocol protocol = Protocol::tcp;
        Port external;
        Endpoint internal;
        std::int64_t expires_unix = 0;  // wall-clock second it closes
        bool operator==(const Timed&) const = default;
    };
    struct Switched {
        std::string name;
        bool enabled = true;
        bool operator==(const Switched&) const = default;
    };
    std::vector<Timed> timed;
    std::vector<Switched> switched;
    bool operator==(const ControlState&) const = default;
};

std::string serialize_control_state(const ControlState& state);

struct ControlStateRead {
    ControlState state;
    std::vector<std::string> errors;  // "<source>:<line>: <what is wrong>"
};
// A text without the header (or another version) yields one error and nothing else.
ControlStateRead parse_control_state(std::string_view text, std::string_view source = "control-state");

}  // namespace gw

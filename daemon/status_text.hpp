// `gatewayctl status` for a person: who runs (version, PID, uptime, config file), the WAN
// and LAN, the counts, the front ends, what is wrong (warnings), and of the ~100 counters
// only those that are not zero. `gatewayctl status --all` prints every figure, zero
// included, as the flat dump it was; `--json` the whole answer. Lives beside the control
// JSON (gw_control_json) so that it is tested without a daemon.
#pragma once

#include <string>

#include "control_json.hpp"

namespace gw {

// The condensed text of a `status` answer, lines ending in '\n'.
std::string status_text(const JsonValue& status);

}  // namespace gw

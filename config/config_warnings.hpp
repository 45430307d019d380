// What a file that loads says but likely does not mean: the checker prints these as
// warnings, the daemon logs them at start and at a reload, and the file is used as it is.
// Internal to config/.
#pragma once

#include <vector>

#include "config/config_schema.hpp"

namespace gw {

// Positioned as cross-key errors are (CrossKeyError's contract); a list item is named
// "<list>[i]" ("lan.networks[0]"). Run on a config that loaded without errors.
std::vector<CrossKeyError> check_config_warnings(const GatewayConfig& config);

}  // namespace gw

// The running daemon: binds the queue, installs the queue rules, switches forwarding
// on, translates until SIGTERM/SIGINT, then undoes all of it in reverse order.
#pragma once

#include "config/gateway_config.hpp"
#include "nat/nat_config.hpp"

namespace gw {

// Turns the loaded config into what the engine needs, reading the WAN address from
// the interface when it is "auto". Throws StartupError.
NatConfig prepare_nat_config(const GatewayConfig& config);

// Runs until a stop signal; throws StartupError when a start-up step fails (after
// undoing the steps already taken).
void run_gateway(const GatewayConfig& config);

}  // namespace gw

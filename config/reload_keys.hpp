// Which keys a reload (SIGHUP, `gatewayctl reload`) applies in place; every other key is set
// up once, at start (a socket, a table's size, pupnp's description, the lease file), and a
// reload that changes it is refused by name (daemon/reload_plan.hpp). Defined once, here,
// beside the schema: the daemon's reload and the reference (docs/configuration.md) read it.
// A key added to the schema needs a restart until it is listed here, never a silent no-op.
#pragma once

#include <span>
#include <string_view>

namespace gw {

// Keys, or key prefixes ending in '.', in schema order.
std::span<const std::string_view> keys_applied_in_place();
bool applies_in_place(std::string_view key);

}  // namespace gw

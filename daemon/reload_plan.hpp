// What a reload changes, key by key, and whether the running gatewayd can take each change
// (issue 16). The config schema renders every key's value (SchemaKey::show), so the running
// and the new value are compared, named and written as the reference documents them; which
// keys apply in place is config/reload_keys.hpp's. A change to any other key refuses the
// reload, one line per key with both values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.hpp"

namespace gw {

struct KeyChange {
    std::string key;   // as the schema names it: "nat.timeouts.udp", "firewall.rules"
    std::string from;  // the running value, short (a long list shows its first items)
    std::string to;    // the new value, likewise
};

struct ReloadPlan {
    std::vector<KeyChange> applied;  // taken in place by the reload
    std::vector<KeyChange> restart;  // need a restart: the reload is refused
};

// Pure: compares two loaded configurations (schema order). firewall.rules and
// firewall.forwards are compared item by item and shown as counts.
ReloadPlan plan_reload(const GatewayConfig& running, const GatewayConfig& wanted);

// "upnp.http_port cannot change while running (49152 -> 49160): restart gatewayd to apply it"
std::string restart_refusal(const KeyChange& change);
// "nat.timeouts.udp 300 -> 600, upnp.secure_mode true -> false" — at most `shown` of them,
// then "and N more"; "no key changed" for none.
std::string change_list(const std::vector<KeyChange>& changes, std::size_t shown = 6);

}  // namespace gw

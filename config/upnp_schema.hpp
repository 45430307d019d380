// The UPnP IGD's part of the schema (upnp.*) and its cross-key rule; assembled into
// config_schema() by config_schema.cpp. Internal to config/.
#pragma once

#include <vector>

#include "config/config_schema.hpp"
#include "igd/igd_config.hpp"

namespace gw {

inline constexpr EnumName<LeaseSync> lease_sync_names[] = {
    {LeaseSync::change, "change"},
    {LeaseSync::second, "second"},
};

std::vector<SchemaKey> upnp_schema_keys();  // upnp.*, in documentation order

void check_upnp_cross_key_rules(const GatewayConfig& config, std::vector<CrossKeyError>& errors);

}  // namespace gw

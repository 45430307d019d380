// The port-control server's part of the schema (natpmp.*, pcp.*); assembled into
// config_schema() by config_schema.cpp. Internal to config/.
#pragma once

#include <vector>

#include "config/config_schema.hpp"

namespace gw {

std::vector<SchemaKey> port_control_schema_keys();  // natpmp.*, pcp.*, in documentation order

}  // namespace gw

// The WAN side's part of the schema (wan.* but wan.interface, which shares its parser with
// lan.interface): the external address, STUN, and what mappings do behind another NAT
// (wan.cascade_mappings, wan.upstream_mappings, wan.upstream_failure); assembled into
// config_schema() by config_schema.cpp. Internal to config/.
#pragma once

#include <vector>

#include "config/config_schema.hpp"
#include "config/gateway_config.hpp"

namespace gw {

inline constexpr EnumName<CascadeMappings> cascade_mappings_names[] = {
    {CascadeMappings::warn, "warn"},
    {CascadeMappings::refuse, "refuse"},
};

inline constexpr EnumName<UpstreamMappingsMode> upstream_mappings_names[] = {
    {UpstreamMappingsMode::automatic, "auto"}, {UpstreamMappingsMode::pcp, "pcp"},
    {UpstreamMappingsMode::natpmp, "natpmp"},  {UpstreamMappingsMode::upnp, "upnp"},
    {UpstreamMappingsMode::off, "off"},
};

inline constexpr EnumName<UpstreamFailurePolicy> upstream_failure_names[] = {
    {UpstreamFailurePolicy::refuse, "refuse"},
    {UpstreamFailurePolicy::keep, "keep"},
};

std::vector<SchemaKey> wan_schema_keys();  // wan.address .. wan.upstream_failure, in documentation order

}  // namespace gw

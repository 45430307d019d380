// natpmp.* and pcp.*: the keys of the port-control server on UDP 5351 (NAT-PMP and PCP
// share the port, told apart by their version byte). The values end up in
// PortControlConfig (igd/port_control_config.hpp), which holds the defaults; which
// mappings are granted is upnp.*'s policy, the same for every protocol.
#include "config/port_control_schema.hpp"

#include "config/value_parsers.hpp"

namespace gw {
namespace {

using C = GatewayConfig;
using N = YAML::Node;

}  // namespace

std::vector<SchemaKey> port_control_schema_keys() {
    return {
        {"natpmp.enabled", ValueType::boolean, false,
         "Answer NAT-PMP (RFC 6886) on UDP 5351 of the LAN address, and announce the external address to "
         "224.0.0.1:5350 on start and when it changes. Mappings follow the upnp.* policy (permissions, limits, "
         "max_lease, lease_file) and are described `NAT-PMP <port> <protocol>`.",
         [](const N& v, C& c) { return store_boolean(v, c.port_control.natpmp_enabled); },
         [](const C& c) { return show_bool(c.port_control.natpmp_enabled); }},
        {"pcp.enabled", ValueType::boolean, false,
         "Answer PCP (RFC 6887) on UDP 5351 of the LAN address, under the upnp.* policy like NAT-PMP; `false` "
         "answers PCP requests with NAT-PMP's Unsupported Version, so clients fall back to NAT-PMP.",
         [](const N& v, C& c) { return store_boolean(v, c.port_control.pcp_enabled); },
         [](const C& c) { return show_bool(c.port_control.pcp_enabled); }},
        {"pcp.allow_third_party", ValueType::boolean, false,
         "Honour PCP's THIRD_PARTY option (a host asking for a mapping to another host; for an IPv6 host, a "
         "pinhole under the upnp.pinholes rules). Off by default: as upnp.secure_mode, it would let any LAN "
         "host expose another one.",
         [](const N& v, C& c) { return store_boolean(v, c.port_control.pcp_allow_third_party); },
         [](const C& c) { return show_bool(c.port_control.pcp_allow_third_party); }},
    };
}

}  // namespace gw

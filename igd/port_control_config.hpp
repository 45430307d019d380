// What the port-control server on UDP 5351 is configured with (natpmp.*, pcp.* in the
// YAML; config/port_control_schema.cpp holds the keys and their documentation). The
// mapping policy the protocols answer by is upnp.*'s (IgdConfig): one policy for every
// front end.
#pragma once

namespace gw {

struct PortControlConfig {
    bool natpmp_enabled = true;          // natpmp.enabled: answer NAT-PMP (RFC 6886), announce the address
    bool pcp_enabled = true;             // pcp.enabled: hand version-2 requests to the PCP responder
    bool pcp_allow_third_party = false;  // pcp.allow_third_party: THIRD_PARTY option honoured (RFC 6887 §13.1)

    bool server_enabled() const { return natpmp_enabled || pcp_enabled; }
};

}  // namespace gw

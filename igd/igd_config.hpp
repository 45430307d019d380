// What the UPnP Internet Gateway Device is configured with (upnp.* in the YAML).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"

namespace gw {

// miniupnpd-style permission rule: "allow|deny EXT-PORTS INT-CIDR INT-PORTS", first match wins.
struct UpnpPermission {
    bool allow = false;
    PortRange external_ports{0, 65535};
    Ipv4Network internal_network;
    PortRange internal_ports{0, 65535};
};

struct IgdConfig {
    bool enabled = true;
    int igd_version = 1;                    // 1 (what Windows recognises) or 2
    std::uint16_t http_port = 5000;         // description/control/eventing, on the LAN address only
    bool secure_mode = true;                // a client may only map to its own address
    std::uint32_t max_lease_seconds = 604800;   // leases above are capped (v2) or refused (v1: 0 = infinite is capped too)
    std::uint32_t per_client_limit = 128;   // mappings one LAN address may hold
    std::uint32_t max_mappings = 1024;      // in all
    std::string lease_file = "/var/lib/gatewayd/leases";
    // Evaluated in order; no match = deny. The default allows ports 1024-65535 to any
    // LAN address and ports 1024-65535 (miniupnpd's shipped default).
    std::vector<UpnpPermission> permissions;
    std::string friendly_name = "gatewayd";
    std::uint32_t advertisement_seconds = 1800;  // SSDP max-age
};

}  // namespace gw

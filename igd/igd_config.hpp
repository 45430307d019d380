// What the UPnP Internet Gateway Device is configured with (upnp.* in the YAML).
// Loaded and validated by config/ (every key with file:line:column errors, ranges and
// documentation in config/upnp_schema.cpp); read by igd/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"

namespace gw {

// miniupnpd-style permission rule: "allow|deny EXT-PORTS INT-ADDR[/MASKBITS] INT-PORTS".
// A requested mapping matches when its external port, internal client address and
// internal port are all inside the rule's; the first rule that matches decides.
struct UpnpPermission {
    bool allow = false;
    PortRange external_ports{0, 65535};
    Ipv4Network internal_network;
    PortRange internal_ports{0, 65535};

    constexpr bool operator==(const UpnpPermission&) const = default;
};

// When a lease file change reaches the disk (igd/lease_journal.hpp says what each risks).
enum class LeaseSync : std::uint8_t { change, second };

// IPv6 firewall pinholes (UPnP WANIPv6FirewallControl:1, IGD:2 only): upnp.pinholes.*.
struct PinholeConfig {
    bool enabled = true;         // FirewallEnabled: false answers every pinhole action 702
    bool allow_inbound = true;   // InboundPinholeAllowed: false answers AddPinhole/UpdatePinhole 703
    std::uint32_t per_client_limit = 32;  // pinholes one requester may hold; <= max_pinholes
    std::uint32_t max_pinholes = 512;     // in all (UniqueIDs are 16-bit: at most 65535)
    bool allow_internal_port_wildcard = false;  // InternalPort 0 (every port of the host): else 706
    bool allow_protocol_wildcard = false;       // Protocol 65535 (every protocol): else 707
};

struct IgdConfig {
    bool enabled = true;
    int igd_version = 1;                    // 1 (the only one Windows' own client recognises) or 2
    std::uint16_t http_port = 49152;        // description/control/eventing, LAN address only; pupnp 1.8 needs >= 49152
    bool secure_mode = true;                // a client may only map to its own address
    // Longest lease granted; WANIPConnection:2 allows at most 604800 s (one week). How a
    // longer or infinite (0) request is answered per IGD version is igd/'s policy.
    std::uint32_t max_lease_seconds = 604800;
    std::uint32_t per_client_limit = 128;   // mappings one LAN address may hold; <= max_mappings
    std::uint32_t max_mappings = 1024;      // in all
    std::string lease_file = "/var/lib/gatewayd/leases";  // absolute, a file (config/ checks both)
    LeaseSync lease_sync = LeaseSync::second;
    // Evaluated in order; no match = deny (miniupnpd accepts on no match, which is why its
    // shipped file ends with a deny-all rule). As loaded, empty means "upnp.permissions
    // not given": the daemon, which knows the LAN networks even when lan.networks is left
    // empty, resolves it with effective_upnp_permissions() before igd/ sees the config.
    // What igd/ is given is final: there, an empty list denies every mapping.
    std::vector<UpnpPermission> permissions;
    std::string friendly_name = "gatewayd";      // UDA friendlyName; 1 to 64 characters, UTF-8
    std::uint32_t advertisement_seconds = 1800;  // SSDP CACHE-CONTROL max-age
    PinholeConfig pinholes;
    // Not in the YAML: resolved by the daemon before igd/ sees the config, like the
    // permissions. The LAN networks and the gateway's own addresses (LAN interface and
    // WAN): no mapping ever names an internal client that is not a LAN host - the
    // gateway, a network or broadcast address, or an address off the LAN - whatever
    // secure_mode says (issue 14). With no LAN networks given (tests), only the
    // gateway's own addresses, loopback and 0/8 are refused.
    std::vector<Ipv4Network> lan_networks;
    std::vector<Ipv4Address> gateway_addresses;
};

// miniupnpd's shipped default: each LAN network may map external ports 1024-65535 to
// its own ports 1024-65535, and everything else is denied (the explicit last rule
// documents it; no match would deny anyway).
inline std::vector<UpnpPermission> default_upnp_permissions(const std::vector<Ipv4Network>& lan_networks) {
    std::vector<UpnpPermission> permissions;
    for (const Ipv4Network& network : lan_networks) {
        permissions.push_back({true, PortRange{1024, 65535}, network, PortRange{1024, 65535}});
    }
    permissions.push_back({false, PortRange{0, 65535}, Ipv4Network{Ipv4Address(), 0}, PortRange{0, 65535}});
    return permissions;
}

// The rules igd/ enforces: the configured ones, or the default for `lan_networks`.
inline std::vector<UpnpPermission> effective_upnp_permissions(const IgdConfig& config,
                                                              const std::vector<Ipv4Network>& lan_networks) {
    return config.permissions.empty() ? default_upnp_permissions(lan_networks) : config.permissions;
}

}  // namespace gw

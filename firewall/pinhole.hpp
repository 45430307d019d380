// An IPv6 firewall pinhole (issue 8): inbound IPv6 traffic to one LAN host let through
// the default-deny IPv6 firewall, as a LAN client asked with UPnP WANIPv6FirewallControl
// AddPinhole or PCP MAP. Who may open one and for how long is the control plane's
// (igd/): it numbers them, ends their leases and tells the packet path through the
// engine command queue. The packet path only matches and counts (no NAT for IPv6).
#pragma once

#include <cstdint>
#include <optional>

#include "nat/ipv6_address.hpp"

namespace gw {

// Pinhole ids: the pinhole service numbers every front end's pinholes (UPnP, PCP,
// gatewayctl) 1..max_policy_pinhole_id, UPnP's UniqueID range.
inline constexpr std::uint16_t max_policy_pinhole_id = 32767;

// WANIPv6FirewallControl's wildcard protocol (the spec's 65535 = "all").
inline constexpr std::uint16_t any_ip_protocol = 65535;

struct Pinhole {
    std::uint16_t id = 0;                    // UniqueID, 1..65535, given by the control plane
    std::optional<Ipv6Address> remote_host;  // nullopt: any remote host
    std::uint16_t remote_port = 0;           // 0: any
    Ipv6Address internal_client;
    std::uint16_t internal_port = 0;         // 0: any
    std::uint16_t protocol = any_ip_protocol;  // IANA protocol number (6 TCP, 17 UDP, ...)

    bool operator==(const Pinhole&) const = default;
};

}  // namespace gw

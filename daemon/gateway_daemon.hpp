// From the loaded config to what the engine needs, and the daemon's options. The running
// daemon itself is the Gateway (gateway.hpp).
#pragma once

#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "firewall/packet_engine.hpp"
#include "nat/nat_config.hpp"

namespace gw {

// What the config alone says, with the WAN address already resolved: no host lookups,
// lan.networks as configured (may be empty), no UPnP endpoint. The pcap replay builds
// its engine from this offline; prepare_nat_config adds the host's view to it.
EngineSetup engine_setup_from_config(const GatewayConfig& config, Ipv4Address wan_address);

// Turns the loaded config into what the engine needs, reading the WAN address from
// the interface when it is "auto". Throws StartupError.
NatConfig prepare_nat_config(const GatewayConfig& config);

// The engine's whole setup from the loaded config: NAT, firewall, interfaces, and the
// LAN networks and IGD endpoint read from the LAN interface when not configured.
// Throws StartupError. Reload uses it too, to build the new setup beside the old.
EngineSetup prepare_engine_setup(const GatewayConfig& config);

// Forwards and the DMZ that point at one of the gateway's own addresses as the host has them
// now: the LAN interface's, and the WAN address when wan.address is auto (the config
// checker warns about a configured one; it cannot know the interfaces). One warning line
// each, to log at start and at a reload; the engine drops such flows (wan_flow_to_gateway).
std::vector<std::string> targets_on_the_gateway(const GatewayConfig& config, const EngineSetup& setup);

// The mapping policy every front end shares (upnp.*: permissions, limits, leases), as the
// daemon resolves it against `setup`: no permissions configured = miniupnpd's default over
// the LAN networks; no mapping to the gateway's own addresses or off the LAN. At start,
// and again at each reload.
IgdConfig mapping_policy_config(const GatewayConfig& config, const EngineSetup& setup);

inline constexpr const char* default_control_socket = "/run/gatewayd/control.sock";

struct DaemonOptions {
    std::string config_path;  // what SIGHUP and `gatewayctl reload` re-read; empty = reload refused
    std::string control_socket = default_control_socket;
};

}  // namespace gw

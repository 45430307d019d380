#include "gateway_daemon.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "base/startup_error.hpp"
#include "daemon/host_network.hpp"
#include "igd/natpmp_message.hpp"

namespace gw {

EngineSetup engine_setup_from_config(const GatewayConfig& config, Ipv4Address wan_address) {
    EngineSetup setup;
    setup.nat.wan_address = wan_address;
    setup.nat.port_range = config.port_range;
    setup.nat.low_port_range = config.low_port_range;
    setup.nat.unreachable_when_full = config.unreachable_when_full;
    setup.nat.timeouts = config.timeouts;
    setup.nat.max_mappings = config.max_mappings;
    setup.nat.limits = config.limits;
    setup.firewall = config.firewall;
    setup.lan_interface = config.lan_interface;
    setup.wan_interface = config.wan_interface;
    return setup;
}

EngineSetup prepare_engine_setup(const GatewayConfig& config) {
    EngineSetup setup = engine_setup_from_config(config, prepare_nat_config(config).wan_address);
    // A new secret per start (a reload keeps the running engine's): replacement ports
    // follow no pattern an outsider could learn across restarts either.
    if (getrandom(setup.nat.port_key.data(), setup.nat.port_key.size(), 0) != ssize_t(setup.nat.port_key.size()))
        throw StartupError(std::string("cannot draw the port selection key: ") + std::strerror(errno));
    if (config.upnp.enabled || config.port_control.server_enabled()) {
        // With lan.networks set the LAN may get its address later: the front ends wait for it
        // (front_end_supervisor.hpp) and move the engine's view of them there (0.0.0.0 till then).
        auto lan_address = interface_ipv4_address(config.lan_interface);
        if (!lan_address && setup.firewall.lan_networks.empty())
            throw StartupError(std::string(config.upnp.enabled ? "upnp" : "natpmp/pcp") + " is enabled but " +
                               config.lan_interface + " has no IPv4 address (and lan.networks is not set)");
        const Ipv4Address address = lan_address.value_or(Ipv4Address{});
        if (config.upnp.enabled) setup.upnp_http = Endpoint{address, Port{config.upnp.http_port}};
        if (config.port_control.server_enabled()) setup.port_control = Endpoint{address, Port{natpmp_server_port}};
    }
    setup.lan_addresses = interface_ipv4_addresses(config.lan_interface);
    if (setup.firewall.lan_networks.empty()) {
        auto subnet = interface_ipv4_network(config.lan_interface);
        if (!subnet) throw StartupError("lan.networks is not set and " + config.lan_interface + " has no IPv4 address");
        setup.firewall.lan_networks.push_back(*subnet);
    }
    return setup;
}

std::vector<std::string> targets_on_the_gateway(const GatewayConfig& config, const EngineSetup& setup) {
    auto owner_of = [&](Ipv4Address address) -> std::string {
        for (Ipv4Address own : setup.lan_addresses)
            if (own == address) return "the gateway's own address on " + setup.lan_interface;
        if (!config.wan_address && address == setup.nat.wan_address && address != Ipv4Address{})
            return "the gateway's own WAN address (wan.address: auto, now on " + setup.wan_interface + ")";
        return {};
    };
    const std::string consequence = ": its packets would go to the gateway, not to a LAN host, and are dropped "
                                    "(wan_flow_to_gateway)";
    std::vector<std::string> warnings;
    const std::vector<PortForward>& forwards = config.firewall.forwards;
    for (std::size_t i = 0; i < forwards.size(); ++i) {
        std::string owner = owner_of(forwards[i].internal.address);
        if (owner.empty()) continue;
        warnings.push_back("firewall.forwards[" + std::to_string(i) + "].internal (" + forwards[i].name +
                           "): " + forwards[i].internal.address.to_string() + " is " + owner + consequence);
    }
    if (config.firewall.dmz_host) {
        std::string owner = owner_of(*config.firewall.dmz_host);
        if (!owner.empty())
            warnings.push_back("firewall.dmz: " + config.firewall.dmz_host->to_string() + " is " + owner + consequence);
    }
    return warnings;
}

IgdConfig mapping_policy_config(const GatewayConfig& config, const EngineSetup& setup) {
    IgdConfig policy = config.upnp;
    policy.permissions = effective_upnp_permissions(config.upnp, setup.firewall.lan_networks);
    policy.lan_networks = setup.firewall.lan_networks;
    policy.gateway_addresses = setup.lan_addresses;
    policy.gateway_addresses.push_back(setup.nat.wan_address);
    return policy;
}

NatConfig prepare_nat_config(const GatewayConfig& config) {
    for (const auto* name : {&config.lan_interface, &config.wan_interface})
        if (!interface_exists(*name)) throw StartupError("interface '" + *name + "' does not exist");
    std::optional<Ipv4Address> wan_address = config.wan_address;
    // No address yet (DHCP pending): 0.0.0.0, to which the engine forwards nothing
    // (fail-closed) until the address watch brings one.
    if (!wan_address) wan_address = interface_ipv4_address(config.wan_interface).value_or(Ipv4Address{});
    return engine_setup_from_config(config, *wan_address).nat;
}

}  // namespace gw

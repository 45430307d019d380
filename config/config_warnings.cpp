#include "config/config_warnings.hpp"

#include <string>

namespace gw {
namespace {

std::string network_path(std::size_t index) {
    return "lan.networks[" + std::to_string(index) + "]";
}

// A block of /0 or /1 holds every address or half of them, the internet's with them: its
// hosts would look like LAN hosts, so the engine drops their packets as forged
// (martian_wan_source) and the LAN side's anti-spoofing lets any source out.
void warn_about_everything_in_lan(const GatewayConfig& config, std::vector<CrossKeyError>& warnings) {
    const std::vector<Ipv4Network>& lan = config.firewall.lan_networks;
    for (std::size_t i = 0; i < lan.size(); ++i) {
        if (lan[i].prefix_length > 1) continue;
        std::string share = lan[i].prefix_length == 0 ? "every IPv4 address" : "half of all IPv4 addresses";
        warnings.push_back({network_path(i),
                            lan[i].to_string() + " covers " + share +
                                ": internet hosts inside it count as LAN hosts, and their packets are dropped as "
                                "forged (martian_wan_source); list the LAN's own blocks"});
    }
}

void warn_about_wan_address_in_lan(const GatewayConfig& config, std::vector<CrossKeyError>& warnings) {
    if (!config.wan_address) return;
    const std::vector<Ipv4Network>& lan = config.firewall.lan_networks;
    for (std::size_t i = 0; i < lan.size(); ++i) {
        if (lan[i].prefix_length <= 1 || !lan[i].contains(*config.wan_address)) continue;  // /0 and /1: warned above
        warnings.push_back({"wan.address",
                            config.wan_address->to_string() + " is inside lan.networks (" + lan[i].to_string() +
                                "): the gateway's WAN address would count as a LAN address; lan.networks should "
                                "hold only the LAN's own blocks",
                            {network_path(i)}});
        return;
    }
}

// The gateway receives what is sent to its own address: a forward to it, or a DMZ
// there, hands the packets to gatewayd's host instead of a LAN host.
void warn_about_targets_on_the_gateway(const GatewayConfig& config, std::vector<CrossKeyError>& warnings) {
    if (!config.wan_address) return;
    const Ipv4Address wan = *config.wan_address;
    const std::vector<PortForward>& forwards = config.firewall.forwards;
    for (std::size_t i = 0; i < forwards.size(); ++i) {
        if (forwards[i].internal.address != wan) continue;
        warnings.push_back({"firewall.forwards[" + std::to_string(i) + "].internal",
                            wan.to_string() + " is the gateway's own WAN address (wan.address): the forward would "
                                              "deliver to the gateway, not to a LAN host",
                            {"wan.address"}});
    }
    if (config.firewall.dmz_host == wan) {
        warnings.push_back({"firewall.dmz",
                            wan.to_string() + " is the gateway's own WAN address (wan.address): unclaimed inbound "
                                              "packets would go to the gateway, not to a LAN host",
                            {"wan.address"}});
    }
}

}  // namespace

std::vector<CrossKeyError> check_config_warnings(const GatewayConfig& config) {
    std::vector<CrossKeyError> warnings;
    warn_about_everything_in_lan(config, warnings);
    warn_about_wan_address_in_lan(config, warnings);
    warn_about_targets_on_the_gateway(config, warnings);
    return warnings;
}

}  // namespace gw

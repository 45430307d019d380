// The LAN front ends as the supervisor (front_end_supervisor.hpp) starts and stops them:
// the IGD with the gateway's own SSDP beside it, and the NAT-PMP/PCP server. Each starts
// on the LAN address the supervisor found and moves the engine's view of its service
// there first.
#include "daemon/gateway.hpp"

// glibc first: <linux/in.h> then leaves struct in_addr and friends to it (libc-compat.h).
#include <netinet/in.h>
#include <net/if.h>

#include <algorithm>
#include <cstdio>

#include "daemon/front_end_supervisor.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/gateway_log.hpp"
#include "daemon/host_network.hpp"
#include "daemon/locked_engine.hpp"
#include "daemon/pcp_handler.hpp"
#include "daemon/port_control_server.hpp"
#include "daemon/ssdp_server.hpp"
#include "daemon/upstream_worker.hpp"
#include "daemon/wan_monitor.hpp"
#include "igd/device_description.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/natpmp_message.hpp"
#include "igd/pinhole_service.hpp"
#include "igd/port_mapping_service.hpp"

namespace gw {
namespace {

// Stable across restarts (control points remember devices by UDN): a name-based
// identifier from what identifies this gateway, FNV-1a over it.
std::string igd_uuid(const GatewayConfig& config, Ipv4Address lan_address) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : "gatewayd:" + config.lan_interface + ":" + lan_address.to_string())
        h = (h ^ std::uint8_t(c)) * 0x100000001b3ULL;
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "%08x-%04x-5%03x-8%03x-%012llx", unsigned(h >> 32), unsigned(h >> 16) & 0xffff,
                  unsigned(h) & 0xfff, unsigned(h >> 20) & 0xfff, static_cast<unsigned long long>(h & 0xffffffffffffULL));
    return uuid;
}

// The IGD's view of the gateway, from the prepared engine setup and the LAN address it
// starts on (the supervisor's: it follows the interface).
IgdEnvironment igd_environment(const GatewayConfig& config, const EngineSetup& setup, Ipv4Address lan_address) {
    IgdEnvironment env;
    env.lan_interface = config.lan_interface;
    env.lan_interface_index = if_nametoindex(config.lan_interface.c_str());
    env.lan_address = lan_address;
    env.lan_networks = setup.firewall.lan_networks;
    env.wan_address = setup.nat.wan_address;
    // IPv6 pinholes: the prefixes the IPv6 firewall forwards (lan.ipv6_networks), or
    // without them the LAN interface's prefixes at start.
    env.lan_ipv6_networks = setup.firewall.ipv6.lan_networks;
    bool from_interface = env.lan_ipv6_networks.empty();
    for (const auto& v6 : interface_ipv6_addresses(config.lan_interface)) {
        env.lan_ipv6_addresses.push_back(v6.address);
        if (from_interface && std::ranges::find(env.lan_ipv6_networks, v6.network) == env.lan_ipv6_networks.end())
            env.lan_ipv6_networks.push_back(v6.network);
    }
    env.outbound_tcp_seconds = setup.nat.timeouts.tcp_established;
    env.outbound_udp_seconds = setup.nat.timeouts.udp;
    env.uuid = igd_uuid(config, env.lan_address);
    return env;
}

// The gateway's own SSDP: the same UUID and LOCATION as the IGD's description.
SsdpServerOptions ssdp_server_options(const GatewayConfig& config, const EngineSetup& setup, Ipv4Address lan_address) {
    SsdpServerOptions options;
    options.lan_interface = config.lan_interface;
    options.lan_address = lan_address;
    options.lan_networks = setup.firewall.lan_networks;
    options.gateway_addresses = {lan_address, setup.nat.wan_address};
    options.identity.uuid = igd_uuid(config, lan_address);
    options.identity.igd_version = config.upnp.igd_version;
    options.identity.location = "http://" + lan_address.to_string() + ":" +
                                std::to_string(config.upnp.http_port) + std::string(description_path);
    options.identity.max_age = config.upnp.advertisement_seconds;
    return options;
}

}  // namespace

void Gateway::add_front_ends() {
    const std::string lan_interface = config_.lan_interface;
    front_ends_ = std::make_unique<FrontEndSupervisor>([lan_interface] { return lan_readiness(lan_interface); });
    if (config_.upnp.enabled)
        front_ends_->add({"UPnP", [this](Ipv4Address lan) { start_upnp(lan); }, [this] { stop_upnp(); }});
    if (config_.port_control.server_enabled())
        front_ends_->add(
            {"NAT-PMP/PCP", [this](Ipv4Address lan) { start_port_control(lan); }, [this] { stop_port_control(); }});
}

// Source trust follows too: the interface's addresses now are the gateway's own.
void Gateway::move_lan_services(Ipv4Address lan) {
    std::vector<Ipv4Address> lan_addresses = interface_ipv4_addresses(config_.lan_interface);
    locked_engine_->with([&](PacketEngine& engine) { engine.move_lan_services(lan, std::move(lan_addresses)); });
}

void Gateway::start_upnp(Ipv4Address lan) {
    move_lan_services(lan);
    IgdEnvironment environment = igd_environment(config_, setup_, lan);
    environment.external_address = &wan_->external_address();
    environment.upstream = upstream_.get();
    igd_ = std::make_unique<InternetGatewayDevice>(mapping_config_, std::move(environment), *mapping_service_,
                                                   *pinholes_, *commands_, *traffic_);
    igd_->start();
    control_->set_igd(igd_.get());
    // ssdp:alive at once: before the workers run, the kernel's queue holds it until they
    // decide (the gateway's own packets are queued).
    ssdp_ = std::make_unique<SsdpServer>(ssdp_server_options(config_, setup_, lan));
    ssdp_->start();
    control_->set_ssdp(ssdp_.get());
}

void Gateway::stop_upnp() {
    if (control_) control_->set_ssdp(nullptr);
    ssdp_.reset();  // ssdp:byebye while the rules and the workers still run
    if (control_) control_->set_igd(nullptr);
    igd_.reset();  // pupnp's own byebye is dropped by the rules
}

void Gateway::start_port_control(Ipv4Address lan) {
    move_lan_services(lan);
    PortControlServerOptions server;
    server.lan_interface = config_.lan_interface;
    server.lan_address = lan;
    server.lan_networks = setup_.firewall.lan_networks;
    server.external_address = wan_->external_address().load();
    server.natpmp_enabled = config_.port_control.natpmp_enabled;
    port_control_ = std::make_unique<PortControlServer>(server, *mapping_service_);
    port_control_->set_upstream_carrier(upstream_.get());
    if (config_.port_control.pcp_enabled) {
        PcpConfig pcp;
        pcp.allow_third_party = config_.port_control.pcp_allow_third_party;
        // PCP MAP for an IPv6 host opens a pinhole through the pinhole service (pcp_pinholes.cpp).
        port_control_->set_pcp_handler(make_pcp_handler(
            lan, pcp, engine_outbound_mapping(*engine_, locked_engine_->mutex()),
            [this](const PinholeRequest& request, const Ipv6Address& client) { return pinholes_->add(request, client, "PCP"); }));
    }
    port_control_->start();
    control_->set_port_control(port_control_.get());
}

void Gateway::stop_port_control() {
    if (control_) control_->set_port_control(nullptr);
    if (port_control_) log_summary(port_control_->counts());
    port_control_.reset();
}

}  // namespace gw

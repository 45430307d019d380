// Reload of the engine: rules, forwards, filtering, DMZ, policies, and the idle timeouts.
// The rest of the NAT half (WAN address, port range, table sizes and limits) is sized and
// indexed at construction, so a change there needs a restart and is refused here by key
// name with the running and the new value.
#include "packet_engine.hpp"

namespace gw {
namespace {

// A list as a refusal shows it: short, the first few items and how many more.
template <class Item>
std::string list_text(const std::vector<Item>& items) {
    constexpr std::size_t shown = 4;
    std::string text = "[";
    for (std::size_t i = 0; i < items.size() && i < shown; ++i) text += (i == 0 ? "" : ", ") + items[i].to_string();
    if (items.size() > shown) text += ", ... " + std::to_string(items.size() - shown) + " more";
    return text + "]";
}

std::string endpoint_text(const std::optional<Endpoint>& endpoint) {
    return endpoint ? to_string(*endpoint) : std::string("off");
}

std::vector<std::string> fixed_keys_changed(const EngineSetup& running, const EngineSetup& wanted) {
    std::vector<std::string> refused;
    auto refuse = [&](const char* key, const std::string& from, const std::string& to) {
        refused.push_back(std::string(key) + " cannot change while running (" + from + " -> " + to +
                          "): restart gatewayd to apply it");
    };
    if (running.lan_interface != wanted.lan_interface)
        refuse("lan.interface", running.lan_interface, wanted.lan_interface);
    if (running.wan_interface != wanted.wan_interface)
        refuse("wan.interface", running.wan_interface, wanted.wan_interface);
    if (running.nat.wan_address != wanted.nat.wan_address)
        refuse("wan.address", running.nat.wan_address.to_string(), wanted.nat.wan_address.to_string());
    if (running.nat.port_range != wanted.nat.port_range)
        refuse("nat.port_range", running.nat.port_range.to_string(), wanted.nat.port_range.to_string());
    if (running.nat.low_port_range != wanted.nat.low_port_range) {
        auto shown = [](const std::optional<PortRange>& r) { return r ? r->to_string() : std::string("none"); };
        refuse("nat.low_port_range", shown(running.nat.low_port_range), shown(wanted.nat.low_port_range));
    }
    if (running.nat.max_mappings != wanted.nat.max_mappings)
        refuse("nat.max_mappings", std::to_string(running.nat.max_mappings), std::to_string(wanted.nat.max_mappings));
    // The limits are sized into the flow and mapping tables when they are built.
    if (running.nat.limits.flows_per_host != wanted.nat.limits.flows_per_host)
        refuse("nat.max_flows_per_host", std::to_string(running.nat.limits.flows_per_host),
               std::to_string(wanted.nat.limits.flows_per_host));
    if (running.nat.limits.ports_per_host != wanted.nat.limits.ports_per_host)
        refuse("nat.max_ports_per_host", std::to_string(running.nat.limits.ports_per_host),
               std::to_string(wanted.nat.limits.ports_per_host));
    if (running.nat.limits.embryonic_inbound != wanted.nat.limits.embryonic_inbound)
        refuse("nat.max_embryonic_inbound", std::to_string(running.nat.limits.embryonic_inbound),
               std::to_string(wanted.nat.limits.embryonic_inbound));
    if (running.firewall.lan_networks != wanted.firewall.lan_networks)
        refuse("lan.networks", list_text(running.firewall.lan_networks), list_text(wanted.firewall.lan_networks));
    // The IPv6 flow table is sized, and the ip6tables rules installed or not, at start.
    if (running.firewall.ipv6.lan_networks != wanted.firewall.ipv6.lan_networks)
        refuse("lan.ipv6_networks", list_text(running.firewall.ipv6.lan_networks),
               list_text(wanted.firewall.ipv6.lan_networks));
    if (running.firewall.ipv6.max_flows != wanted.firewall.ipv6.max_flows)
        refuse("firewall.ipv6.max_flows", std::to_string(running.firewall.ipv6.max_flows),
               std::to_string(wanted.firewall.ipv6.max_flows));
    // The front ends' endpoints: the daemon refuses the keys behind them (upnp.enabled,
    // upnp.http_port, natpmp.enabled, pcp.enabled) first; this is the engine's own guard.
    if (running.upnp_http != wanted.upnp_http)
        refuse("upnp.http_port", endpoint_text(running.upnp_http), endpoint_text(wanted.upnp_http));
    if (running.port_control != wanted.port_control)
        refuse("natpmp.enabled", endpoint_text(running.port_control), endpoint_text(wanted.port_control));
    return refused;
}

}  // namespace

std::vector<std::string> PacketEngine::reconfigure_refusals(const EngineSetup& setup) const {
    return fixed_keys_changed(setup_, setup);
}

PacketEngine::ReconfigureResult PacketEngine::reconfigure(const EngineSetup& setup) {
    ReconfigureResult result;
    result.refused = fixed_keys_changed(setup_, setup);
    if (!result.refused.empty()) return result;

    // Built beside the old tables; nothing below can fail half way.
    ForwardTable forwards(setup.firewall);
    RuleTable rules(setup.firewall);
    rules.keep_counters_of(rules_);
    std::vector<DynamicForward> dynamic = forwards_.dynamic_forwards();
    reserve_static_forward_ports(setup_.firewall, false);
    for (const auto& d : dynamic) mappings_.unreserve(d.protocol, d.external);
    reserve_static_forward_ports(setup.firewall, true);
    for (const auto& d : dynamic) {
        if (forwards.open(d)) mappings_.reserve(d.protocol, d.external);
        else result.closed_mappings.push_back(d);
    }
    forwards.keep_counters_of(forwards_);
    forwards_ = std::move(forwards);
    rules_ = std::move(rules);
    ipv6_.reconfigure(setup.firewall.ipv6);
    flows_.set_timeouts(setup.nat.timeouts);
    ipv6_.set_timeouts(setup.nat.timeouts);
    setup_ = setup;
    // Flows that came in through a forward (or the DMZ) end when that opening is gone or
    // now leads elsewhere: disabling a forward during an attack must shut it at once.
    // Flows through a NAT mapping keep going: the LAN host opened those.
    flows_.remove_if([&](const Flow& f) {
        if (f.origin != FlowOrigin::wan && f.origin != FlowOrigin::hairpin_server) return false;
        if (f.protocol != Protocol::tcp && f.protocol != Protocol::udp) return false;
        const Mapping* m = mappings_.find_by_external(f.protocol, f.external);
        if (m && m->internal == f.internal) return false;
        auto target = forwards_.target_of(f.protocol, f.external);
        return !target || target->internal != f.internal;
    });
    return result;
}

std::size_t PacketEngine::change_wan_address(Ipv4Address address) {
    const Ipv4Address old_address = setup_.nat.wan_address;
    if (address == old_address) return 0;
    setup_.nat.wan_address = address;
    return flows_.remove_if([&](const Flow& f) {
        switch (f.origin) {
            case FlowOrigin::gateway:
            case FlowOrigin::to_gateway: return f.internal.address == old_address;  // the LAN side's stay
            default: return true;  // translated on, or let in at, the old address
        }
    });
}

void PacketEngine::move_lan_services(Ipv4Address lan_address, std::vector<Ipv4Address> lan_addresses) {
    if (setup_.upnp_http) setup_.upnp_http->address = lan_address;
    if (setup_.port_control) setup_.port_control->address = lan_address;
    setup_.lan_addresses = std::move(lan_addresses);
}

}  // namespace gw

#include "daemon/gateway_packet_path.hpp"

#include <filesystem>

#include "base/log.hpp"
#include "base/startup_error.hpp"
#include "daemon/host_network.hpp"
#include "igd/http_front_end.hpp"

namespace gw {

QueueRuleSet queue_rule_set(const GatewayConfig& c, Ipv4Address wan_address) {
    QueueRuleSet rules{c.lan_interface, c.wan_interface, c.queue_number, wan_address.to_string(), c.queue_workers};
    rules.ipv6_forwarding = c.firewall.ipv6.enabled();
    if (c.upnp.enabled) {
        rules.lan_only_upnp_http_port = c.upnp.http_port;
        rules.ssdp_from_gatewayd_only = true;
        rules.loopback_only_tcp_port = pupnp_internal_port(c.upnp.http_port);
    }
    return rules;
}

std::string queue_range_text(const GatewayConfig& c) {
    if (c.queue_workers == 1) return "queue " + std::to_string(c.queue_number) + ", one worker";
    return "queues " + std::to_string(c.queue_number) + "-" + std::to_string(c.queue_number + c.queue_workers - 1) +
           ", one worker each";
}

PacketPathGuard::PacketPathGuard(const GatewayConfig& c, Ipv4Address wan_address)
    : lan_(c.lan_interface),
      wan_(c.wan_interface),
      ipv6_(c.firewall.ipv6.enabled()),
      // The gateway's own IPv6 obeys the input policy wherever the kernel has IPv6; a
      // kernel without it (ipv6.disable=1) has no ip6tables and nothing to judge.
      ipv6_rules_(ipv6_ || std::filesystem::exists("/proc/net/if_inet6")) {
    QueueRuleSet rules = queue_rule_set(c, wan_address);
    if (auto error = install_queue_rules(rules); !error.empty())
        throw StartupError("cannot install the queue rules: " + error);
    try {
        // Without lan.ipv6_networks IPv6 forwarding is not ours (forwarding untouched);
        // the gateway's own IPv6 is still judged (input rules and policy).
        if (ipv6_rules_) {
            if (auto error = install_ipv6_queue_rules(rules); !error.empty())
                throw StartupError("cannot install the IPv6 queue rules: " + error);
        } else if (auto error = remove_ipv6_queue_rules(); !error.empty()) {
            log::warning("cannot remove stale IPv6 queue rules: " + error);
        }
        // Hairpinning rewrites a LAN packet's source to the WAN address before routing:
        // the kernel must accept its own address as a source there, and must not send
        // ICMP redirects for traffic that goes back out of the interface it came in on.
        for (auto& [name, value, saved] : lan_settings_) {
            saved = interface_setting(lan_, name);
            set_interface_setting(lan_, name, value);
        }
        set_ip_forwarding(true);
        if (ipv6_) set_ipv6_forwarding(true);
    } catch (...) {
        undo();
        throw;
    }
}

void PacketPathGuard::undo() noexcept {
    // Fail closed: with the daemon gone nothing may cross untranslated.
    try {
        set_ip_forwarding(false);
        if (ipv6_) set_ipv6_forwarding(false);
        for (auto& [name, value, saved] : lan_settings_)
            if (saved) set_interface_setting(lan_, name, *saved);
    } catch (const StartupError& e) {
        log::error(e.what());
    }
    if (hold_connections_) {
        if (auto error = hold_handed_over_connections(wan_); !error.empty())
            log::error("cannot swap the queue rules for the connection hold: " + error);
        return;
    }
    if (auto error = remove_queue_rules(); !error.empty()) log::error("cannot remove the queue rules: " + error);
    if (ipv6_rules_)
        if (auto error = remove_ipv6_queue_rules(); !error.empty())
            log::error("cannot remove the IPv6 queue rules: " + error);
}

}  // namespace gw

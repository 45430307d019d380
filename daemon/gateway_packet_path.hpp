// The packet path's place in the host, for as long as the gateway runs: the queue rules,
// IP forwarding and the LAN interface settings hairpinning needs. Installed by the
// constructor and undone by the destructor on every exit path, exceptions included, so
// that with the daemon gone nothing crosses untranslated (fail-closed).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "daemon/queue_rules.hpp"

namespace gw {

// The queue rules for this config and WAN address, at start and whenever the WAN
// address moves (install_queue_rules replaces every GATEWAYD chain at once, so a rule
// left out here would be lost on the first DHCP renewal).
QueueRuleSet queue_rule_set(const GatewayConfig& c, Ipv4Address wan_address);

// "queue 0, one worker" / "queues 0-3, one worker each", for the start line.
std::string queue_range_text(const GatewayConfig& c);

class PacketPathGuard {
public:
    // Installs the rules, saves and sets the LAN settings, switches forwarding on; throws
    // StartupError after undoing what it had done.
    PacketPathGuard(const GatewayConfig& c, Ipv4Address wan_address);
    ~PacketPathGuard() { undo(); }

    // A stop that hands established connections over swaps the queue rules for a hold
    // on the resets the gateway's own stack would send them (queue_rules.hpp).
    void hold_connections_on_exit() { hold_connections_ = true; }

private:
    void undo() noexcept;

    struct Setting {
        std::string name;
        int value;
        std::optional<int> saved;
    };
    std::string lan_, wan_;
    bool hold_connections_ = false;
    bool ipv6_ = false;        // IPv6 forwarding judged here
    bool ipv6_rules_ = false;  // any ip6tables rules of ours (forwarding, the gateway's own IPv6)
    std::vector<Setting> lan_settings_{{"accept_local", 1, std::nullopt}, {"send_redirects", 0, std::nullopt}};
};

}  // namespace gw

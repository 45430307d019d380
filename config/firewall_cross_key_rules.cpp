// Firewall rules that involve more than one key: a rule that could never match, names
// used twice, forwards that claim the same external port, targets outside the LAN.
#include <map>
#include <string>

#include "config/firewall_schema.hpp"
#include "config/value_parsers.hpp"

namespace gw {
namespace {

std::string rule_path(std::size_t index, std::string_view key) {
    return "firewall.rules[" + std::to_string(index) + "]." + std::string(key);
}

std::string forward_path(std::size_t index, std::string_view key) {
    return "firewall.forwards[" + std::to_string(index) + "]." + std::string(key);
}

std::string protocol_text(const std::optional<Protocol>& protocol) {
    return std::string(enum_name(rule_protocol_names, protocol));
}

bool carries_ports(const std::optional<Protocol>& protocol) {
    return protocol == Protocol::tcp || protocol == Protocol::udp;
}

bool inside_any(const std::vector<Ipv4Network>& networks, Ipv4Address address) {
    for (const Ipv4Network& network : networks) {
        if (network.contains(address)) return true;
    }
    return false;
}

std::string networks_text(const std::vector<Ipv4Network>& networks) {
    std::string text;
    for (std::size_t i = 0; i < networks.size(); ++i) text += (i == 0 ? "" : ", ") + networks[i].to_string();
    return text;
}

// A port condition on a protocol without ports, or an ICMP type on one that is not ICMP,
// would make the rule match nothing; an operator who wrote it meant something else.
void check_rule_can_match(const GatewayConfig& config, std::size_t i, std::vector<CrossKeyError>& errors) {
    const FirewallRule& rule = config.firewall.rules[i];
    std::string protocol = " (this rule's protocol is " + protocol_text(rule.protocol) + ")";
    for (auto [key, ports] : {std::pair{"source_ports", &rule.source_ports},
                              std::pair{"destination_ports", &rule.destination_ports}}) {
        if (!ports->empty() && !carries_ports(rule.protocol)) {
            errors.push_back({rule_path(i, key), std::string(key) + " needs protocol tcp or udp" + protocol,
                              {rule_path(i, "protocol")}});
        }
    }
    // One family per rule (rule_table.hpp): a rule naming both could never match.
    const bool has_ipv4 = !rule.sources.empty() || !rule.destinations.empty();
    const bool has_ipv6 = !rule.ipv6_sources.empty() || !rule.ipv6_destinations.empty();
    if (has_ipv4 && has_ipv6) {
        errors.push_back({rule_path(i, rule.ipv6_destinations.empty() ? "sources" : "destinations"),
                          "a rule matches one address family: it names IPv4 and IPv6 networks, so no packet could "
                          "match it; write one rule per family",
                          {rule_path(i, "sources"), rule_path(i, "destinations")}});
    }
    if (has_ipv6 && rule.protocol == Protocol::icmp) {
        errors.push_back({rule_path(i, "protocol"),
                          "protocol icmp is IPv4's ICMP and never matches IPv6 packets; ICMPv6 is forwarded as RFC "
                          "4890 recommends (see firewall.ipv6.inbound_echo_request)",
                          {rule_path(i, "sources"), rule_path(i, "destinations")}});
    }
    if (rule.icmp_type && rule.protocol != Protocol::icmp) {
        errors.push_back({rule_path(i, "icmp_type"), "icmp_type needs protocol icmp" + protocol,
                          {rule_path(i, "protocol")}});
    }
    // Inbound packets arrive on the WAN side and outbound ones on the LAN side.
    if (!rule.interface) return;
    struct Side {
        RuleDirection direction;
        const std::string& wrong;
        std::string_view wrong_key;
        std::string_view right_key;
    };
    for (const Side& side : {Side{RuleDirection::inbound, config.lan_interface, "lan.interface", "wan.interface"},
                             Side{RuleDirection::outbound, config.wan_interface, "wan.interface", "lan.interface"}}) {
        if (rule.direction != side.direction || *rule.interface != side.wrong) continue;
        errors.push_back({rule_path(i, "interface"),
                          quoted(*rule.interface) + " is " + std::string(side.wrong_key) + ", but " +
                              std::string(rule_direction_name(side.direction)) + " packets arrive on " +
                              std::string(side.right_key) + "; this rule could never match",
                          {rule_path(i, "direction"), std::string(side.wrong_key)}});
    }
}

// `item` is "rule" or "forward"; `path_of` names the index's key.
template <class Item>
void check_unique_names(const std::vector<Item>& items, std::string_view item,
                        std::string (*path_of)(std::size_t, std::string_view), std::vector<CrossKeyError>& errors) {
    std::map<std::string_view, std::size_t> first_use;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].name.empty()) continue;  // missing, reported as such
        auto [first, inserted] = first_use.emplace(items[i].name, i);
        if (inserted) continue;
        errors.push_back({path_of(i, "name"),
                          "duplicate " + std::string(item) + " name " + quoted(items[i].name) + " (first used at line " +
                              std::to_string(items[first->second].position.line) + ")",
                          {path_of(first->second, "name")}});
    }
}

bool overlap(const PortRange& a, const PortRange& b) {
    return a.first <= b.last && b.first <= a.last;
}

// Two forwards on one external port would leave the choice of target to table order.
// Disabled forwards are left out: keeping alternatives and enabling one is legitimate.
void check_forward_overlaps(const std::vector<PortForward>& forwards, std::vector<CrossKeyError>& errors) {
    for (std::size_t j = 0; j < forwards.size(); ++j) {
        for (std::size_t i = 0; i < j; ++i) {
            const PortForward& a = forwards[i];
            const PortForward& b = forwards[j];
            if (!a.enabled || !b.enabled || a.protocol != b.protocol || !overlap(a.external_ports, b.external_ports)) {
                continue;
            }
            bool single = b.external_ports.size() == 1;
            std::string ports = (single ? " port " : " ports ") + b.external_ports.to_string();
            errors.push_back({forward_path(j, "external_port"),
                              std::string(protocol_name(b.protocol)) + ports + (single ? " overlaps" : " overlap") +
                                  " forward " + quoted(a.name) +
                                  " (line " + std::to_string(a.position.line) + "), which forwards " +
                                  a.external_ports.to_string(),
                              {forward_path(i, "external_port"), forward_path(i, "protocol"),
                               forward_path(j, "protocol"), forward_path(i, "enabled"), forward_path(j, "enabled")}});
            break;  // one overlap per forward is enough to fix it
        }
    }
}

void check_forward_target(const GatewayConfig& config, std::size_t i, std::vector<CrossKeyError>& errors) {
    const PortForward& forward = config.firewall.forwards[i];
    std::uint32_t last_internal = std::uint32_t(forward.internal.port.value) + forward.external_ports.size() - 1;
    if (last_internal > 65535) {
        errors.push_back({forward_path(i, "internal"),
                          "external_port " + forward.external_ports.to_string() + " maps one to one onto ports " +
                              std::to_string(forward.internal.port.value) + "-" + std::to_string(last_internal) +
                              ", past 65535",
                          {forward_path(i, "external_port")}});
    }
    const std::vector<Ipv4Network>& lan = config.firewall.lan_networks;
    if (!lan.empty() && !inside_any(lan, forward.internal.address)) {
        errors.push_back({forward_path(i, "internal"),
                          forward.internal.address.to_string() + " is not inside lan.networks (" + networks_text(lan) +
                              ")",
                          {"lan.networks"}});
    }
}

}  // namespace

void check_firewall_cross_key_rules(const GatewayConfig& config, std::vector<CrossKeyError>& errors) {
    const FirewallConfig& firewall = config.firewall;
    for (std::size_t i = 0; i < firewall.rules.size(); ++i) check_rule_can_match(config, i, errors);
    check_unique_names(firewall.rules, "rule", rule_path, errors);
    check_unique_names(firewall.forwards, "forward", forward_path, errors);
    check_forward_overlaps(firewall.forwards, errors);
    for (std::size_t i = 0; i < firewall.forwards.size(); ++i) check_forward_target(config, i, errors);
    if (firewall.dmz_host && !firewall.lan_networks.empty() && !inside_any(firewall.lan_networks, *firewall.dmz_host)) {
        errors.push_back({"firewall.dmz",
                          firewall.dmz_host->to_string() + " is not inside lan.networks (" +
                              networks_text(firewall.lan_networks) + ")",
                          {"lan.networks"}});
    }
}

}  // namespace gw

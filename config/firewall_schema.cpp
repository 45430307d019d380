// firewall.* and lan.networks: the keys, their readers and how they are shown.
#include "config/firewall_schema.hpp"

#include <algorithm>
#include <charconv>

#include "config/value_parsers.hpp"

namespace gw {
namespace {

using C = GatewayConfig;
using N = YAML::Node;

template <class T, class Field>
Expected<void> store(Expected<T> parsed, Field& field) {
    if (!parsed) return unexpected(parsed.error());
    field = std::move(*parsed);
    return {};
}

template <class T>
Expected<void> append(Expected<T> parsed, std::vector<T>& list) {
    if (!parsed) return unexpected(parsed.error());
    list.push_back(std::move(*parsed));
    return {};
}

// Item keys apply to the newest item; the list key's apply() appended it.
FirewallRule& newest_rule(C& c) { return c.firewall.rules.back(); }
PortForward& newest_forward(C& c) { return c.firewall.forwards.back(); }

// For show(): the newest item, or a default one, so that show(GatewayConfig{}) is the default.
const FirewallRule& shown_rule(const C& c) {
    static const FirewallRule defaults;
    return c.firewall.rules.empty() ? defaults : c.firewall.rules.back();
}
const PortForward& shown_forward(const C& c) {
    static const PortForward defaults;
    return c.firewall.forwards.empty() ? defaults : c.firewall.forwards.back();
}

SourcePosition position_of(const N& node) {
    return {std::max(node.Mark().line, 0) + 1, std::max(node.Mark().column, 0) + 1};
}

template <class T>
std::string show_list(const std::vector<T>& items) {
    std::string text = "[";
    for (std::size_t i = 0; i < items.size(); ++i) text += (i == 0 ? "" : ", ") + items[i].to_string();
    return text + "]";
}

Expected<void> store_icmp_type(const N& node, std::optional<std::uint8_t>& field) {
    for (const auto& entry : icmp_type_names) {
        if (entry.name == node.Scalar()) {
            field = entry.value;
            return {};
        }
    }
    auto number = read_integer(node);
    if (!number || *number < 0 || *number > 255) {
        return refused("expected an ICMP type from 0 to 255 or one of " + choices_text(icmp_type_names) + ", got " +
               quoted(node.Scalar()));
    }
    field = std::uint8_t(*number);
    return {};
}

std::string show_icmp_type(const std::optional<std::uint8_t>& type) {
    if (!type) return "";
    std::string_view name = enum_name(icmp_type_names, *type);
    return name != "unknown" ? std::string(name) : std::to_string(*type);
}

// Enough for a flood of small packets on a 10 Gb/s link; more is a typo.
constexpr std::uint32_t max_rate = 10'000'000;

std::optional<std::uint32_t> parse_count(std::string_view text) {
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max_rate) return std::nullopt;
    return value;
}

// "10/s", "30/min", "10/s burst 20". The burst defaults to one unit's worth (N).
Expected<void> store_rate(const N& node, std::optional<RateLimit>& field) {
    const std::string& text = node.Scalar();
    std::string malformed = "expected a rate \"N/s\" or \"N/min\" from 1 to " + std::to_string(max_rate) +
                            ", optionally followed by \"burst M\", e.g. \"10/s burst 20\"; got " + quoted(text);
    std::vector<std::string_view> words = words_of(text);
    if (words.size() != 1 && !(words.size() == 3 && words[1] == "burst")) return refused(malformed);
    auto slash = words[0].find('/');
    if (slash == std::string_view::npos) return refused(malformed);
    std::string_view unit = words[0].substr(slash + 1);
    auto count = parse_count(words[0].substr(0, slash));
    if (!count || (unit != "s" && unit != "min")) return refused(malformed);
    if (*count == 0) return refused(quoted(text) + " lets no packet match; a rate must be at least 1 (to refuse all, use action: drop)");
    RateLimit limit;
    (unit == "s" ? limit.per_second : limit.per_minute) = *count;
    limit.burst = *count;
    if (words.size() == 3) {
        auto burst = parse_count(words[2]);
        if (!burst) return refused(malformed);
        if (*burst == 0) return refused(quoted(text) + " has a burst of 0, which lets no packet match; the burst must be at least 1");
        limit.burst = *burst;
    }
    field = limit;
    return {};
}

std::string show_rate(const std::optional<RateLimit>& limit) {
    if (!limit) return "";
    std::string rate = limit->per_second != 0 ? std::to_string(limit->per_second) + "/s"
                                              : std::to_string(limit->per_minute) + "/min";
    return rate + " burst " + std::to_string(limit->burst);
}

// "192.168.50.20:3389", or "192.168.50.20" for the external port (filled in by
// complete_firewall_defaults, port 0 meaning "not given" until then).
Expected<void> store_endpoint(const N& node, Endpoint& field) {
    const std::string& text = node.Scalar();
    auto colon = text.find(':');
    auto address = read_host_address(std::string_view(text).substr(0, colon));
    if (!address) return unexpected(address.error());
    Port port{0};
    if (colon != std::string::npos) {
        auto range = PortRange::parse(std::string_view(text).substr(colon + 1));
        if (!range || range->first != range->last || range->first == 0) {
            return refused("expected address:port with a port from 1 to 65535, such as 192.168.50.20:3389, got " + quoted(text));
        }
        port = Port{range->first};
    }
    field = Endpoint{*address, port};
    return {};
}

// A rule's sources or destinations: IPv4 networks go to one list, IPv6 ones to the other.
Expected<void> append_rule_network(const N& node, std::vector<Ipv4Network>& v4, std::vector<Ipv6Network>& v6) {
    const std::string& text = node.Scalar();
    if (text.find(':') != std::string::npos) return append(parse_ipv6_network(text), v6);
    // What looks like dotted quads gets the IPv4 reader's own message ("192.168.50.300").
    if (text.find_first_not_of("0123456789./") == std::string::npos) return append(read_network(node), v4);
    return refused("expected an IPv4 or IPv6 network such as 198.51.100.0/24 or 2001:db8::/32, or an address, got " +
           quoted(text));
}

// Both families in one list, as the file writes them.
std::string show_rule_networks(const std::vector<Ipv4Network>& v4, const std::vector<Ipv6Network>& v6) {
    std::string text = show_list(v4);
    if (v6.empty()) return text;
    std::string more = show_list(v6);
    if (v4.empty()) return more;
    return text.substr(0, text.size() - 1) + ", " + more.substr(1);
}

// The LAN's IPv6 prefixes: global (or unique local) unicast only, since a link-local or
// multicast "LAN prefix" would let the firewall forward what it must never forward.
Expected<void> append_lan_ipv6_network(const N& node, std::vector<Ipv6Network>& list) {
    auto parsed = parse_ipv6_network(node.Scalar());
    if (!parsed) return unexpected(parsed.error());
    const Ipv6Address& base = parsed->base;
    if (base.is_link_local() || base.is_multicast() || base.is_unspecified() || parsed->prefix_length < 8)
        return refused(quoted(node.Scalar()) +
               " is not a LAN prefix: link-local, multicast, :: and prefixes shorter than /8 are never forwarded");
    list.push_back(*parsed);
    return {};
}

std::vector<SchemaKey> rule_keys() {
    return {
        {"firewall.rules[].name", ValueType::name, true,
         "Unique among rules: 1 to 63 letters, digits, `-`, `_` or `.`; names the rule in logs and counters.",
         [](const N& v, C& c) { return store(read_item_name(v), newest_rule(c).name); },
         [](const C& c) { return shown_rule(c).name; }},
        {"firewall.rules[].direction", ValueType::direction, true,
         "`inbound`: WAN to LAN, seen after translation; `outbound`: LAN to WAN, before it; `input`: to the gateway.",
         [](const N& v, C& c) { return store_choice(v, rule_direction_names, newest_rule(c).direction); },
         [](const C& c) { return std::string(rule_direction_name(shown_rule(c).direction)); }},
        {"firewall.rules[].protocol", ValueType::rule_protocol, false, "Protocol the rule matches.",
         [](const N& v, C& c) { return store_choice(v, rule_protocol_names, newest_rule(c).protocol); },
         [](const C& c) { return std::string(enum_name(rule_protocol_names, shown_rule(c).protocol)); }},
        {"firewall.rules[].sources", ValueType::rule_networks, false,
         "Source networks (`198.51.100.0/24`, `2001:db8::/32`) or addresses; empty = any. A rule with IPv4 "
         "networks never matches IPv6 packets and one with IPv6 networks never IPv4 ones (one family per rule); "
         "a rule without networks matches both.",
         [](const N& v, C& c) { return append_rule_network(v, newest_rule(c).sources, newest_rule(c).ipv6_sources); },
         [](const C& c) { return show_rule_networks(shown_rule(c).sources, shown_rule(c).ipv6_sources); }},
        {"firewall.rules[].destinations", ValueType::rule_networks, false,
         "Destination networks or addresses, IPv4 or IPv6 (inbound IPv6 rules see the LAN host's own address: no "
         "NAT); empty = any.",
         [](const N& v, C& c) {
             return append_rule_network(v, newest_rule(c).destinations, newest_rule(c).ipv6_destinations);
         },
         [](const C& c) { return show_rule_networks(shown_rule(c).destinations, shown_rule(c).ipv6_destinations); }},
        {"firewall.rules[].source_ports", ValueType::ports, false,
         "Source ports or ranges (`1024-65535`); needs protocol `tcp` or `udp`; empty = any.",
         [](const N& v, C& c) { return append(read_port_range(v, 0), newest_rule(c).source_ports); },
         [](const C& c) { return show_list(shown_rule(c).source_ports); }},
        {"firewall.rules[].destination_ports", ValueType::ports, false,
         "Destination ports or ranges; needs protocol `tcp` or `udp`; empty = any.",
         [](const N& v, C& c) { return append(read_port_range(v, 0), newest_rule(c).destination_ports); },
         [](const C& c) { return show_list(shown_rule(c).destination_ports); }},
        {"firewall.rules[].icmp_type", ValueType::icmp_type, false,
         "ICMP type, a number or " + choices_text(icmp_type_names) + "; needs protocol `icmp`; absent = any.",
         [](const N& v, C& c) { return store_icmp_type(v, newest_rule(c).icmp_type); },
         [](const C& c) { return show_icmp_type(shown_rule(c).icmp_type); }},
        {"firewall.rules[].interface", ValueType::interface_name, false,
         "Arrival interface; absent = any. Not lan.interface for inbound rules, nor wan.interface for outbound ones.",
         [](const N& v, C& c) { return store(read_interface_name(v), newest_rule(c).interface); },
         [](const C& c) { return shown_rule(c).interface.value_or(""); }},
        {"firewall.rules[].action", ValueType::action, true,
         "`reject` answers TCP with a RST and other protocols with an ICMP unreachable; `drop` is silent.",
         [](const N& v, C& c) { return store_choice(v, rule_action_names, newest_rule(c).action); },
         [](const C& c) { return std::string(rule_action_name(shown_rule(c).action)); }},
        {"firewall.rules[].log", ValueType::boolean, false,
         "Log the packets this rule decides, within firewall.log_lines_per_second.",
         [](const N& v, C& c) { return store_boolean(v, newest_rule(c).log); },
         [](const C& c) { return show_bool(shown_rule(c).log); }},
        {"firewall.rules[].rate_limit", ValueType::rate, false,
         "Token bucket (burst defaults to N); a packet over the limit does not match and goes on to the next rule.",
         [](const N& v, C& c) { return store_rate(v, newest_rule(c).rate_limit); },
         [](const C& c) { return show_rate(shown_rule(c).rate_limit); }},
    };
}

std::vector<SchemaKey> forward_keys() {
    return {
        {"firewall.forwards[].name", ValueType::name, true,
         "Unique among forwards: 1 to 63 letters, digits, `-`, `_` or `.`.",
         [](const N& v, C& c) { return store(read_item_name(v), newest_forward(c).name); },
         [](const C& c) { return shown_forward(c).name; }},
        {"firewall.forwards[].protocol", ValueType::forward_protocol, true, "Protocol forwarded.",
         [](const N& v, C& c) { return store_choice(v, forward_protocol_names, newest_forward(c).protocol); },
         [](const C& c) { return std::string(protocol_name(shown_forward(c).protocol)); }},
        {"firewall.forwards[].external_port", ValueType::port_range, true,
         "Port or range `first-last` on the WAN address; enabled forwards of one protocol may not overlap.",
         [](const N& v, C& c) { return store(read_port_range(v, 1), newest_forward(c).external_ports); },
         [](const C& c) { return shown_forward(c).external_ports.to_string(); }},
        {"firewall.forwards[].internal", ValueType::endpoint, true,
         "LAN host `address:port` (a range maps one to one from this port); without `:port`, the external port.",
         [](const N& v, C& c) { return store_endpoint(v, newest_forward(c).internal); },
         [](const C& c) { return to_string(shown_forward(c).internal); }},
        {"firewall.forwards[].allowed_sources", ValueType::networks, false,
         "Who may use the forward: networks or addresses; empty = anyone.",
         [](const N& v, C& c) { return append(read_network(v), newest_forward(c).allowed_sources); },
         [](const C& c) { return show_list(shown_forward(c).allowed_sources); }},
        {"firewall.forwards[].enabled", ValueType::boolean, false, "`false` keeps the forward in the file but closed.",
         [](const N& v, C& c) { return store_boolean(v, newest_forward(c).enabled); },
         [](const C& c) { return show_bool(shown_forward(c).enabled); }},
        {"firewall.forwards[].upstream", ValueType::boolean, false,
         "`true`: also requested from the NAT upstream, when there is one (wan.upstream_mappings), port for port.",
         [](const N& v, C& c) { return store_boolean(v, newest_forward(c).upstream); },
         [](const C& c) { return show_bool(shown_forward(c).upstream); }},
    };
}

}  // namespace

SchemaKey lan_networks_key() {
    return {"lan.networks", ValueType::networks, false,
            "The LAN's address blocks; empty = the subnet of lan.interface. DMZ and forward targets must be inside.",
            [](const N& v, C& c) { return append(read_network(v), c.firewall.lan_networks); },
            [](const C& c) { return show_list(c.firewall.lan_networks); }};
}

SchemaKey lan_ipv6_networks_key() {
    return {"lan.ipv6_networks", ValueType::ipv6_networks, false,
            "The LAN's IPv6 prefixes (`2001:db8:1::/64`), routed without NAT through the stateful IPv6 firewall; "
            "empty = gatewayd does not handle IPv6 (no ip6tables rules, IPv6 forwarding left as it is).",
            [](const N& v, C& c) { return append_lan_ipv6_network(v, c.firewall.ipv6.lan_networks); },
            [](const C& c) { return show_list(c.firewall.ipv6.lan_networks); }};
}

std::vector<SchemaKey> firewall_schema_keys() {
    std::vector<SchemaKey> keys = {
        {"firewall.filtering", ValueType::filtering, false,
         "Which WAN hosts may send to a mapping (RFC 4787 REQ-8): anyone, hosts it has sent to, or the exact "
         "address:port.",
         [](const N& v, C& c) { return store_choice(v, filtering_behaviour_names, c.firewall.filtering); },
         [](const C& c) { return std::string(filtering_behaviour_name(c.firewall.filtering)); }},
        {"firewall.policy.inbound", ValueType::action, false, "Action for an inbound packet that no rule matches.",
         [](const N& v, C& c) { return store_choice(v, rule_action_names, c.firewall.policies.inbound); },
         [](const C& c) { return std::string(rule_action_name(c.firewall.policies.inbound)); }},
        {"firewall.policy.outbound", ValueType::action, false, "Action for an outbound packet that no rule matches.",
         [](const N& v, C& c) { return store_choice(v, rule_action_names, c.firewall.policies.outbound); },
         [](const C& c) { return std::string(rule_action_name(c.firewall.policies.outbound)); }},
        {"firewall.policy.input", ValueType::action, false,
         "Action for a packet to the gateway itself that no rule matches.",
         [](const N& v, C& c) { return store_choice(v, rule_action_names, c.firewall.policies.input); },
         [](const C& c) { return std::string(rule_action_name(c.firewall.policies.input)); }},
        {"firewall.log_lines_per_second", ValueType::integer, false,
         "Most firewall log lines a second, 0 to 10000 (0 = none); the rest are counted.",
         [](const N& v, C& c) { return store_integer(v, 0, 10000, c.firewall.log_lines_per_second); },
         [](const C& c) { return std::to_string(c.firewall.log_lines_per_second); }},
        {"firewall.dmz", ValueType::ipv4_address, false,
         "LAN host that receives inbound packets no mapping or forward claims; absent = none.",
         [](const N& v, C& c) { return store(read_host_address(v.Scalar()), c.firewall.dmz_host); },
         [](const C& c) { return c.firewall.dmz_host ? c.firewall.dmz_host->to_string() : std::string(); }},
        {"firewall.ipv6.max_flows", ValueType::integer, false,
         "Most concurrent IPv6 flows, 1024 to 4194304 (memory taken at start); when full, a new flow evicts one "
         "as in the IPv4 table (nat.max_mappings: half-open WAN-started flows first, then the oldest flow of the "
         "LAN address that started the most; counted as flows_evicted), and what finds no room is dropped and "
         "counted (ipv6_flow_table_full).",
         [](const N& v, C& c) { return store_integer(v, 1024, 4194304, c.firewall.ipv6.max_flows); },
         [](const C& c) { return std::to_string(c.firewall.ipv6.max_flows); }},
        {"firewall.ipv6.inbound_echo_request", ValueType::echo_request, false,
         "An ICMPv6 echo request from the WAN to a LAN host: `policy` = the inbound rules, pinholes and policy "
         "decide; `accept` or `drop` always (RFC 4890 4.3.1).",
         [](const N& v, C& c) {
             return store_choice(v, inbound_echo_request_names, c.firewall.ipv6.inbound_echo_request);
         },
         [](const C& c) {
             return std::string(enum_name(inbound_echo_request_names, c.firewall.ipv6.inbound_echo_request));
         }},
        {"firewall.rules", ValueType::rules, false,
         "Ordered filter rules: the first that matches a packet decides, else the policy of its direction.",
         [](const N& item, C& c) {
             c.firewall.rules.push_back({});
             c.firewall.rules.back().position = position_of(item);
             return Expected<void>();
         },
         [](const C& c) { return c.firewall.rules.empty() ? "[]" : std::to_string(c.firewall.rules.size()) + " rules"; }},
    };
    for (SchemaKey& key : rule_keys()) keys.push_back(std::move(key));
    keys.push_back({"firewall.forwards", ValueType::forwards, false,
                    "Static port forwards from the WAN address to LAN hosts.",
                    [](const N& item, C& c) {
                        c.firewall.forwards.push_back({});
                        c.firewall.forwards.back().position = position_of(item);
                        return Expected<void>();
                    },
                    [](const C& c) {
                        return c.firewall.forwards.empty() ? "[]"
                                                           : std::to_string(c.firewall.forwards.size()) + " forwards";
                    }});
    for (SchemaKey& key : forward_keys()) keys.push_back(std::move(key));
    return keys;
}

void complete_firewall_defaults(GatewayConfig& config) {
    for (PortForward& forward : config.firewall.forwards) {
        if (forward.internal.port.value == 0) forward.internal.port = Port{forward.external_ports.first};
    }
}

}  // namespace gw

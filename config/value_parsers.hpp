// Readers for the scalar values the schema's keys are made of: integers, names,
// addresses, networks, ports, enum names, booleans. Each refuses with the reason,
// without the key path (the loader prefixes "path: "). Internal to config/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config_schema.hpp"
#include "firewall/firewall_config.hpp"
#include "nat/endpoint.hpp"
#include "nat/text_words.hpp"

namespace gw {

// 'text', cut to its first 100 bytes and its length past 120.
std::string quoted(std::string_view text);

// A plain decimal integer; quoted strings, booleans, floats and hex are refused.
Expected<std::int64_t> read_integer(const YAML::Node& node);

template <class Field>
Expected<void> store_integer(const YAML::Node& node, std::int64_t min, std::int64_t max, Field& field) {
    auto parsed = read_integer(node);
    if (!parsed) return unexpected(parsed.error());
    if (*parsed < min || *parsed > max) {
        return refused("expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
               std::to_string(*parsed));
    }
    field = Field(*parsed);
    return {};
}

// `true` or `false` (YAML 1.2); "yes", "on" and quoted strings are refused.
Expected<bool> read_boolean(const YAML::Node& node);
Expected<void> store_boolean(const YAML::Node& node, bool& field);
std::string show_bool(bool value);  // "true" or "false", as the file writes it

Expected<std::string> read_interface_name(const YAML::Node& node);

// Names of rules and forwards, as they appear in logs and counters.
Expected<std::string> read_item_name(const YAML::Node& node);

// Why `address` cannot be a host's unicast address, or nullopt when it can.
std::optional<std::string_view> unusable_host_address(Ipv4Address address);

// A unicast IPv4 address of a host (the DMZ host, a forward's target).
Expected<Ipv4Address> read_host_address(std::string_view text);

// "192.168.50.0/24", or a plain address meaning /32. Host bits must be clear.
Expected<Ipv4Network> read_network(const YAML::Node& node);
Expected<Ipv4Network> parse_network(std::string_view text);  // for a network inside a longer value

// "2001:db8:1::/64", or a plain address meaning /128. Host bits must be clear.
Expected<Ipv6Network> parse_ipv6_network(std::string_view text);

// "first-last" or a single port; `lowest` is 0 for matching, 1 where a port is opened.
Expected<PortRange> read_port_range(const YAML::Node& node, std::uint16_t lowest);
Expected<PortRange> parse_port_range(std::string_view text, std::uint16_t lowest);


// "expected one of a, b, c" for an enum with a name table.
template <class Enum, std::size_t N>
std::string choices_text(const EnumName<Enum> (&names)[N]) {
    std::string text;
    for (std::size_t i = 0; i < N; ++i) text += (i == 0 ? "" : ", ") + std::string(names[i].name);
    return text;
}

template <class Enum, std::size_t N>
Expected<void> store_choice(const YAML::Node& node, const EnumName<Enum> (&names)[N], Enum& field) {
    for (const EnumName<Enum>& entry : names) {
        if (entry.name == node.Scalar()) {
            field = entry.value;
            return {};
        }
    }
    return refused("expected one of " + choices_text(names) + ", got " + quoted(node.Scalar()));
}

}  // namespace gw

// The firewall's part of the schema (firewall.*, lan.networks) and its cross-key
// rules; assembled into config_schema() by config_schema.cpp. Internal to config/.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "config/config_schema.hpp"
#include "firewall/firewall_config.hpp"
#include "nat/endpoint.hpp"

namespace gw {

inline constexpr EnumName<std::optional<Protocol>> rule_protocol_names[] = {
    {Protocol::tcp, "tcp"},
    {Protocol::udp, "udp"},
    {Protocol::icmp, "icmp"},
    {std::nullopt, "any"},
};

inline constexpr EnumName<Protocol> forward_protocol_names[] = {
    {Protocol::tcp, "tcp"},
    {Protocol::udp, "udp"},
};

// The ICMP types a rule may name (RFC 792); any other is written as its number.
inline constexpr EnumName<std::uint8_t> icmp_type_names[] = {
    {0, "echo-reply"},
    {3, "destination-unreachable"},
    {8, "echo-request"},
    {11, "time-exceeded"},
};

SchemaKey lan_networks_key();
SchemaKey lan_ipv6_networks_key();
std::vector<SchemaKey> firewall_schema_keys();  // firewall.*, in documentation order

void complete_firewall_defaults(GatewayConfig& config);
void check_firewall_cross_key_rules(const GatewayConfig& config, std::vector<CrossKeyError>& errors);

}  // namespace gw

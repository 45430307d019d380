// The config schema: every key gatewayd reads, defined once. The loader walks a YAML
// document against this table, docs/configuration.md is rendered from it, and a key
// that is not in it is refused.
//
// Sections are assembled from one file each: config_schema.cpp (lan, wan, nat,
// nfqueue), firewall_schema.cpp (firewall, lan.networks), upnp_schema.cpp (upnp),
// port_control_schema.cpp (natpmp, pcp).
//
// Lists of maps (firewall.rules, firewall.forwards) are keys too, and so are the keys
// of their items, written "<list>[].<key>" ("firewall.rules[].action"). While the
// loader reads an item, the item's keys apply to the newest item of the list, which
// the list key's apply() appended. Error messages and cross-key rules name a concrete
// item by its 0-based index: "firewall.rules[2].action".
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/expected.hpp"
#include "config/gateway_config.hpp"

namespace gw {

// The kind of a value, for the documentation table and for "expected ..." messages.
enum class ValueType {
    interface_name,
    ipv4_or_auto,
    port_range,
    seconds,
    integer,
    boolean,
    name,              // of a rule or forward
    ipv4_address,
    endpoint,          // address or address:port
    networks,          // list: CIDR blocks or plain addresses
    ipv6_networks,     // list: IPv6 prefixes
    rule_networks,     // list: IPv4 or IPv6 CIDR blocks or plain addresses
    echo_request,      // policy, accept or drop
    ports,             // list: ports and port ranges
    icmp_type,
    rate,
    filtering,
    action,
    direction,
    rule_protocol,     // tcp, udp, icmp or any
    forward_protocol,  // tcp or udp
    rules,             // list of maps
    forwards,          // list of maps
    igd_version,       // 1 or 2
    absolute_path,     // of a file
    text,              // free text shown to people, e.g. upnp.friendly_name
    upnp_permissions,  // list: miniupnpd permission rules
    lease_sync,        // change or second
    host_port,         // host or host:port (wan.stun)
    cascade_mappings,  // warn or refuse
    upstream_mappings,  // auto, pcp, natpmp, upnp or off
    upstream_failure,   // refuse or keep
    listen_endpoint,   // IPv4 address:port, or none (metrics.listen)
};

// How a value of each type is written.
enum class Shape {
    scalar,    // one value
    list,      // a sequence of values, or one value standing for a list of one; apply() runs per value
    map_list,  // a sequence of maps; apply() runs per map (it appends the item), then the map's keys
};

Shape value_shape(ValueType type);
std::string value_type_name(ValueType type);     // "interface name", for the docs table
std::string value_type_article(ValueType type);  // "an interface name", for error messages

// A key's apply() and the value readers answer Expected: the value (stored, for apply),
// or why it was refused, without the key path (the loader prefixes "path: ").
inline Unexpected<Error> refused(std::string why) { return unexpected(Error{std::move(why)}); }

struct SchemaKey {
    std::string path;  // dotted, e.g. "nat.timeouts.udp"; "firewall.rules[].name" inside a list item
    ValueType type;
    bool required;     // inside a list item: required in every item
    std::string description;  // one line, for the docs table and the example file
    // Validates a scalar node and stores it into `config` (for a list, appends it; for a
    // list of maps, appends a default item positioned at the map). Called only with a
    // scalar (a map for map_list); the loader refuses other shapes before it gets here.
    Expected<void> (*apply)(const YAML::Node& value, GatewayConfig& config);
    // Renders this key's value in `config` (an item key: in the newest item, or in a
    // default item when there is none); applied to GatewayConfig{} it gives the
    // default, so the defaults are written only in the structs they initialise.
    // Empty = not set and no default.
    std::string (*show)(const GatewayConfig& config);

    // "(required)", "(none)" or show(GatewayConfig{}).
    std::string default_text() const;
};

// Every key, in documentation order. Sections ("nat", "nat.timeouts") are implied by
// the dotted paths.
std::span<const SchemaKey> config_schema();

// `path` as the schema writes it: "firewall.rules[]..." for a path naming an item.
const SchemaKey* find_schema_key(std::string_view path);
// True when `path` is a proper prefix of some key ("nat", "nat.timeouts", "firewall.rules[]").
bool is_schema_section(std::string_view path);
// "firewall.rules[3].name" -> "firewall.rules[].name".
std::string schema_path_of(std::string_view concrete_path);

// Defaults that depend on another key (a forward's internal port is its external
// one unless given). Run once every key has been applied, before the cross-key rules.
void complete_dependent_defaults(GatewayConfig& config);

// A rule that involves more than one key, broken; positioned at `path`'s value, or, when
// `path` is absent from the file (its default is in play), at the first of `involves`
// that is present. Not reported when `path` or any of `involves` had its own error (or
// is inside an item that had one): the first error explains it.
struct CrossKeyError {
    std::string path;  // concrete: "firewall.forwards[1].external_port"
    std::string message;
    std::vector<std::string> involves = {};
};

// Run once every key has been applied, on the config as loaded.
std::vector<CrossKeyError> check_cross_key_rules(const GatewayConfig& config);

}  // namespace gw

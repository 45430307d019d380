// The config schema: every key gatewayd reads, defined once. The loader walks a YAML
// document against this table, docs/configuration.md is rendered from it, and a key
// that is not in it is refused.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/gateway_config.hpp"

namespace gw {

// The shape of a value, for the documentation table and for "expected ..." messages.
enum class ValueType { interface_name, ipv4_or_auto, port_range, seconds, integer };

std::string_view value_type_name(ValueType type);     // "interface name", for the docs table
std::string_view value_type_article(ValueType type);  // "an interface name", for error messages

// Why a value was refused, without the key path (the loader prefixes "path: ");
// nullopt when the value was valid and has been stored.
using ValueError = std::optional<std::string>;

struct SchemaKey {
    std::string path;  // dotted, e.g. "nat.timeouts.udp"
    ValueType type;
    bool required;
    std::string description;  // one line, for the docs table and the example file
    // Validates a scalar node and stores it into `config`. Called only for scalars;
    // the loader refuses maps, sequences and empty values before it gets here.
    ValueError (*apply)(const YAML::Node& value, GatewayConfig& config);
    // Renders this key's value in `config`; applied to GatewayConfig{} it gives the
    // default, so the defaults are written only in the structs they initialise.
    std::string (*show)(const GatewayConfig& config);

    std::string default_text() const;  // "(required)" or show(GatewayConfig{})
};

// Every key, in documentation order. Sections ("nat", "nat.timeouts") are implied by
// the dotted paths.
std::span<const SchemaKey> config_schema();

const SchemaKey* find_schema_key(std::string_view path);
// True when `path` is a proper prefix of some key ("nat", "nat.timeouts").
bool is_schema_section(std::string_view path);

// A rule that involves more than one key, broken; positioned at `path`'s value.
struct CrossKeyError {
    std::string path;
    std::string message;
};

// Run once every key has been applied, on the config as loaded.
std::vector<CrossKeyError> check_cross_key_rules(const GatewayConfig& config);

}  // namespace gw

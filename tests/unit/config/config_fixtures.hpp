// YAML snippets and load helpers shared by the config tests: a test adds only the
// lines it is about to a config that is otherwise valid, and reads errors as the
// operator would ("file:line:column: message").
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/gateway_config.hpp"

namespace gw::config_fixtures {

// The two required keys, lines 1-4; what a test adds starts on line 5.
inline const std::string interfaces =
    "lan:\n"
    "  interface: eth1\n"
    "wan:\n"
    "  interface: eth0\n";

// Line 5 "firewall:", line 6 "rules:", the first item's first key at 7:7.
inline std::string with_rules(const std::string& items) {
    return interfaces + "firewall:\n  rules:\n" + items;
}

// Line 5 "firewall:", line 6 "forwards:", the first item's first key at 7:7.
inline std::string with_forwards(const std::string& items) {
    return interfaces + "firewall:\n  forwards:\n" + items;
}

// A rule item with its three required keys: "name: a" on its first line, then
// `direction`, then the `extra` lines (indented 6), then "action: drop".
inline std::string rule_item(const std::string& direction, const std::string& extra) {
    return "    - name: a\n      direction: " + direction + "\n" + extra + "      action: drop\n";
}

// Every error as the operator reads it.
inline std::vector<std::string> errors_of(const std::string& yaml) {
    std::vector<std::string> lines;
    for (const ConfigError& error : load_config_text(yaml, "test.yaml").errors) lines.push_back(error.to_string());
    return lines;
}

inline std::vector<std::string> one(std::string line) {
    return {std::move(line)};
}

inline GatewayConfig loaded(const std::string& yaml) {
    ConfigLoadResult result = load_config_text(yaml, "test.yaml");
    for (const ConfigError& error : result.errors) UNSCOPED_INFO(error.to_string());
    REQUIRE(result.config);
    return *result.config;
}

}  // namespace gw::config_fixtures

// Warnings: a file that loads but says what is likely not meant. The file is still used
// (config is set, errors empty); each warning points at the value it is about.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"

namespace gw {
namespace {

using namespace config_fixtures;

std::vector<std::string> warnings_of(const std::string& yaml) {
    ConfigLoadResult result = load_config_text(yaml, "test.yaml");
    for (const ConfigError& error : result.errors) UNSCOPED_INFO(error.to_string());
    REQUIRE(result.config);
    std::vector<std::string> lines;
    for (const ConfigError& warning : result.warnings) lines.push_back(warning.to_string());
    return lines;
}

const std::string lan_only = "lan:\n  interface: eth1\n";

}  // namespace

TEST_CASE("0.0.0.0/0 in lan.networks loads with a warning at the block") {
    CHECK(warnings_of("lan:\n  interface: eth1\n  networks: [192.168.1.0/24, 0.0.0.0/0]\nwan:\n  interface: eth0\n") ==
          one("test.yaml:3:30: warning: lan.networks[1]: 0.0.0.0/0 covers every IPv4 address: internet hosts inside "
              "it count as LAN hosts, and their packets are dropped as forged (martian_wan_source); list the LAN's "
              "own blocks"));
}

TEST_CASE("a /1 in lan.networks covers half the internet and is warned about too") {
    auto warnings = warnings_of("lan:\n  interface: eth1\n  networks:\n    - 128.0.0.0/1\nwan:\n  interface: eth0\n");
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::StartsWith("test.yaml:4:7: warning: lan.networks[0]: 128.0.0.0/1 covers half of all"));
    CHECK(warnings_of("lan:\n  interface: eth1\n  networks: 10.0.0.0/8\nwan:\n  interface: eth0\n").empty());
}

TEST_CASE("a fixed WAN address inside lan.networks loads with a warning at wan.address") {
    CHECK(warnings_of(lan_only + "  networks: [192.168.1.0/24]\nwan:\n  interface: eth0\n  address: 192.168.1.1\n") ==
          one("test.yaml:6:12: warning: wan.address: 192.168.1.1 is inside lan.networks (192.168.1.0/24): the "
              "gateway's WAN address would count as a LAN address; lan.networks should hold only the LAN's own "
              "blocks"));
    CHECK(warnings_of(lan_only + "  networks: [192.168.1.0/24]\nwan:\n  interface: eth0\n  address: 203.0.113.7\n")
              .empty());
}

TEST_CASE("a forward to the gateway's own WAN address loads with a warning at its target") {
    CHECK(warnings_of(interfaces + "  address: 203.0.113.7\nfirewall:\n  forwards:\n"
                                   "    - {name: web, protocol: tcp, external_port: 80, internal: 203.0.113.7:8080}\n") ==
          one("test.yaml:8:63: warning: firewall.forwards[0].internal: 203.0.113.7 is the gateway's own WAN address "
              "(wan.address): the forward would deliver to the gateway, not to a LAN host"));
}

TEST_CASE("a DMZ on the gateway's own WAN address loads with a warning") {
    auto warnings = warnings_of(interfaces + "  address: 203.0.113.7\nfirewall:\n  dmz: 203.0.113.7\n");
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::StartsWith("test.yaml:7:8: warning: firewall.dmz: 203.0.113.7 is the gateway's own"));
}

TEST_CASE("a file with errors gives no warnings, and the shipped example gives none") {
    ConfigLoadResult broken =
        load_config_text(lan_only + "  networks: [0.0.0.0/0]\nwan:\n  interface: eth0\nnat: {max_mappings: 0}\n", "t");
    CHECK_FALSE(broken.config);
    CHECK(broken.warnings.empty());
    CHECK(load_config_file(std::string(GW_SOURCE_DIR) + "/config/gateway.yaml").warnings.empty());
}

TEST_CASE("the report lists warnings after the errors, marked as warnings") {
    ConfigLoadResult result =
        load_config_text(lan_only + "  networks: 0.0.0.0/0\nwan:\n  interface: eth0\n", "test.yaml");
    CHECK(config_report_lines(result) ==
          std::vector<std::string>{"test.yaml:3:13: warning: lan.networks[0]: 0.0.0.0/0 covers every IPv4 address: "
                                   "internet hosts inside it count as LAN hosts, and their packets are dropped as "
                                   "forged (martian_wan_source); list the LAN's own blocks"});
}

}  // namespace gw

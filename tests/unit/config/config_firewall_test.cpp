// The firewall part of the config as an operator sees it: lan.networks, firewall.*
// and the rule and forward lists, as they load. Refusals: config_firewall_refusal_test.cpp.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_reference.hpp"
#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"

namespace gw {
namespace {

using namespace config_fixtures;

const std::string source_dir = GW_SOURCE_DIR;

Ipv4Address address(const char* text) {
    return *Ipv4Address::parse(text);
}

Ipv4Network network(const char* text) {
    return *Ipv4Network::parse(text);
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The example's commented-out firewall examples, uncommented: "  # dmz: ...",
// "  # rules:", "  # forwards:" and the item lines under them ("  #   ...") lose their
// "# ", and the "rules: []" / "forwards: []" placeholders go.
std::string example_with_examples_uncommented() {
    std::istringstream in(read_text(source_dir + "/config/gateway.yaml"));
    std::string text;
    for (std::string line; std::getline(in, line);) {
        if (line == "  rules: []" || line == "  forwards: []") continue;
        for (const char* marker : {"  # dmz:", "  # rules:", "  # forwards:", "  #   "}) {
            if (line.starts_with(marker)) {
                line.erase(2, 2);
                break;
            }
        }
        text += line + '\n';
    }
    return text;
}

}  // namespace

TEST_CASE("every firewall key loads into FirewallConfig") {
    GatewayConfig config = loaded(
        "lan:\n"
        "  interface: lan0\n"
        "  networks: [192.168.50.0/24]\n"
        "wan:\n"
        "  interface: wan0\n"
        "firewall:\n"
        "  filtering: address-dependent\n"
        "  policy: { inbound: reject, outbound: drop, input: accept }\n"
        "  log_lines_per_second: 25\n"
        "  dmz: 192.168.50.30\n"
        "  rules:\n"
        "    - name: rdp-from-office\n"  // line 12
        "      direction: inbound\n"
        "      protocol: tcp\n"
        "      sources: [198.51.100.0/24, 203.0.113.9]\n"
        "      destinations: [192.168.50.20]\n"
        "      source_ports: [1024-65535]\n"
        "      destination_ports: [3389, 5900-5901]\n"
        "      interface: wan0\n"
        "      action: accept\n"
        "      log: true\n"
        "      rate_limit: 10/s burst 20\n"
        "  forwards:\n"
        "    - name: remote-assistance\n"  // line 24
        "      protocol: tcp\n"
        "      external_port: 3389\n"
        "      internal: 192.168.50.20:3390\n"
        "      allowed_sources: [198.51.100.0/24]\n"
        "      enabled: false\n");
    const FirewallConfig& firewall = config.firewall;
    CHECK(firewall.lan_networks == std::vector{network("192.168.50.0/24")});
    CHECK(firewall.filtering == FilteringBehaviour::address_dependent);
    CHECK(firewall.policies.inbound == RuleAction::reject);
    CHECK(firewall.policies.outbound == RuleAction::drop);
    CHECK(firewall.policies.input == RuleAction::accept);
    CHECK(firewall.log_lines_per_second == 25);
    CHECK(firewall.dmz_host == address("192.168.50.30"));

    REQUIRE(firewall.rules.size() == 1);
    const FirewallRule& rule = firewall.rules[0];
    CHECK(rule.name == "rdp-from-office");
    CHECK(rule.direction == RuleDirection::inbound);
    CHECK(rule.protocol == Protocol::tcp);
    CHECK(rule.sources == std::vector{network("198.51.100.0/24"), network("203.0.113.9/32")});
    CHECK(rule.destinations == std::vector{network("192.168.50.20/32")});
    CHECK(rule.source_ports == std::vector{PortRange{1024, 65535}});
    CHECK(rule.destination_ports == std::vector{PortRange{3389, 3389}, PortRange{5900, 5901}});
    CHECK_FALSE(rule.icmp_type);
    CHECK(rule.interface == "wan0");
    CHECK(rule.action == RuleAction::accept);
    CHECK(rule.log);
    CHECK(rule.rate_limit == RateLimit{10, 20, 0});
    CHECK(rule.position.line == 12);
    CHECK(rule.position.column == 7);

    REQUIRE(firewall.forwards.size() == 1);
    const PortForward& forward = firewall.forwards[0];
    CHECK(forward.name == "remote-assistance");
    CHECK(forward.protocol == Protocol::tcp);
    CHECK(forward.external_ports == PortRange{3389, 3389});
    CHECK(forward.internal == Endpoint{address("192.168.50.20"), Port{3390}});
    CHECK(forward.allowed_sources == std::vector{network("198.51.100.0/24")});
    CHECK_FALSE(forward.enabled);
    CHECK(forward.position.line == 24);
    CHECK(forward.position.column == 7);
}

TEST_CASE("without a firewall section the firewall takes its defaults") {
    FirewallConfig firewall = loaded(interfaces).firewall;
    FirewallConfig defaults;
    CHECK(firewall.lan_networks.empty());
    CHECK(firewall.filtering == FilteringBehaviour::address_and_port_dependent);
    CHECK(firewall.policies.inbound == RuleAction::drop);
    CHECK(firewall.policies.outbound == RuleAction::accept);
    CHECK(firewall.policies.input == RuleAction::drop);
    CHECK(firewall.log_lines_per_second == defaults.log_lines_per_second);
    CHECK_FALSE(firewall.dmz_host);
    CHECK(firewall.rules.empty());
    CHECK(firewall.forwards.empty());
}

TEST_CASE("a rule with only its required keys matches anything of its direction") {
    GatewayConfig config = loaded(with_rules("    - name: catch-all\n      direction: outbound\n      action: reject\n"));
    REQUIRE(config.firewall.rules.size() == 1);
    const FirewallRule& rule = config.firewall.rules[0];
    CHECK(rule.direction == RuleDirection::outbound);
    CHECK(rule.action == RuleAction::reject);
    CHECK_FALSE(rule.protocol);
    CHECK(rule.sources.empty());
    CHECK(rule.destinations.empty());
    CHECK(rule.source_ports.empty());
    CHECK(rule.destination_ports.empty());
    CHECK_FALSE(rule.icmp_type);
    CHECK_FALSE(rule.interface);
    CHECK_FALSE(rule.log);
    CHECK_FALSE(rule.rate_limit);
}

TEST_CASE("rules keep their file order") {
    GatewayConfig config = loaded(with_rules("    - {name: first, direction: inbound, action: accept}\n"
                                             "    - {name: second, direction: inbound, action: drop}\n"
                                             "    - {name: third, direction: input, action: drop}\n"));
    REQUIRE(config.firewall.rules.size() == 3);
    CHECK(config.firewall.rules[0].name == "first");
    CHECK(config.firewall.rules[1].name == "second");
    CHECK(config.firewall.rules[2].name == "third");
    CHECK(config.firewall.rules[2].position.line == 9);
    CHECK(config.firewall.rules[2].position.column == 7);  // a flow map starts at its "{"
}

TEST_CASE("a single value stands for a list of one") {
    GatewayConfig config = loaded(
        "lan:\n  interface: eth1\n  networks: 10.0.0.0/8\nwan:\n  interface: eth0\n"
        "firewall:\n  rules:\n"
        "    - name: a\n      direction: inbound\n      protocol: udp\n"
        "      sources: 198.51.100.7\n      destinations: 10.1.0.0/16\n"
        "      source_ports: 53\n      destination_ports: 1024-2047\n      action: accept\n");
    CHECK(config.firewall.lan_networks == std::vector{network("10.0.0.0/8")});
    const FirewallRule& rule = config.firewall.rules.at(0);
    CHECK(rule.sources == std::vector{network("198.51.100.7/32")});
    CHECK(rule.destinations == std::vector{network("10.1.0.0/16")});
    CHECK(rule.source_ports == std::vector{PortRange{53, 53}});
    CHECK(rule.destination_ports == std::vector{PortRange{1024, 2047}});
}

TEST_CASE("a rate limit is N/s or N/min with a burst that defaults to N") {
    struct Case {
        std::string text;
        RateLimit limit;  // per_second, burst, per_minute
    };
    const Case cases[] = {
        {"10/s", {10, 10, 0}},
        {"30/min", {0, 30, 30}},
        {"10/s burst 20", {10, 20, 0}},
        {"1/min burst 5", {0, 5, 1}},
        {"5/s burst 1", {5, 1, 0}},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        GatewayConfig config = loaded(with_rules(rule_item("inbound", "      rate_limit: " + c.text + "\n")));
        CHECK(config.firewall.rules.at(0).rate_limit == c.limit);
    }
    CHECK(RateLimit{10, 20, 0}.packets_per_minute() == 600);
    CHECK(RateLimit{0, 5, 1}.packets_per_minute() == 1);
}

TEST_CASE("icmp_type is a number from 0 to 255 or one of the ICMP type names") {
    struct Case {
        std::string text;
        std::uint8_t type;
    };
    const Case cases[] = {{"echo-reply", 0},  {"destination-unreachable", 3}, {"echo-request", 8},
                          {"time-exceeded", 11}, {"0", 0}, {"13", 13}, {"255", 255}};
    for (const Case& c : cases) {
        INFO(c.text);
        GatewayConfig config =
            loaded(with_rules(rule_item("input", "      protocol: icmp\n      icmp_type: " + c.text + "\n")));
        CHECK(config.firewall.rules.at(0).icmp_type == c.type);
    }
}

TEST_CASE("a forward without a port goes to the external port, and a range maps from its first port") {
    GatewayConfig config = loaded(with_forwards(
        "    - {name: web, protocol: tcp, external_port: 80, internal: 192.168.50.2}\n"
        "    - {name: game, protocol: udp, external_port: 6891-6900, internal: 192.168.50.3}\n"
        "    - {name: moved, protocol: udp, external_port: 7000-7009, internal: 192.168.50.4:17000}\n"));
    const std::vector<PortForward>& forwards = config.firewall.forwards;
    REQUIRE(forwards.size() == 3);
    CHECK(forwards[0].internal == Endpoint{address("192.168.50.2"), Port{80}});
    CHECK(forwards[0].enabled);
    CHECK(forwards[0].allowed_sources.empty());
    CHECK(forwards[1].external_ports == PortRange{6891, 6900});
    CHECK(forwards[1].internal == Endpoint{address("192.168.50.3"), Port{6891}});
    CHECK(forwards[2].internal == Endpoint{address("192.168.50.4"), Port{17000}});
}

TEST_CASE("an empty rules key and an empty list both mean no rules") {
    CHECK(loaded(interfaces + "firewall:\n  rules:\n  forwards:\n").firewall.rules.empty());
    CHECK(loaded(interfaces + "firewall:\n  rules: []\n  forwards: []\n").firewall.forwards.empty());
}

TEST_CASE("the example config's commented firewall examples load when uncommented") {
    std::string example = example_with_examples_uncommented();
    INFO(example);
    GatewayConfig config = loaded(example);
    CHECK(config.firewall.rules.size() == 2);
    CHECK(config.firewall.forwards.size() == 1);
    CHECK(config.firewall.dmz_host);
}

TEST_CASE("the reference documents the rule and forward keys") {
    std::string reference = config_reference_markdown();
    CHECK_THAT(reference, Catch::Contains("| `lan.networks` | list of IPv4 networks | `[]` |"));
    CHECK_THAT(reference, Catch::Contains("| `firewall.dmz` | IPv4 address | (none) |"));
    CHECK_THAT(reference, Catch::Contains("| `firewall.rules[].action` | `accept`, `drop` or `reject` | (required) |"));
    CHECK_THAT(reference, Catch::Contains("| `firewall.rules[].protocol` | `tcp`, `udp`, `icmp` or `any` | `any` |"));
    CHECK_THAT(reference, Catch::Contains("| `firewall.forwards[].enabled` | `true` or `false` | `true` |"));
    CHECK_THAT(reference, Catch::Contains("RFC 4787 REQ-8"));
}

}  // namespace gw

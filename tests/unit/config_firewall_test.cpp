// The firewall part of the config as an operator sees it: lan.networks, firewall.*,
// the rule and forward lists, and exactly where each refusal points.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_reference.hpp"
#include "config/gateway_config.hpp"

namespace gw {
namespace {

const std::string source_dir = GW_SOURCE_DIR;

// Lines 1-4; what a test adds starts on line 5.
const std::string interfaces =
    "lan:\n"
    "  interface: eth1\n"
    "wan:\n"
    "  interface: eth0\n";

// Line 5 "firewall:", line 6 "rules:", the first item's first key at 7:7.
std::string with_rules(const std::string& items) {
    return interfaces + "firewall:\n  rules:\n" + items;
}

// Line 5 "firewall:", line 6 "forwards:", the first item's first key at 7:7.
std::string with_forwards(const std::string& items) {
    return interfaces + "firewall:\n  forwards:\n" + items;
}

std::vector<std::string> errors_of(const std::string& yaml) {
    std::vector<std::string> lines;
    for (const ConfigError& error : load_config_text(yaml, "test.yaml").errors) lines.push_back(error.to_string());
    return lines;
}

std::vector<std::string> one(std::string line) {
    return {std::move(line)};
}

GatewayConfig loaded(const std::string& yaml) {
    ConfigLoadResult result = load_config_text(yaml, "test.yaml");
    for (const ConfigError& error : result.errors) UNSCOPED_INFO(error.to_string());
    REQUIRE(result.config);
    return *result.config;
}

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

// A rule with every required key, and `extra` lines (indented 6) before its action.
std::string rule_item(const std::string& direction, const std::string& extra) {
    return "    - name: a\n      direction: " + direction + "\n" + extra + "      action: drop\n";
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

// Refusals, each with its exact position.

TEST_CASE("an unknown key inside a rule is refused with a suggestion") {
    CHECK(errors_of(with_rules("    - name: a\n      direction: inbound\n      acton: drop\n")) ==
          std::vector<std::string>{
              "test.yaml:7:7: missing required key 'firewall.rules[0].action'",
              "test.yaml:9:7: unknown key 'firewall.rules[0].acton' (did you mean 'firewall.rules[0].action'?)",
          });
}

TEST_CASE("an unknown key inside a forward is refused") {
    CHECK(errors_of(with_forwards("    - name: f\n      protocol: tcp\n      external_port: 80\n"
                                  "      internal: 192.168.50.2\n      mystery: 1\n")) ==
          one("test.yaml:11:7: unknown key 'firewall.forwards[0].mystery'"));
}

TEST_CASE("a rule without a name, direction or action is refused at the rule") {
    CHECK(errors_of(with_rules("    - log: true\n")) == std::vector<std::string>{
                                                            "test.yaml:7:7: missing required key 'firewall.rules[0].name'",
                                                            "test.yaml:7:7: missing required key 'firewall.rules[0].direction'",
                                                            "test.yaml:7:7: missing required key 'firewall.rules[0].action'",
                                                        });
    CHECK(errors_of(with_rules(rule_item("inbound", "") + "    - direction: inbound\n      action: drop\n")) ==
          one("test.yaml:10:7: missing required key 'firewall.rules[1].name'"));
}

TEST_CASE("a forward without a name, protocol, external port or internal address is refused at the forward") {
    CHECK(errors_of(with_forwards("    - enabled: true\n")) ==
          std::vector<std::string>{
              "test.yaml:7:7: missing required key 'firewall.forwards[0].name'",
              "test.yaml:7:7: missing required key 'firewall.forwards[0].protocol'",
              "test.yaml:7:7: missing required key 'firewall.forwards[0].external_port'",
              "test.yaml:7:7: missing required key 'firewall.forwards[0].internal'",
          });
}

TEST_CASE("two rules with one name are refused at the second name") {
    CHECK(errors_of(with_rules("    - name: ssh\n      direction: inbound\n      action: drop\n"
                               "    - name: ssh\n      direction: outbound\n      action: drop\n")) ==
          one("test.yaml:10:13: firewall.rules[1].name: duplicate rule name 'ssh' (first used at line 7)"));
}

TEST_CASE("two forwards with one name are refused at the second name") {
    CHECK(errors_of(with_forwards("    - name: web\n      protocol: tcp\n      external_port: 80\n"
                                  "      internal: 192.168.50.2\n"
                                  "    - name: web\n      protocol: tcp\n      external_port: 8080\n"
                                  "      internal: 192.168.50.3\n")) ==
          one("test.yaml:11:13: firewall.forwards[1].name: duplicate forward name 'web' (first used at line 7)"));
}

TEST_CASE("a rule and a forward may share a name") {
    CHECK(errors_of(interfaces + "firewall:\n  rules:\n    - {name: web, direction: inbound, action: accept}\n"
                                 "  forwards:\n    - {name: web, protocol: tcp, external_port: 80, internal: 10.0.0.2}\n")
              .empty());
}

TEST_CASE("a name that would not read cleanly in a log line is refused") {
    CHECK(errors_of(with_rules("    - name: rdp office\n      direction: inbound\n      action: drop\n")) ==
          one("test.yaml:7:13: firewall.rules[0].name: 'rdp office' is not a valid name: use 1 to 63 letters, "
              "digits, '-', '_' or '.'"));
}

TEST_CASE("a bad enum value is refused with the valid values listed") {
    struct Case {
        std::string yaml;
        std::string error;
    };
    const Case cases[] = {
        {with_rules("    - name: a\n      direction: sideways\n      action: drop\n"),
         "test.yaml:8:18: firewall.rules[0].direction: expected one of inbound, outbound, input, got 'sideways'"},
        {with_rules("    - name: a\n      direction: inbound\n      action: allow\n"),
         "test.yaml:9:15: firewall.rules[0].action: expected one of accept, drop, reject, got 'allow'"},
        {with_rules(rule_item("inbound", "      protocol: sctp\n")),
         "test.yaml:9:17: firewall.rules[0].protocol: expected one of tcp, udp, icmp, any, got 'sctp'"},
        {with_forwards("    - name: f\n      protocol: icmp\n      external_port: 80\n      internal: 10.0.0.2\n"),
         "test.yaml:8:17: firewall.forwards[0].protocol: expected one of tcp, udp, got 'icmp'"},
        {interfaces + "firewall:\n  filtering: full-cone\n",
         "test.yaml:6:14: firewall.filtering: expected one of endpoint-independent, address-dependent, "
         "address-and-port-dependent, got 'full-cone'"},
        {interfaces + "firewall:\n  policy: { inbound: allow }\n",
         "test.yaml:6:22: firewall.policy.inbound: expected one of accept, drop, reject, got 'allow'"},
        {interfaces + "firewall:\n  policy:\n    input: ACCEPT\n",
         "test.yaml:7:12: firewall.policy.input: expected one of accept, drop, reject, got 'ACCEPT'"},
    };
    for (const Case& c : cases) {
        INFO(c.yaml);
        CHECK(errors_of(c.yaml) == one(c.error));
    }
}

TEST_CASE("ports on a rule whose protocol has none are refused: the rule could never match") {
    CHECK(errors_of(with_rules(rule_item("inbound", "      destination_ports: [3389]\n"))) ==
          one("test.yaml:9:26: firewall.rules[0].destination_ports: destination_ports needs protocol tcp or udp "
              "(this rule's protocol is any)"));
    CHECK(errors_of(with_rules(rule_item("inbound", "      protocol: icmp\n      source_ports: 22\n"))) ==
          one("test.yaml:10:21: firewall.rules[0].source_ports: source_ports needs protocol tcp or udp "
              "(this rule's protocol is icmp)"));
}

TEST_CASE("an icmp_type on a rule that is not for ICMP is refused") {
    CHECK(errors_of(with_rules(rule_item("inbound", "      protocol: tcp\n      icmp_type: echo-request\n"))) ==
          one("test.yaml:10:18: firewall.rules[0].icmp_type: icmp_type needs protocol icmp (this rule's protocol is "
              "tcp)"));
    CHECK(errors_of(with_rules(rule_item("inbound", "      icmp_type: 8\n"))) ==
          one("test.yaml:9:18: firewall.rules[0].icmp_type: icmp_type needs protocol icmp (this rule's protocol is "
              "any)"));
}

TEST_CASE("an inbound rule on the LAN interface or an outbound rule on the WAN interface is refused") {
    CHECK(errors_of(with_rules(rule_item("inbound", "      interface: eth1\n"))) ==
          one("test.yaml:9:18: firewall.rules[0].interface: 'eth1' is lan.interface, but inbound packets arrive on "
              "wan.interface; this rule could never match"));
    CHECK(errors_of(with_rules(rule_item("outbound", "      interface: eth0\n"))) ==
          one("test.yaml:9:18: firewall.rules[0].interface: 'eth0' is wan.interface, but outbound packets arrive on "
              "lan.interface; this rule could never match"));
}

TEST_CASE("a rule on the interface its direction arrives on is accepted, and input rules on either") {
    CHECK(errors_of(with_rules(rule_item("inbound", "      interface: eth0\n"))).empty());
    CHECK(errors_of(with_rules(rule_item("outbound", "      interface: eth1\n"))).empty());
    CHECK(errors_of(with_rules(rule_item("input", "      interface: eth0\n"))).empty());
    CHECK(errors_of(with_rules(rule_item("input", "      interface: eth1\n"))).empty());
}

TEST_CASE("forwards whose external ports overlap for one protocol are refused at the later one") {
    const std::string first = "    - name: a\n      protocol: tcp\n      external_port: 3000-3400\n"
                              "      internal: 192.168.50.2\n";
    CHECK(errors_of(with_forwards(first + "    - name: b\n      protocol: tcp\n      external_port: 3389\n"
                                          "      internal: 192.168.50.3\n")) ==
          one("test.yaml:13:22: firewall.forwards[1].external_port: tcp port 3389 overlaps forward 'a' (line 7), "
              "which forwards 3000-3400"));
    CHECK(errors_of(with_forwards(first + "    - name: b\n      protocol: tcp\n      external_port: 2000-3000\n"
                                          "      internal: 192.168.50.3\n")) ==
          one("test.yaml:13:22: firewall.forwards[1].external_port: tcp ports 2000-3000 overlap forward 'a' (line 7), "
              "which forwards 3000-3400"));
}

TEST_CASE("forwards on the same port are accepted for different protocols, adjacent ranges, or when one is disabled") {
    const std::string first = "    - {name: a, protocol: tcp, external_port: 3000-3400, internal: 192.168.50.2}\n";
    CHECK(errors_of(with_forwards(first + "    - {name: b, protocol: udp, external_port: 3389, internal: 192.168.50.3}\n"))
              .empty());
    CHECK(errors_of(with_forwards(first + "    - {name: b, protocol: tcp, external_port: 3401, internal: 192.168.50.3}\n"))
              .empty());
    CHECK(errors_of(with_forwards(first + "    - {name: b, protocol: tcp, external_port: 3389, internal: 192.168.50.3, "
                                          "enabled: false}\n"))
              .empty());
}

TEST_CASE("a forward whose internal ports would run past 65535 is refused") {
    CHECK(errors_of(with_forwards("    - name: a\n      protocol: udp\n      external_port: 6000-6100\n"
                                  "      internal: 192.168.50.2:65500\n")) ==
          one("test.yaml:10:17: firewall.forwards[0].internal: external_port 6000-6100 maps one to one onto ports "
              "65500-65600, past 65535"));
    CHECK(errors_of(with_forwards("    - {name: a, protocol: udp, external_port: 6000-6100, "
                                  "internal: '192.168.50.2:65435'}\n"))
              .empty());
}

TEST_CASE("a DMZ host or forward target outside lan.networks is refused") {
    const std::string lan = "lan:\n  interface: eth1\n  networks: [192.168.50.0/24]\nwan:\n  interface: eth0\n";
    CHECK(errors_of(lan + "firewall:\n  dmz: 192.168.60.30\n") ==
          one("test.yaml:7:8: firewall.dmz: 192.168.60.30 is not inside lan.networks (192.168.50.0/24)"));
    CHECK(errors_of(lan + "firewall:\n  forwards:\n    - name: a\n      protocol: tcp\n      external_port: 80\n"
                          "      internal: 10.1.2.3:8080\n") ==
          one("test.yaml:11:17: firewall.forwards[0].internal: 10.1.2.3 is not inside lan.networks (192.168.50.0/24)"));
    CHECK(errors_of(lan + "firewall:\n  dmz: 192.168.50.30\n").empty());
}

TEST_CASE("without lan.networks any DMZ host or forward target is accepted") {
    CHECK(errors_of(interfaces + "firewall:\n  dmz: 10.9.9.9\n  forwards:\n"
                                 "    - {name: a, protocol: tcp, external_port: 80, internal: 172.16.0.2}\n")
              .empty());
}

TEST_CASE("a malformed rate limit is refused with the accepted forms") {
    const std::string malformed[] = {"10",       "10/h",          "ten/s",      "10/s burst", "10/s bust 20",
                                     "-1/s",     "10/s burst -1", "99999999999/s", "/s",      "10/s burst 20 extra"};
    for (const std::string& text : malformed) {
        INFO(text);
        CHECK(errors_of(with_rules(rule_item("inbound", "      rate_limit: " + text + "\n"))) ==
              one("test.yaml:9:19: firewall.rules[0].rate_limit: expected a rate \"N/s\" or \"N/min\" from 1 to "
                  "10000000, optionally followed by \"burst M\", e.g. \"10/s burst 20\"; got '" +
                  text + "'"));
    }
}

TEST_CASE("a rate limit of zero, or a burst of zero, is refused") {
    CHECK(errors_of(with_rules(rule_item("inbound", "      rate_limit: 0/s\n"))) ==
          one("test.yaml:9:19: firewall.rules[0].rate_limit: '0/s' lets no packet match; a rate must be at least 1 "
              "(to refuse all, use action: drop)"));
    CHECK(errors_of(with_rules(rule_item("inbound", "      rate_limit: 0/min burst 5\n"))).size() == 1);
    CHECK(errors_of(with_rules(rule_item("inbound", "      rate_limit: 10/s burst 0\n"))) ==
          one("test.yaml:9:19: firewall.rules[0].rate_limit: '10/s burst 0' has a burst of 0, which lets no packet "
              "match; the burst must be at least 1"));
}

TEST_CASE("a network with host bits set is refused with both readings") {
    CHECK(errors_of(with_rules(rule_item("inbound", "      sources: [10.0.0.0/8, 192.168.50.7/24]\n"))) ==
          one("test.yaml:9:29: firewall.rules[0].sources: '192.168.50.7/24' has host bits set; write the network as "
              "192.168.50.0/24 or the single address as 192.168.50.7/32"));
}

TEST_CASE("bad values inside rule and forward lists are refused at the value") {
    struct Case {
        std::string yaml;
        std::string error;
    };
    const Case cases[] = {
        {with_rules(rule_item("inbound", "      destinations: [192.168.50.300]\n")),
         "test.yaml:9:22: firewall.rules[0].destinations: expected an IPv4 network such as 192.168.50.0/24 or an "
         "address such as 192.168.50.20, got '192.168.50.300'"},
        {with_rules(rule_item("inbound", "      protocol: tcp\n      destination_ports: [80, 70000]\n")),
         "test.yaml:10:31: firewall.rules[0].destination_ports: expected a port from 0 to 65535 or a range "
         "\"first-last\" of them, got '70000'"},
        {with_rules(rule_item("inbound", "      sources: [{a: 1}]\n")),
         "test.yaml:9:17: firewall.rules[0].sources: expected an IPv4 network or a list of them, got a map"},
        {with_rules(rule_item("input", "      protocol: icmp\n      icmp_type: 256\n")),
         "test.yaml:10:18: firewall.rules[0].icmp_type: expected an ICMP type from 0 to 255 or one of echo-reply, "
         "destination-unreachable, echo-request, time-exceeded, got '256'"},
        {with_rules(rule_item("inbound", "      log: yes\n")),
         "test.yaml:9:12: firewall.rules[0].log: expected true or false, got 'yes'"},
        {with_rules(rule_item("inbound", "      interface: eth0:1\n")),
         "test.yaml:9:18: firewall.rules[0].interface: 'eth0:1' contains a character Linux refuses in interface "
         "names ('/', ':' or whitespace)"},
        {with_forwards("    - {name: a, protocol: tcp, external_port: 0, internal: 10.0.0.2}\n"),
         "test.yaml:7:47: firewall.forwards[0].external_port: expected a port from 1 to 65535 or a range "
         "\"first-last\" of them, got '0'"},
        {with_forwards("    - {name: a, protocol: tcp, external_port: 80, internal: '10.0.0.2:http'}\n"),
         "test.yaml:7:61: firewall.forwards[0].internal: expected address:port with a port from 1 to 65535, such as "
         "192.168.50.20:3389, got '10.0.0.2:http'"},
        {with_forwards("    - {name: a, protocol: tcp, external_port: 80, internal: '127.0.0.1:80'}\n"),
         "test.yaml:7:61: firewall.forwards[0].internal: '127.0.0.1' cannot be a host's address: it is a loopback "
         "address"},
        {interfaces + "firewall:\n  dmz: 224.0.0.1\n",
         "test.yaml:6:8: firewall.dmz: '224.0.0.1' cannot be a host's address: it is a multicast address"},
        {interfaces + "firewall:\n  log_lines_per_second: 10001\n",
         "test.yaml:6:25: firewall.log_lines_per_second: expected an integer from 0 to 10000, got 10001"},
    };
    for (const Case& c : cases) {
        INFO(c.yaml);
        CHECK(errors_of(c.yaml) == one(c.error));
    }
}

TEST_CASE("a rule that is not a map, or rules that are not a list, are refused") {
    CHECK(errors_of(with_rules("    - just-a-string\n")) ==
          one("test.yaml:7:7: firewall.rules[0]: expected a map of settings, got a single value"));
    CHECK(errors_of(with_rules("    name: a\n")) == one("test.yaml:7:5: firewall.rules: expected a list of rules, got a map"));
    // yaml-cpp places an empty item at the next token, so the error points at the list's start.
    CHECK(errors_of(with_rules("    -\n")) == one("test.yaml:7:5: firewall.rules[0]: expected a map of settings, got nothing"));
}

TEST_CASE("a key given twice in one rule is refused at its second occurrence") {
    CHECK(errors_of(with_rules(rule_item("inbound", "") + "      action: accept\n")) ==
          one("test.yaml:10:7: duplicate key 'firewall.rules[0].action' (first set at line 9)"));
}

TEST_CASE("a value already refused does not also fail the cross-key rules that read it") {
    // The protocol typo alone is reported, not also "destination_ports needs protocol tcp or udp".
    CHECK(errors_of(with_rules(rule_item("inbound", "      protocol: tpc\n      destination_ports: [22]\n"))) ==
          one("test.yaml:9:17: firewall.rules[0].protocol: expected one of tcp, udp, icmp, any, got 'tpc'"));
    // A missing direction is reported, not also a direction/interface conflict.
    CHECK(errors_of(with_rules("    - name: a\n      interface: eth1\n      action: drop\n")) ==
          one("test.yaml:7:7: missing required key 'firewall.rules[0].direction'"));
    // A refused lan.networks entry does not put the DMZ host outside the LAN.
    CHECK(errors_of("lan:\n  interface: eth1\n  networks: [192.168.50.1/24]\nwan:\n  interface: eth0\n"
                    "firewall:\n  dmz: 192.168.50.30\n")
              .size() == 1);
}

TEST_CASE("every error in the firewall section is reported in one pass, in file order") {
    std::vector<std::string> errors =
        errors_of(with_rules("    - name: a\n      direction: sideways\n      action: drop\n"
                             "    - name: a\n      direction: inbound\n      action: maybe\n"));
    CHECK(errors == std::vector<std::string>{
                        "test.yaml:8:18: firewall.rules[0].direction: expected one of inbound, outbound, input, got "
                        "'sideways'",
                        "test.yaml:10:13: firewall.rules[1].name: duplicate rule name 'a' (first used at line 7)",
                        "test.yaml:12:15: firewall.rules[1].action: expected one of accept, drop, reject, got 'maybe'",
                    });
}

}  // namespace gw

// What the firewall part of the config refuses, and exactly where each refusal points.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"

namespace gw {
namespace {

using namespace config_fixtures;

}  // namespace

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
                                  "internal: '192.168.50.2:65436'}\n"))
              .size() == 1);  // one past: 65436-65536
    CHECK(errors_of(with_forwards("    - {name: a, protocol: udp, external_port: 6000-6100, "
                                  "internal: '192.168.50.2:65435'}\n"))
              .empty());  // ends exactly at 65535
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
         "test.yaml:9:17: firewall.rules[0].sources: expected an IPv4 or IPv6 network or a list of them, got a map"},
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
    // A refused forward target is not also "0.0.0.0 is not inside lan.networks".
    CHECK(errors_of("lan:\n  interface: eth1\n  networks: [192.168.50.0/24]\nwan:\n  interface: eth0\n"
                    "firewall:\n  forwards:\n    - {name: a, protocol: tcp, external_port: 80, internal: nowhere}\n")
              .size() == 1);
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

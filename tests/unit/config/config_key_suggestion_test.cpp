// "did you mean ...?": the words of iptables, nftables and router web pages lead to our
// keys, where no edit distance would.
#include <catch2/catch.hpp>

#include <string>

#include "config/config_schema.hpp"
#include "config/key_suggestion.hpp"
#include "config_fixtures.hpp"

namespace gw {

using namespace config_fixtures;

TEST_CASE("port in a forward is pointed to external_port") {
    CHECK(errors_of(with_forwards("    - name: web\n      protocol: tcp\n      port: 80\n      internal: 192.168.1.2\n")) ==
          std::vector<std::string>{
              "test.yaml:7:7: missing required key 'firewall.forwards[0].external_port'",
              "test.yaml:9:7: unknown key 'firewall.forwards[0].port' (did you mean 'firewall.forwards[0].external_port'?)",
          });
}

TEST_CASE("dport and sport in a rule are pointed to destination_ports and source_ports") {
    CHECK(errors_of(with_rules(rule_item("inbound", "      dport: 22\n"))) ==
          one("test.yaml:9:7: unknown key 'firewall.rules[0].dport' (did you mean "
              "'firewall.rules[0].destination_ports'?)"));
    CHECK(errors_of(with_rules(rule_item("inbound", "      sport: 1024-65535\n"))) ==
          one("test.yaml:9:7: unknown key 'firewall.rules[0].sport' (did you mean 'firewall.rules[0].source_ports'?)"));
}

TEST_CASE("the words of iptables and nftables in a rule are pointed to the rule's keys") {
    struct Case {
        std::string word;
        std::string key;
    };
    const Case cases[] = {{"proto", "protocol"},   {"src", "sources"},      {"dst", "destinations"},
                          {"saddr", "sources"},    {"daddr", "destinations"}, {"target", "action"},
                          {"iifname", "interface"}, {"limit", "rate_limit"}};
    for (const Case& c : cases) {
        INFO(c.word);
        CHECK(suggest_known_path("firewall.rules[3]." + c.word) == "firewall.rules[3]." + c.key);
    }
}

TEST_CASE("a synonym is read in its own section only") {
    CHECK(suggest_known_path("firewall.forwards[0].dport") == "firewall.forwards[0].external_port");
    CHECK(suggest_known_path("firewall.rules[0].port") == "firewall.rules[0].destination_ports");
    CHECK(suggest_known_path("lan.subnet") == "lan.networks");
    CHECK(suggest_known_path("wan.ip") == "wan.address");
    CHECK(suggest_known_path("dport") == std::nullopt);
}

TEST_CASE("every synonym leads to a key of its section and is not a key itself") {
    for (const KeySynonym& synonym : key_synonyms()) {
        std::string section(synonym.section);
        INFO(section << ": " << synonym.word << " -> " << synonym.key);
        CHECK(is_schema_section(section));
        CHECK((find_schema_key(section + "." + std::string(synonym.key)) != nullptr ||
               is_schema_section(section + "." + std::string(synonym.key))));
        CHECK(find_schema_key(section + "." + std::string(synonym.word)) == nullptr);
        CHECK_FALSE(is_schema_section(section + "." + std::string(synonym.word)));
    }
}

}  // namespace gw

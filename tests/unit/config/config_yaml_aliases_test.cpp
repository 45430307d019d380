// YAML anchors and aliases: a value given by an alias reads as if written out, but a
// problem in it is one error where the alias is used, not the anchor's errors again at
// the anchor's lines for every use.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "config_fixtures.hpp"

namespace gw {

using namespace config_fixtures;

TEST_CASE("an aliased value that is fine reads as if written out") {
    GatewayConfig config = loaded(with_forwards(
        "    - {name: a, protocol: tcp, external_port: 80, internal: 192.168.1.2, allowed_sources: &office [198.51.100.0/24]}\n"
        "    - {name: b, protocol: tcp, external_port: 81, internal: 192.168.1.2, allowed_sources: *office}\n"));
    REQUIRE(config.firewall.forwards.size() == 2);
    CHECK(config.firewall.forwards[1].allowed_sources == config.firewall.forwards[0].allowed_sources);
}

TEST_CASE("a broken item used through an alias twice is one error at each use, not its errors again") {
    CHECK(errors_of(with_forwards("    - &web {name: web, protocol: tcp, external_port: 80, internal: 192.168.1.2, bogus: 1}\n"
                                  "    - *web\n"
                                  "    - *web\n")) ==
          std::vector<std::string>{
              "test.yaml:7:81: unknown key 'firewall.forwards[0].bogus'",
              "test.yaml:8:7: the alias *web (anchored on line 7): unknown key 'firewall.forwards[1].bogus'",
              "test.yaml:9:7: the alias *web (anchored on line 7): unknown key 'firewall.forwards[2].bogus'",
          });
}

TEST_CASE("an item with several problems used through an alias is still one error, with the count") {
    CHECK(errors_of(with_forwards("    - &web {name: web, protocol: sctp, external_port: 0}\n"
                                  "    - *web\n"))
              .back() == "test.yaml:8:7: the alias *web (anchored on line 7): firewall.forwards[1].protocol: expected "
                         "one of tcp, udp, got 'sctp' (and 2 more in it)");
}

TEST_CASE("an alias of a single value where a map is wanted is one error at the alias") {
    CHECK(errors_of("wan:\n  interface: &wan eth0\nlan: *wan\n") ==
          one("test.yaml:3:6: the alias *wan (anchored on line 2): lan: expected a map of settings, got a single "
              "value"));
}

TEST_CASE("a cross-key error about an aliased value points at the alias") {
    // The second forward is the first again: the same name and port, reported at line 8.
    auto errors = errors_of(with_forwards("    - &web {name: web, protocol: tcp, external_port: 80, internal: 192.168.1.2}\n"
                                          "    - *web\n"));
    REQUIRE_FALSE(errors.empty());
    for (const std::string& error : errors) CHECK_THAT(error, Catch::StartsWith("test.yaml:8:7: firewall.forwards[1]."));
}

TEST_CASE("a merge key is one error at the merge, not a silently dropped map") {
    CHECK(errors_of(with_forwards("    - &web {name: web, protocol: tcp, external_port: 80, internal: 192.168.1.2}\n"
                                  "    - <<: *web\n"
                                  "      name: web2\n"
                                  "      external_port: 81\n")) ==
          one("test.yaml:8:7: firewall.forwards[1].<<: YAML merge keys are not supported; write the keys out, or "
              "alias the whole item (- *name)"));
}

TEST_CASE("an alias without an anchor names itself") {
    CHECK(errors_of(interfaces + "firewall:\n  dmz: *nosuch\n") ==
          one("test.yaml:6:8: the alias *nosuch names no anchor: write &nosuch on the node it stands for, before "
              "this use"));
}

TEST_CASE("aliases that repeat a node past what a 1 MiB file can hold are one error, at once") {
    // 1000 keys read 20000 times: 20 million values from 68 kB ("billion laughs").
    std::string keys, uses;
    for (int i = 0; i < 1000; ++i) keys += (i == 0 ? "" : ", ") + ("k" + std::to_string(i) + ": 1");
    for (int i = 0; i < 20000; ++i) uses += i == 0 ? "*m" : ", *m";
    auto start = std::chrono::steady_clock::now();
    ConfigLoadResult result =
        load_config_text(interfaces + "x: &m {" + keys + "}\nfirewall: {rules: [" + uses + "]}\n", "test.yaml");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));  // it took minutes
    CHECK_FALSE(result.config);
    std::vector<std::string> bombs;
    for (const ConfigError& error : result.errors) {
        if (error.message.find("values long") != std::string::npos) bombs.push_back(error.to_string());
    }
    REQUIRE(bombs.size() == 1);
    CHECK_THAT(bombs[0], Catch::StartsWith("test.yaml:6:20: "));  // the first alias
    CHECK_THAT(bombs[0], Catch::EndsWith(": the aliases make this file more than 524288 values long; write it without "
                                         "aliases of aliases"));
}

}  // namespace gw

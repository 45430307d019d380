// The config loader's behaviour as an operator sees it: what loads, what is refused,
// and exactly where the error points.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_reference.hpp"
#include "config/config_schema.hpp"
#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"

namespace gw {
namespace {

using namespace config_fixtures;

const std::string source_dir = GW_SOURCE_DIR;

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("a config with only the two interfaces takes every default") {
    GatewayConfig config = loaded(interfaces);
    GatewayConfig defaults;
    CHECK(config.lan_interface == "eth1");
    CHECK(config.wan_interface == "eth0");
    CHECK_FALSE(config.wan_address);
    CHECK(config.port_range == PortRange{1024, 65535});
    CHECK(config.timeouts == NatTimeouts{});
    CHECK(config.max_mappings == defaults.max_mappings);
    CHECK(config.queue_number == 0);
}

TEST_CASE("every key is read into its field") {
    GatewayConfig config = loaded(interfaces +
                                  "  address: 203.0.113.7\n"
                                  "nat:\n"
                                  "  port_range: 20000-29999\n"
                                  "  timeouts: {udp: 600, tcp_established: 86400, tcp_opening: 150, tcp_closing: 300, icmp: 90}\n"
                                  "  max_mappings: 1000\n"
                                  "nfqueue:\n"
                                  "  queue: 7\n");
    CHECK(config.wan_address == Ipv4Address::from_octets(203, 0, 113, 7));
    CHECK(config.port_range == PortRange{20000, 29999});
    CHECK(config.timeouts.udp == 600);
    CHECK(config.timeouts.tcp_established == 86400);
    CHECK(config.timeouts.tcp_opening == 150);
    CHECK(config.timeouts.tcp_closing == 300);
    CHECK(config.timeouts.icmp == 90);
    CHECK(config.max_mappings == 1000);
    CHECK(config.queue_number == 7);
}

TEST_CASE("the shipped example config loads") {
    ConfigLoadResult result = load_config_file(source_dir + "/config/gateway.yaml");
    for (const ConfigError& error : result.errors) UNSCOPED_INFO(error.to_string());
    REQUIRE(result.errors.empty());
    REQUIRE(result.config);
    CHECK(result.config->lan_interface == "eth1");
    CHECK(result.config->wan_interface == "eth0");
}

// Keys inside list items are shown by the commented rule and forward examples instead
// (config_firewall_test.cpp loads them), and a key with no default is shown commented out.
TEST_CASE("the shipped example config shows every key of the schema at its default") {
    YAML::Node example = YAML::LoadFile(source_dir + "/config/gateway.yaml");
    GatewayConfig example_config = *load_config_file(source_dir + "/config/gateway.yaml").config;
    for (const SchemaKey& key : config_schema()) {
        INFO(key.path);
        if (key.path.find("[]") != std::string::npos || key.default_text() == "(none)") continue;
        YAML::Node node = example;
        for (std::size_t start = 0, dot = 0; dot != std::string::npos; start = dot + 1) {
            dot = key.path.find('.', start);
            node.reset(node[key.path.substr(start, dot - start)]);
            REQUIRE(node.IsDefined());
        }
        if (!key.required) CHECK(key.show(example_config) == key.default_text());
    }
}

TEST_CASE("docs/configuration.md matches the schema") {
    // On failure, the expected side is the new docs/configuration.md.
    CHECK(read_text(source_dir + "/docs/configuration.md") == config_reference_markdown());
}

TEST_CASE("the man page gateway.yaml(5) lists every key of the schema, as the reference does") {
    // On failure, the expected side is the new KEYS section, from ".SH KEYS" to the next ".SH".
    std::string page = read_text(source_dir + "/docs/man/gateway.yaml.5");
    auto start = page.find(".SH KEYS\n");
    REQUIRE(start != std::string::npos);
    auto end = page.find("\n.SH ", start + 1);
    std::string section = page.substr(start, end == std::string::npos ? std::string::npos : end + 1 - start);
    CHECK(section == config_reference_man_keys());
}

TEST_CASE("the reference documents every key with its type, default and RFC minimum") {
    std::string reference = config_reference_markdown();
    CHECK_THAT(reference, Catch::Contains("| `lan.interface` | interface name | (required) |"));
    CHECK_THAT(reference, Catch::Contains("| `wan.address` | IPv4 address or `auto` | `auto` |"));
    CHECK_THAT(reference, Catch::Contains("| `nat.port_range` | port range | `1024-65535` |"));
    CHECK_THAT(reference, Catch::Contains("| `nat.timeouts.udp` | integer (seconds) | `300` |"));
    CHECK_THAT(reference, Catch::Contains("at least 7440 (RFC 5382 REQ-5)"));
    CHECK_THAT(reference, Catch::Contains("| `nfqueue.queue` | integer | `0` |"));
}

TEST_CASE("a port range of 70000-1 is refused with its line and column") {
    CHECK(errors_of(interfaces + "nat:\n  port_range: 70000-1\n") ==
          one("test.yaml:6:15: nat.port_range: expected a port range \"first-last\" with 1 <= first <= last <= "
              "65535, or a single port, got '70000-1'"));
}

TEST_CASE("a reversed port range is refused") {
    CHECK(errors_of(interfaces + "nat:\n  port_range: 2000-1000\n").size() == 1);
}

TEST_CASE("a port range that includes port 0 is refused") {
    CHECK(errors_of(interfaces + "nat:\n  port_range: 0-1000\n") ==
          one("test.yaml:6:15: nat.port_range: port 0 cannot be allocated; the range must start at 1 or above"));
}

TEST_CASE("a single port is a port range of one") {
    CHECK(loaded(interfaces + "nat:\n  port_range: 5004\n").port_range == PortRange{5004, 5004});
}

TEST_CASE("a port range written as a sequence is refused as the wrong type") {
    CHECK(errors_of(interfaces + "nat:\n  port_range: [1024, 65535]\n") ==
          one("test.yaml:6:15: nat.port_range: expected a port range, got a sequence"));
}

TEST_CASE("an unknown key is refused with a suggestion") {
    CHECK(errors_of(interfaces + "nat:\n  portrange: 1024-2048\n") ==
          one("test.yaml:6:3: unknown key 'nat.portrange' (did you mean 'nat.port_range'?)"));
}

TEST_CASE("a key written in the wrong section is pointed to its section") {
    CHECK(errors_of(interfaces + "timeouts:\n  udp: 300\n") ==
          one("test.yaml:5:1: unknown key 'timeouts' (did you mean 'nat.timeouts'?)"));
}

TEST_CASE("an unknown key with no close match gets no suggestion") {
    CHECK(errors_of(interfaces + "vpn:\n  enabled: true\n") == one("test.yaml:5:1: unknown key 'vpn'"));
}

TEST_CASE("a dotted key written flat is refused") {
    CHECK(errors_of(interfaces + "nat.port_range: 1-2\n") ==
          one("test.yaml:5:1: 'nat.port_range': write dotted keys as nested maps"));
}

TEST_CASE("a duplicate key is refused at its second occurrence") {
    CHECK(errors_of(interfaces + "nat:\n  max_mappings: 10\n  max_mappings: 20\n") ==
          one("test.yaml:7:3: duplicate key 'nat.max_mappings' (first set at line 6)"));
}

TEST_CASE("a timeout below its RFC minimum is refused citing the RFC requirement") {
    struct Case {
        std::string key;
        std::string value;
        std::string message;
    };
    const Case cases[] = {
        {"udp", "60", "60 is below the 120 s minimum of RFC 4787 REQ-5"},
        {"udp", "119", "119 is below the 120 s minimum of RFC 4787 REQ-5"},
        {"tcp_established", "7439", "7439 is below the 7440 s minimum of RFC 5382 REQ-5"},
        {"tcp_transitory", "239", "239 is below the 240 s minimum of RFC 5382 REQ-5"},
        {"tcp_closing", "239", "239 is below the 240 s minimum of RFC 5382 REQ-5"},
        {"tcp_opening", "119",
         "119 is below the 120 s minimum (RFC 7857 §2.1 lets it go below RFC 5382 REQ-5's 240 s; 120 s outlasts "
         "the gaps between a SYN's retransmissions)"},
        {"tcp_opening", "0",
         "0 is below the 120 s minimum (RFC 7857 §2.1 lets it go below RFC 5382 REQ-5's 240 s; 120 s outlasts "
         "the gaps between a SYN's retransmissions)"},
        {"icmp", "59", "59 is below the 60 s minimum of RFC 5508 REQ-2"},
        {"icmp", "0", "0 is below the 60 s minimum of RFC 5508 REQ-2"},
        {"icmp", "-5", "-5 is below the 60 s minimum of RFC 5508 REQ-2"},
    };
    for (const Case& c : cases) {
        INFO(c.key << ": " << c.value);
        std::string line = "    " + c.key + ": " + c.value + "\n";
        std::string column = std::to_string(4 + c.key.size() + 2 + 1);
        CHECK(errors_of(interfaces + "nat:\n  timeouts:\n" + line) ==
              one("test.yaml:7:" + column + ": nat.timeouts." + c.key + ": " + c.message));
    }
}

TEST_CASE("a timeout at exactly its RFC minimum is accepted") {
    GatewayConfig config = loaded(interfaces + "nat:\n  timeouts:\n    udp: 120\n    tcp_established: 7440\n" +
                                  "    tcp_opening: 120\n    tcp_closing: 240\n    icmp: 60\n");
    CHECK(config.timeouts.udp == NatTimeouts::udp_minimum);
    CHECK(config.timeouts.tcp_established == NatTimeouts::tcp_established_minimum);
    CHECK(config.timeouts.tcp_opening == NatTimeouts::tcp_opening_minimum);
    CHECK(config.timeouts.tcp_closing == NatTimeouts::tcp_closing_minimum);
    CHECK(config.timeouts.icmp == NatTimeouts::icmp_minimum);
}

TEST_CASE("the TCP opening and closing timeouts default to RFC 7857 §2.1's recommended 4 minutes") {
    GatewayConfig config = loaded(interfaces);
    CHECK(config.timeouts.tcp_opening == 240);
    CHECK(config.timeouts.tcp_closing == 240);
}

TEST_CASE("nat.timeouts.tcp_transitory, the older key, sets both the opening and the closing timeout") {
    GatewayConfig config = loaded(interfaces + "nat:\n  timeouts:\n    tcp_transitory: 300\n");
    CHECK(config.timeouts.tcp_opening == 300);
    CHECK(config.timeouts.tcp_closing == 300);
}

TEST_CASE("tcp_opening or tcp_closing named beside tcp_transitory wins over it, before or after it") {
    SECTION("tcp_opening after") {
        GatewayConfig config = loaded(interfaces + "nat:\n  timeouts:\n    tcp_transitory: 300\n    tcp_opening: 130\n");
        CHECK(config.timeouts.tcp_opening == 130);
        CHECK(config.timeouts.tcp_closing == 300);
    }
    SECTION("tcp_opening before") {
        GatewayConfig config = loaded(interfaces + "nat:\n  timeouts:\n    tcp_opening: 130\n    tcp_transitory: 300\n");
        CHECK(config.timeouts.tcp_opening == 130);
        CHECK(config.timeouts.tcp_closing == 300);
    }
    SECTION("tcp_closing before") {
        GatewayConfig config = loaded(interfaces + "nat:\n  timeouts:\n    tcp_closing: 900\n    tcp_transitory: 250\n");
        CHECK(config.timeouts.tcp_opening == 250);
        CHECK(config.timeouts.tcp_closing == 900);
    }
    SECTION("both named: tcp_transitory changes nothing") {
        GatewayConfig config = loaded(interfaces + "nat:\n  timeouts:\n    tcp_closing: 900\n    tcp_transitory: 250\n"
                                                   "    tcp_opening: 180\n");
        CHECK(config.timeouts.tcp_opening == 180);
        CHECK(config.timeouts.tcp_closing == 900);
    }
}

TEST_CASE("tcp_transitory below 240 s is refused even beside a tcp_opening that may be lower") {
    CHECK(errors_of(interfaces + "nat:\n  timeouts:\n    tcp_opening: 130\n    tcp_transitory: 200\n") ==
          one("test.yaml:8:21: nat.timeouts.tcp_transitory: 200 is below the 240 s minimum of RFC 5382 REQ-5"));
}

TEST_CASE("a value of the wrong type for an integer key is refused") {
    struct Case {
        std::string value;
        std::string message;
    };
    const Case cases[] = {
        {"yes", "expected an integer, got the boolean 'yes'"},
        {"true", "expected an integer, got the boolean 'true'"},
        {"\"1000\"", "expected an integer, got the quoted string \"1000\""},
        {"!!str 1000", "expected an integer, got a value tagged tag:yaml.org,2002:str"},
        {"lots", "expected an integer, got 'lots'"},
        {"1.5", "expected an integer, got '1.5'"},
        {"0x10", "expected an integer, got '0x10'"},
        {"{a: 1}", "expected an integer, got a map"},
        {"[1]", "expected an integer, got a sequence"},
        {"99999999999999999999", "'99999999999999999999' is too large"},
    };
    for (const Case& c : cases) {
        INFO(c.value);
        CHECK(errors_of(interfaces + "nat:\n  max_mappings: " + c.value + "\n") ==
              one("test.yaml:6:17: nat.max_mappings: " + c.message));
    }
}

TEST_CASE("an empty value is refused at its key") {
    CHECK(errors_of(interfaces + "nfqueue:\n  queue:\n") ==
          one("test.yaml:6:3: nfqueue.queue: expected an integer, got nothing"));
}

TEST_CASE("integers outside their key's range are refused") {
    CHECK(errors_of(interfaces + "nat:\n  max_mappings: 0\n") ==
          one("test.yaml:6:17: nat.max_mappings: expected an integer from 1 to 16777216, got 0"));
    CHECK(errors_of(interfaces + "nat:\n  max_mappings: 16777217\n").size() == 1);
    CHECK(loaded(interfaces + "nat:\n  max_mappings: 16777216\n").max_mappings == 16777216);
    CHECK(errors_of(interfaces + "nfqueue:\n  queue: 65536\n") ==
          one("test.yaml:6:10: nfqueue.queue: expected an integer from 0 to 65535, got 65536"));
    CHECK(loaded(interfaces + "nfqueue:\n  queue: 65535\n").queue_number == 65535);
}

TEST_CASE("the flow limits are read into the NAT limits and refused outside their ranges") {
    GatewayConfig config = loaded(interfaces +
                                  "nat:\n  max_flows_per_host: 100\n  max_ports_per_host: 20\n"
                                  "  max_embryonic_inbound: 300\n");
    CHECK(config.limits.flows_per_host == 100);
    CHECK(config.limits.ports_per_host == 20);
    CHECK(config.limits.embryonic_inbound == 300);
    CHECK(errors_of(interfaces + "nat:\n  max_ports_per_host: 65536\n") ==
          one("test.yaml:6:23: nat.max_ports_per_host: expected an integer from 1 to 65535, got 65536"));
    CHECK(errors_of(interfaces + "nat:\n  max_flows_per_host: 0\n").size() == 1);
    CHECK(errors_of(interfaces + "nat:\n  max_embryonic_inbound: 16777217\n").size() == 1);
}

TEST_CASE("interface names that Linux would refuse are refused") {
    const std::string names[] = {"\"\"", "abcdefghijklmnop", "eth0:1", "a/b", "\"a b\"", ".", ".."};
    for (const std::string& name : names) {
        INFO(name);
        auto errors = errors_of("lan:\n  interface: " + name + "\nwan:\n  interface: eth0\n");
        REQUIRE(errors.size() == 1);
        CHECK_THAT(errors[0], Catch::StartsWith("test.yaml:2:14: lan.interface: "));
    }
    CHECK(loaded("lan:\n  interface: abcdefghijklmno\nwan:\n  interface: eth0\n").lan_interface ==
          "abcdefghijklmno");
}

TEST_CASE("the same interface for LAN and WAN is refused at wan.interface") {
    CHECK(errors_of("lan:\n  interface: eth0\nwan:\n  interface: eth0\n") ==
          one("test.yaml:4:14: wan.interface: 'eth0' is also lan.interface; the WAN and LAN interfaces must differ"));
}

TEST_CASE("wan.address is auto or a unicast IPv4 address") {
    CHECK_FALSE(loaded(interfaces + "  address: auto\n").wan_address);
    CHECK(loaded(interfaces + "  address: 198.51.100.1\n").wan_address == Ipv4Address::from_octets(198, 51, 100, 1));
    const std::string refused[] = {"0.0.0.0", "127.0.0.1", "224.0.0.1", "239.255.255.250", "255.255.255.255",
                                   "10.0.0", "010.0.0.1", "eth0"};
    for (const std::string& address : refused) {
        INFO(address);
        auto errors = errors_of(interfaces + "  address: " + address + "\n");
        REQUIRE(errors.size() == 1);
        CHECK_THAT(errors[0], Catch::StartsWith("test.yaml:5:12: wan.address: "));
    }
    CHECK(errors_of(interfaces + "  address: 127.0.0.1\n") ==
          one("test.yaml:5:12: wan.address: '127.0.0.1' cannot be the NAT's external address: it is a loopback "
              "address"));
}

TEST_CASE("a missing required key is reported at the top of the file") {
    CHECK(errors_of("wan:\n  interface: eth0\n") == one("test.yaml:1:1: missing required key 'lan.interface'"));
}

TEST_CASE("a missing required key is reported at its section when the section is present") {
    CHECK(errors_of("lan:\n  interface: eth1\nwan:\n  address: auto\n") ==
          one("test.yaml:3:1: missing required key 'wan.interface'"));
}

TEST_CASE("all errors in a file are reported in one pass, in file order") {
    const std::string yaml =
        "lan:\n"
        "  interface: eth1\n"
        "wan:\n"
        "  interface: eth0\n"
        "  address: 127.0.0.1\n"
        "nat:\n"
        "  portrange: 1024-2048\n"
        "  timeouts:\n"
        "    udp: 60\n"
        "    icmp: yes\n"
        "nfqueue:\n"
        "  queue: 70000\n";
    CHECK(errors_of(yaml) ==
          std::vector<std::string>{
              "test.yaml:5:12: wan.address: '127.0.0.1' cannot be the NAT's external address: it is a loopback address",
              "test.yaml:7:3: unknown key 'nat.portrange' (did you mean 'nat.port_range'?)",
              "test.yaml:9:10: nat.timeouts.udp: 60 is below the 120 s minimum of RFC 4787 REQ-5",
              "test.yaml:10:11: nat.timeouts.icmp: expected an integer, got the boolean 'yes'",
              "test.yaml:12:10: nfqueue.queue: expected an integer from 0 to 65535, got 70000",
          });
}

TEST_CASE("a required section of the wrong type is reported once, not again as missing keys") {
    CHECK(errors_of("lan: eth1\nwan:\n  interface: eth0\n") ==
          one("test.yaml:1:6: lan: expected a map of settings, got a single value"));
}

TEST_CASE("a config with errors yields no config") {
    ConfigLoadResult result = load_config_text(interfaces + "nat:\n  max_mappings: 0\n", "test.yaml");
    CHECK_FALSE(result.config);
    CHECK(result.errors.size() == 1);
}

TEST_CASE("an empty section takes the defaults of its keys") {
    CHECK(loaded(interfaces + "nat:\nnfqueue:\n").timeouts == NatTimeouts{});
}

TEST_CASE("a section given a single value is refused") {
    CHECK(errors_of(interfaces + "nat: 5\n") == one("test.yaml:5:6: nat: expected a map of settings, got a single value"));
}

TEST_CASE("a YAML syntax error becomes one positioned error") {
    CHECK(errors_of(interfaces + "nat:\n  port_range: [1024\n") ==
          one("test.yaml:7:1: invalid YAML: end of sequence flow not found"));
}

TEST_CASE("an empty or comment-only file is refused") {
    const std::string message = "test.yaml:1:1: the configuration is empty; expected a map of settings";
    CHECK(errors_of("") == one(message));
    CHECK(errors_of("# nothing here\n") == one(message));
    CHECK(errors_of("---\n") == one(message));
}

TEST_CASE("a top level that is not a map is refused") {
    CHECK(errors_of("- eth0\n- eth1\n") == one("test.yaml:1:1: expected a map of settings at the top level, got a sequence"));
    CHECK(errors_of("eth0\n") == one("test.yaml:1:1: expected a map of settings at the top level, got a single value"));
}

TEST_CASE("a second YAML document is refused") {
    CHECK(errors_of(interfaces + "---\nnat:\n  max_mappings: 5\n") ==
          one("test.yaml:6:1: only one YAML document is allowed; this is the second"));
}

TEST_CASE("an unreadable file is one error with the system's reason") {
    ConfigLoadResult missing = load_config_file("/nonexistent/gateway.yaml");
    CHECK_FALSE(missing.config);
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].to_string() == "/nonexistent/gateway.yaml: cannot read: No such file or directory");

    ConfigLoadResult directory = load_config_file(source_dir + "/config");
    REQUIRE(directory.errors.size() == 1);
    CHECK(directory.errors[0].message == "cannot read: Is a directory");
}

TEST_CASE("a config error prints like a compiler error") {
    CHECK(ConfigError{"gateway.yaml", 3, 14, "oops"}.to_string() == "gateway.yaml:3:14: oops");
}

TEST_CASE("nfqueue.workers may not run the queue numbers past 65535") {
    ConfigLoadResult result = load_config_text(
        "lan:\n  interface: lan0\nwan:\n  interface: wan0\nnfqueue:\n  queue: 65535\n  workers: 2\n", "test.yaml");
    REQUIRE_FALSE(result.config);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message.find("nfqueue.workers: 2 workers from queue 65535") != std::string::npos);
    CHECK(load_config_text("lan:\n  interface: lan0\nwan:\n  interface: wan0\nnfqueue:\n  queue: 65534\n  workers: 2\n", "test.yaml")
              .config->queue_workers == 2);
}

TEST_CASE("nfqueue.worker_priority is off by default, takes a SCHED_FIFO priority up to 99 and refuses more") {
    const std::string base = "lan:\n  interface: lan0\nwan:\n  interface: wan0\n";
    CHECK(load_config_text(base, "test.yaml").config->queue_worker_priority == 0);
    CHECK(load_config_text(base + "nfqueue:\n  worker_priority: 99\n", "test.yaml").config->queue_worker_priority == 99);
    ConfigLoadResult result = load_config_text(base + "nfqueue:\n  worker_priority: 100\n", "test.yaml");
    REQUIRE_FALSE(result.config);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message.find("nfqueue.worker_priority") != std::string::npos);
}

// Found by fuzz/config_loader: yaml-cpp 0.7's LoadAll never returns on a stray flow
// entry (it collects empty documents until memory runs out). The loader reads at most
// two documents, so this is an error at once.
TEST_CASE("a stray comma is refused at once instead of exhausting memory") {
    for (const std::string& text : {std::string(","), std::string(",\n"), interfaces + ","}) {
        INFO(text);
        ConfigLoadResult result = load_config_text(text, "test.yaml");
        CHECK_FALSE(result.config);
        REQUIRE_FALSE(result.errors.empty());
        // Not the std::bad_alloc of an exhausted parser, caught as "cannot load".
        CHECK_THAT(result.errors.front().message, !Catch::Matchers::StartsWith("cannot load"));
    }
}

}  // namespace gw

// The upnp section of the config as an operator sees it: what loads into IgdConfig,
// what is refused, and exactly where each refusal points.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_reference.hpp"
#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"
#include "igd/igd_config.hpp"

namespace gw {
namespace {

using namespace config_fixtures;

const std::string source_dir = GW_SOURCE_DIR;

// Line 5 "upnp:"; the first key is on line 6 at column 3, its value at column
// 3 + key length + 2.
std::string with_upnp(const std::string& lines) {
    return interfaces + "upnp:\n" + lines;
}

// Line 6 "permissions:"; the first rule at 7:7, the next at 8:7.
std::string with_permissions(const std::vector<std::string>& rules) {
    std::string yaml = with_upnp("  permissions:\n");
    for (const std::string& rule : rules) yaml += "    - " + rule + "\n";
    return yaml;
}

std::string value_column(const std::string& key) {
    return std::to_string(2 + key.size() + 2 + 1);
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

// The example's commented-out permissions ("  # permissions:", "  # - ...") uncommented,
// and its "permissions: []" placeholder gone.
std::string example_with_permissions_uncommented() {
    std::istringstream in(read_text(source_dir + "/config/gateway.yaml"));
    std::string text;
    for (std::string line; std::getline(in, line);) {
        if (line == "  permissions: []") continue;
        if (line.starts_with("  # permissions:") || line.starts_with("  # - ")) line.erase(2, 2);
        text += line + '\n';
    }
    return text;
}

}  // namespace

TEST_CASE("without an upnp section the IGD is on, announces IGD:1 on port 5000 and keeps every default") {
    IgdConfig upnp = loaded(interfaces).upnp;
    CHECK(upnp.enabled);
    CHECK(upnp.igd_version == 1);
    CHECK(upnp.http_port == 49152);
    CHECK(upnp.secure_mode);
    CHECK(upnp.max_lease_seconds == 604800);
    CHECK(upnp.per_client_limit == 128);
    CHECK(upnp.max_mappings == 1024);
    CHECK(upnp.lease_file == "/var/lib/gatewayd/leases");
    CHECK(upnp.friendly_name == "gatewayd");
    CHECK(upnp.advertisement_seconds == 1800);
    CHECK(upnp.permissions.empty());
}

TEST_CASE("an empty upnp section takes the defaults of its keys") {
    CHECK(loaded(with_upnp("")).upnp.http_port == IgdConfig{}.http_port);
}

TEST_CASE("every upnp key is read into IgdConfig") {
    IgdConfig upnp = loaded(with_upnp("  enabled: false\n"
                                      "  igd_version: 2\n"
                                      "  http_port: 50000\n"
                                      "  secure_mode: false\n"
                                      "  max_lease: 86400\n"
                                      "  per_client_limit: 16\n"
                                      "  max_mappings: 256\n"
                                      "  lease_file: /run/gatewayd/upnp.leases\n"
                                      "  friendly_name: Wohnzimmer-Router\n"
                                      "  advertisement_seconds: 3600\n"
                                      "  permissions: [allow 1024-65535 192.168.50.0/24 1024-65535]\n"))
                       .upnp;
    CHECK_FALSE(upnp.enabled);
    CHECK(upnp.igd_version == 2);
    CHECK(upnp.http_port == 50000);
    CHECK_FALSE(upnp.secure_mode);
    CHECK(upnp.max_lease_seconds == 86400);
    CHECK(upnp.per_client_limit == 16);
    CHECK(upnp.max_mappings == 256);
    CHECK(upnp.lease_file == "/run/gatewayd/upnp.leases");
    CHECK(upnp.friendly_name == "Wohnzimmer-Router");
    CHECK(upnp.advertisement_seconds == 3600);
    CHECK(upnp.permissions.size() == 1);
}

TEST_CASE("upnp.igd_version is 1 or 2 and nothing else") {
    CHECK(loaded(with_upnp("  igd_version: 2\n")).upnp.igd_version == 2);
    CHECK(errors_of(with_upnp("  igd_version: 3\n")) ==
          one("test.yaml:6:16: upnp.igd_version: expected 1 or 2 (InternetGatewayDevice:1 or :2), got 3"));
    CHECK(errors_of(with_upnp("  igd_version: 0\n")).size() == 1);
    CHECK(errors_of(with_upnp("  igd_version: \"2\"\n")) ==
          one("test.yaml:6:16: upnp.igd_version: expected an integer, got the quoted string \"2\""));
}

TEST_CASE("upnp numbers outside their range are refused with the range") {
    struct Case {
        std::string key;
        std::string value;
        std::string range;
    };
    const Case cases[] = {
        {"http_port", "5000", "49152 to 65535"},
        {"http_port", "65536", "49152 to 65535"},
        {"max_lease", "0", "1 to 604800"},
        {"max_lease", "604801", "1 to 604800"},
        {"per_client_limit", "0", "1 to 65535"},
        {"per_client_limit", "65536", "1 to 65535"},
        {"max_mappings", "0", "1 to 65535"},
        {"max_mappings", "65536", "1 to 65535"},
        {"advertisement_seconds", "59", "60 to 86400"},
        {"advertisement_seconds", "86401", "60 to 86400"},
    };
    for (const Case& c : cases) {
        INFO(c.key << ": " << c.value);
        CHECK(errors_of(with_upnp("  " + c.key + ": " + c.value + "\n")) ==
              one("test.yaml:6:" + value_column(c.key) + ": upnp." + c.key + ": expected an integer from " + c.range +
                  ", got " + c.value));
    }
}

TEST_CASE("upnp numbers at the ends of their range are accepted") {
    IgdConfig low = loaded(with_upnp("  http_port: 49152\n  max_lease: 1\n  per_client_limit: 1\n  max_mappings: 1\n"
                                     "  advertisement_seconds: 60\n"))
                        .upnp;
    CHECK(low.http_port == 49152);
    CHECK(low.max_lease_seconds == 1);
    CHECK(low.per_client_limit == 1);
    CHECK(low.max_mappings == 1);
    CHECK(low.advertisement_seconds == 60);  // below UDA's recommended 1800, but allowed
    IgdConfig high = loaded(with_upnp("  http_port: 65535\n  max_lease: 604800\n  per_client_limit: 65535\n"
                                      "  max_mappings: 65535\n  advertisement_seconds: 86400\n"))
                         .upnp;
    CHECK(high.http_port == 65535);
    CHECK(high.max_lease_seconds == 604800);
    CHECK(high.per_client_limit == 65535);
    CHECK(high.max_mappings == 65535);
    CHECK(high.advertisement_seconds == 86400);
}

TEST_CASE("upnp switches are true or false, not yes or on") {
    CHECK(errors_of(with_upnp("  enabled: yes\n")) == one("test.yaml:6:12: upnp.enabled: expected true or false, got 'yes'"));
    CHECK(errors_of(with_upnp("  secure_mode: off\n")) ==
          one("test.yaml:6:16: upnp.secure_mode: expected true or false, got 'off'"));
}

TEST_CASE("an upnp section given a single value is refused as the wrong type") {
    CHECK(errors_of(interfaces + "upnp: false\n") == one("test.yaml:5:7: upnp: expected a map of settings, got a single value"));
}

TEST_CASE("an unknown upnp key is refused with a suggestion") {
    CHECK(errors_of(with_upnp("  max_leases: 3600\n")) ==
          one("test.yaml:6:3: unknown key 'upnp.max_leases' (did you mean 'upnp.max_lease'?)"));
}

TEST_CASE("a lease file that is relative or names a directory is refused") {
    struct Case {
        std::string value;
        std::string message;
    };
    const Case cases[] = {
        {"leases", "'leases' is a relative path; write an absolute one such as /var/lib/gatewayd/leases"},
        {"./leases", "'./leases' is a relative path; write an absolute one such as /var/lib/gatewayd/leases"},
        {"/var/lib/gatewayd/", "'/var/lib/gatewayd/' names a directory; write the path of the lease file in it, such as "
                               "/var/lib/gatewayd/leases"},
        {"/", "'/' names a directory; write the path of the lease file in it, such as /var/lib/gatewayd/leases"},
        {"/var/lib/gatewayd/..", "'/var/lib/gatewayd/..' names a directory; write the path of the lease file in it, "
                                 "such as /var/lib/gatewayd/leases"},
        {"\"\"", "the lease file path cannot be empty"},
        {"\"/var/lib/gatewayd/leases\\0.old\"", "the lease file path contains a control character"},
    };
    for (const Case& c : cases) {
        INFO(c.value);
        CHECK(errors_of(with_upnp("  lease_file: " + c.value + "\n")) ==
              one("test.yaml:6:15: upnp.lease_file: " + c.message));
    }
    CHECK(loaded(with_upnp("  lease_file: /var/lib/gatewayd/../leases\n")).upnp.lease_file ==
          "/var/lib/gatewayd/../leases");
}

TEST_CASE("a friendly name has 1 to 63 printable characters, counted as characters rather than bytes") {
    CHECK(loaded(with_upnp("  friendly_name: " + std::string(63, 'x') + "\n")).upnp.friendly_name.size() == 63);
    CHECK(errors_of(with_upnp("  friendly_name: " + std::string(64, 'x') + "\n")) ==
          one("test.yaml:6:18: upnp.friendly_name: '" + std::string(64, 'x') +
              "' has 64 characters; a friendly name has at most 63 (UPnP Device Architecture: fewer than 64)"));
    std::string e_acute_63;
    for (int i = 0; i < 63; ++i) e_acute_63 += "\xc3\xa9";  // 126 bytes
    CHECK(loaded(with_upnp("  friendly_name: " + e_acute_63 + "\n")).upnp.friendly_name == e_acute_63);
    CHECK(loaded(with_upnp("  friendly_name: \"Router <Küche> & Flur\"\n")).upnp.friendly_name ==
          "Router <Küche> & Flur");
}

TEST_CASE("a friendly name that is empty, holds a control character or is not UTF-8 is refused") {
    CHECK(errors_of(with_upnp("  friendly_name: \"\"\n")) ==
          one("test.yaml:6:18: upnp.friendly_name: a friendly name cannot be empty"));
    CHECK(errors_of(with_upnp("  friendly_name: \"a\\tb\"\n")) ==
          one("test.yaml:6:18: upnp.friendly_name: the friendly name contains the control character U+0009 "
              "(character 2)"));
    CHECK(errors_of(with_upnp("  friendly_name: \"gw\\x85\"\n")) ==  // NEL, a C1 control
          one("test.yaml:6:18: upnp.friendly_name: the friendly name contains the control character U+0085 "
              "(character 3)"));
    CHECK(errors_of(with_upnp("  friendly_name: \"gw\\x7f\"\n")).size() == 1);
    CHECK(errors_of(with_upnp("  friendly_name: \"gw\\uFFFE\"\n")).size() == 1);  // not allowed in XML 1.0
}

TEST_CASE("a friendly name of invalid UTF-8 is refused") {
    // yaml-cpp passes bytes that are not UTF-8 through; an overlong '/' (C0 AF) is one.
    CHECK(errors_of(with_upnp("  friendly_name: gw\xc0\xaf\n")) ==
          one("test.yaml:6:18: upnp.friendly_name: the friendly name is not valid UTF-8"));
}

TEST_CASE("permissions are read in miniupnpd's syntax, first to last") {
    IgdConfig upnp = loaded(with_permissions({"allow 1024-65535 192.168.50.0/24 1024-65535",
                                              "deny 22 192.168.50.7 22", "deny 0-65535 0.0.0.0/0 0-65535"}))
                         .upnp;
    REQUIRE(upnp.permissions.size() == 3);
    CHECK(upnp.permissions[0] ==
          UpnpPermission{true, PortRange{1024, 65535}, network("192.168.50.0/24"), PortRange{1024, 65535}});
    // A single port is a range of one; an address without a mask is one host.
    CHECK(upnp.permissions[1] == UpnpPermission{false, PortRange{22, 22}, network("192.168.50.7/32"), PortRange{22, 22}});
    CHECK(upnp.permissions[2] == UpnpPermission{false, PortRange{0, 65535}, network("0.0.0.0/0"), PortRange{0, 65535}});
}

TEST_CASE("a single permission may be written as one value, and extra spaces between its words are ignored") {
    IgdConfig upnp = loaded(with_upnp("  permissions: allow   1024-65535  10.0.0.0/8 1024-65535\n")).upnp;
    REQUIRE(upnp.permissions.size() == 1);
    CHECK(upnp.permissions[0].internal_network == network("10.0.0.0/8"));
}

TEST_CASE("a permission with a bad word, port range or network is refused at its item, naming the part") {
    struct Case {
        std::string rule;
        std::string message;
    };
    const Case cases[] = {
        {"permit 1024-65535 192.168.50.0/24 1024-65535", "action: expected allow or deny, got 'permit'"},
        {"ALLOW 1024-65535 192.168.50.0/24 1024-65535", "action: expected allow or deny, got 'ALLOW'"},
        {"allow 1024-70000 192.168.50.0/24 1024-65535",
         "external ports: expected a port from 0 to 65535 or a range \"first-last\" of them, got '1024-70000'"},
        {"allow 2000-1000 192.168.50.0/24 1024-65535",
         "external ports: expected a port from 0 to 65535 or a range \"first-last\" of them, got '2000-1000'"},
        {"allow 1024-65535 192.168.50.0/33 1024-65535",
         "internal addresses: expected an IPv4 network such as 192.168.50.0/24 or an address such as 192.168.50.20, "
         "got '192.168.50.0/33'"},
        {"allow 1024-65535 192.168.50.7/24 1024-65535",
         "internal addresses: '192.168.50.7/24' has host bits set; write the network as 192.168.50.0/24 or the single "
         "address as 192.168.50.7/32"},
        {"allow 1024-65535 192.168.50.0/255.255.255.0 1024-65535",
         "internal addresses: write the mask 255.255.255.0 as a prefix length: 192.168.50.0/24"},
        {"allow 1024-65535 192.168.50.0/24 http",
         "internal ports: expected a port from 0 to 65535 or a range \"first-last\" of them, got 'http'"},
    };
    for (const Case& c : cases) {
        INFO(c.rule);
        CHECK(errors_of(with_permissions({c.rule})) == one("test.yaml:7:7: upnp.permissions: '" + c.rule + "': " + c.message));
    }
}

TEST_CASE("a permission without exactly four words is refused with the syntax and an example") {
    for (const std::string rule : {"allow 1024-65535 192.168.50.0/24", "allow 1-2 10.0.0.0/8 1-2 ^game.*$", "allow"}) {
        INFO(rule);
        CHECK(errors_of(with_permissions({rule})) ==
              one("test.yaml:7:7: upnp.permissions: expected a rule \"allow|deny EXT-PORTS INT-ADDR[/MASKBITS] "
                  "INT-PORTS\" such as \"allow 1024-65535 192.168.50.0/24 1024-65535\", got '" +
                  rule + "'"));
    }
}

TEST_CASE("every bad permission is reported at its own item, in file order") {
    CHECK(errors_of(with_permissions({"allow 1024-65535 192.168.50.0/24 1024-65535", "permit 1-2 10.0.0.0/8 1-2",
                                      "deny 1-2 10.0.0.1/8 1-2"})) ==
          std::vector<std::string>{
              "test.yaml:8:7: upnp.permissions: 'permit 1-2 10.0.0.0/8 1-2': action: expected allow or deny, got "
              "'permit'",
              "test.yaml:9:7: upnp.permissions: 'deny 1-2 10.0.0.1/8 1-2': internal addresses: '10.0.0.1/8' has host "
              "bits set; write the network as 10.0.0.0/8 or the single address as 10.0.0.1/32",
          });
}

TEST_CASE("a permission written as a map is refused as the wrong type") {
    CHECK(errors_of(with_permissions({"{allow: 1024-65535}"})) ==
          one("test.yaml:7:7: upnp.permissions: expected a permission rule or a list of them, got a map"));
}

TEST_CASE("without permissions the miniupnpd default applies to each LAN network, then everything else is denied") {
    IgdConfig upnp = loaded(interfaces).upnp;
    CHECK(upnp.permissions.empty());
    CHECK(loaded(with_upnp("  permissions: []\n")).upnp.permissions.empty());
    std::vector<Ipv4Network> lan = {network("192.168.50.0/24"), network("10.8.0.0/16")};
    CHECK(effective_upnp_permissions(upnp, lan) ==
          std::vector<UpnpPermission>{
              {true, PortRange{1024, 65535}, network("192.168.50.0/24"), PortRange{1024, 65535}},
              {true, PortRange{1024, 65535}, network("10.8.0.0/16"), PortRange{1024, 65535}},
              {false, PortRange{0, 65535}, network("0.0.0.0/0"), PortRange{0, 65535}},
          });
}

TEST_CASE("configured permissions replace the default entirely") {
    IgdConfig upnp = loaded(with_permissions({"allow 5000-6000 192.168.50.20 5000-6000"})).upnp;
    CHECK(effective_upnp_permissions(upnp, {network("192.168.50.0/24")}) == upnp.permissions);
}

TEST_CASE("a per-client limit above max_mappings is refused at per_client_limit") {
    CHECK(errors_of(with_upnp("  per_client_limit: 200\n  max_mappings: 100\n")) ==
          one("test.yaml:6:21: upnp.per_client_limit: 200 is more than upnp.max_mappings (100); lower it to at most "
              "100 or raise upnp.max_mappings"));
    CHECK(errors_of(with_upnp("  per_client_limit: 2000\n")) ==
          one("test.yaml:6:21: upnp.per_client_limit: 2000 is more than upnp.max_mappings (1024); lower it to at most "
              "1024 or raise upnp.max_mappings"));
}

TEST_CASE("a max_mappings below the default per-client limit is refused at max_mappings, the key that was written") {
    CHECK(errors_of(with_upnp("  max_mappings: 100\n")) ==
          one("test.yaml:6:17: upnp.per_client_limit: 128 is more than upnp.max_mappings (100); lower it to at most "
              "100 or raise upnp.max_mappings"));
}

TEST_CASE("the upnp.pinholes keys are read into IgdConfig::pinholes, defaults when absent") {
    PinholeConfig defaults = loaded(with_upnp("")).upnp.pinholes;
    CHECK(defaults.enabled);
    CHECK(defaults.allow_inbound);
    CHECK(defaults.per_client_limit == 32);
    CHECK(defaults.max_pinholes == 512);
    CHECK_FALSE(defaults.allow_internal_port_wildcard);
    CHECK_FALSE(defaults.allow_protocol_wildcard);
    PinholeConfig set = loaded(with_upnp("  pinholes:\n"
                                         "    enabled: false\n"
                                         "    allow_inbound: false\n"
                                         "    per_client_limit: 4\n"
                                         "    max_pinholes: 8\n"
                                         "    allow_internal_port_wildcard: true\n"
                                         "    allow_protocol_wildcard: true\n"))
                            .upnp.pinholes;
    CHECK_FALSE(set.enabled);
    CHECK_FALSE(set.allow_inbound);
    CHECK(set.per_client_limit == 4);
    CHECK(set.max_pinholes == 8);
    CHECK(set.allow_internal_port_wildcard);
    CHECK(set.allow_protocol_wildcard);
}

TEST_CASE("a pinhole per-client limit above max_pinholes is refused") {
    auto errors = errors_of(with_upnp("  pinholes:\n    per_client_limit: 9\n    max_pinholes: 8\n"));
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().find("upnp.pinholes.per_client_limit: 9 is more than upnp.pinholes.max_pinholes (8)") !=
          std::string::npos);
    CHECK(errors_of(with_upnp("  pinholes:\n    max_pinholes: 0\n")).size() == 1);
}

TEST_CASE("a per-client limit equal to max_mappings is accepted") {
    CHECK(loaded(with_upnp("  per_client_limit: 100\n  max_mappings: 100\n")).upnp.per_client_limit == 100);
}

TEST_CASE("a refused max_mappings does not also fail the per-client limit rule") {
    CHECK(errors_of(with_upnp("  max_mappings: 0\n")) ==
          one("test.yaml:6:17: upnp.max_mappings: expected an integer from 1 to 65535, got 0"));
}

TEST_CASE("the shipped example's upnp section loads at the defaults, and with its permissions example uncommented") {
    ConfigLoadResult example = load_config_file(source_dir + "/config/gateway.yaml");
    REQUIRE(example.config);
    CHECK(example.config->upnp.permissions.empty());
    CHECK(example.config->upnp.igd_version == IgdConfig{}.igd_version);

    std::string uncommented = example_with_permissions_uncommented();
    CHECK_THAT(uncommented, Catch::Contains("\n  permissions:\n  - allow"));
    IgdConfig upnp = loaded(uncommented).upnp;
    CHECK(upnp.permissions == std::vector<UpnpPermission>{
                                  {true, PortRange{1024, 65535}, network("192.168.50.0/24"), PortRange{1024, 65535}},
                                  {false, PortRange{0, 65535}, network("0.0.0.0/0"), PortRange{0, 65535}},
                              });
}

TEST_CASE("the reference documents every upnp key with its type and default") {
    std::string reference = config_reference_markdown();
    CHECK_THAT(reference, Catch::Contains("| `upnp.enabled` | `true` or `false` | `true` |"));
    CHECK_THAT(reference, Catch::Contains("| `upnp.igd_version` | `1` or `2` | `1` |"));
    CHECK_THAT(reference, Catch::Contains("only recognises IGD:1"));
    CHECK_THAT(reference, Catch::Contains("| `upnp.max_lease` | integer (seconds) | `604800` |"));
    CHECK_THAT(reference, Catch::Contains("| `upnp.lease_file` | absolute file path | `/var/lib/gatewayd/leases` |"));
    CHECK_THAT(reference, Catch::Contains("| `upnp.advertisement_seconds` | integer (seconds) | `1800` |"));
    CHECK_THAT(reference, Catch::Contains("| `upnp.permissions` | list of permission rules | `[]` |"));
}

}  // namespace gw

// The IPv6 keys (issue 8): lan.ipv6_networks, firewall.ipv6.*, and rules with IPv6
// networks — what loads, and what is refused with a message that says why.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"

namespace gw {
namespace {

using namespace config_fixtures;
using Catch::Matchers::Contains;

Ipv6Network v6net(const char* text) { return Ipv6Network::parse(text).value(); }

std::string with_lan_ipv6(const std::string& value) {
    return "lan:\n  interface: eth1\n  ipv6_networks: " + value + "\nwan:\n  interface: eth0\n";
}

}  // namespace

TEST_CASE("lan.ipv6_networks and firewall.ipv6 load; IPv6 is off without them") {
    GatewayConfig none = loaded(interfaces);
    CHECK_FALSE(none.firewall.ipv6.enabled());
    CHECK(none.firewall.ipv6.max_flows == 65536);
    CHECK(none.firewall.ipv6.inbound_echo_request == InboundEchoRequest::policy);
    GatewayConfig c = loaded(with_lan_ipv6("[2001:db8:1::/64, fd00:1::/48]") +
                             "firewall:\n  ipv6:\n    max_flows: 2048\n    inbound_echo_request: accept\n");
    CHECK(c.firewall.ipv6.enabled());
    CHECK(c.firewall.ipv6.lan_networks == std::vector{v6net("2001:db8:1::/64"), v6net("fd00:1::/48")});
    CHECK(c.firewall.ipv6.max_flows == 2048);
    CHECK(c.firewall.ipv6.inbound_echo_request == InboundEchoRequest::accept);
}

TEST_CASE("a LAN IPv6 prefix with host bits, link-local, multicast or malformed is refused with the reason") {
    auto error = [](const char* value) {
        auto errors = errors_of(with_lan_ipv6(value));
        REQUIRE(errors.size() == 1);
        return errors[0];
    };
    CHECK_THAT(error("2001:db8:1::5/64"), Contains("has host bits set; write the network as 2001:db8:1::/64"));
    CHECK_THAT(error("fe80::/64"), Contains("is not a LAN prefix"));
    CHECK_THAT(error("ff05::/16"), Contains("is not a LAN prefix"));
    CHECK_THAT(error("2001:db8:1::/129"), Contains("expected an IPv6 network such as 2001:db8:1::/64"));
    CHECK_THAT(error("192.168.1.0/24"), Contains("expected an IPv6 network"));
    CHECK_THAT(error("[2001:db8:1::/64, 2001:db8:2::1/64]"), Contains("test.yaml:3:36: lan.ipv6_networks: "));
}

TEST_CASE("firewall.ipv6 values out of range are refused") {
    CHECK_THAT(errors_of(interfaces + "firewall:\n  ipv6:\n    max_flows: 10\n").at(0),
               Contains("expected an integer from 1024 to 4194304"));
    CHECK_THAT(errors_of(interfaces + "firewall:\n  ipv6:\n    inbound_echo_request: maybe\n").at(0),
               Contains("expected one of policy, accept, drop"));
}

TEST_CASE("rule sources and destinations take IPv6 networks into the rule's IPv6 lists") {
    GatewayConfig c = loaded(with_rules(rule_item("inbound",
                                                  "      protocol: tcp\n"
                                                  "      sources: [2001:db8::/32, 2001:db8:ff::7]\n"
                                                  "      destinations: 2001:db8:1::10/128\n")));
    const FirewallRule& r = c.firewall.rules.at(0);
    CHECK(r.sources.empty());
    CHECK(r.ipv6_sources == std::vector{v6net("2001:db8::/32"), v6net("2001:db8:ff::7/128")});
    CHECK(r.ipv6_destinations == std::vector{v6net("2001:db8:1::10/128")});
}

TEST_CASE("a rule naming IPv4 and IPv6 networks is refused: it could match nothing") {
    auto errors = errors_of(with_rules(rule_item("inbound",
                                                 "      sources: [198.51.100.0/24]\n"
                                                 "      destinations: [2001:db8:1::/64]\n")));
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], Contains("firewall.rules[0].destinations: a rule matches one address family"));
}

TEST_CASE("a rule with IPv6 networks and protocol icmp is refused: ICMP is IPv4's") {
    auto errors = errors_of(with_rules(rule_item("inbound",
                                                 "      protocol: icmp\n"
                                                 "      sources: [2001:db8::/32]\n")));
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], Contains("protocol icmp is IPv4's ICMP and never matches IPv6 packets"));
}

TEST_CASE("a rule address that is neither IPv4 nor IPv6 names both forms") {
    auto errors = errors_of(with_rules(rule_item("inbound", "      sources: [example.org]\n")));
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], Contains("expected an IPv4 or IPv6 network such as 198.51.100.0/24 or 2001:db8::/32"));
    CHECK_THAT(errors_of(with_rules(rule_item("inbound", "      sources: [2001:db8::1/32]\n"))).at(0),
               Contains("has host bits set"));
}

}  // namespace gw

// What a reload changes, key by key (issue 16): what applies in place is named with both
// values for the summary; what needs a restart is refused one line per key, with both
// values, never a placeholder.
#include <catch2/catch.hpp>

#include <string>

#include "config/config_schema.hpp"
#include "daemon/reload_plan.hpp"

namespace gw {
namespace {

// `lan`: the lan: section, interface lan0 unless given.
GatewayConfig loaded(const std::string& rest = "", const std::string& lan = "lan: {interface: lan0}\n") {
    auto result = load_config_text(lan + "wan: {interface: wan0}\n" + rest, "test.yaml");
    INFO((result.errors.empty() ? std::string() : result.errors.front().to_string()));
    REQUIRE(result.config);
    return *result.config;
}

std::vector<std::string> refusals(const ReloadPlan& plan) {
    std::vector<std::string> lines;
    for (const auto& change : plan.restart) lines.push_back(restart_refusal(change));
    return lines;
}

}  // namespace

TEST_CASE("a reload of the same file changes no key") {
    ReloadPlan plan = plan_reload(loaded("nat: {timeouts: {udp: 600}}\n"), loaded("nat: {timeouts: {udp: 600}}\n"));
    CHECK(plan.applied.empty());
    CHECK(plan.restart.empty());
    CHECK(change_list(plan.applied) == "no key changed");
}

TEST_CASE("a reload that changes upnp.http_port is refused by key with the running and the new value") {
    ReloadPlan plan = plan_reload(loaded(), loaded("upnp: {http_port: 49160}\n"));
    CHECK(plan.applied.empty());
    CHECK(refusals(plan) == std::vector<std::string>{"upnp.http_port cannot change while running (49152 -> 49160): "
                                                     "restart gatewayd to apply it"});
}

TEST_CASE("each key that needs a restart has a line of its own, not one per group") {
    ReloadPlan plan = plan_reload(
        loaded(), loaded("upnp: {igd_version: 2, lease_file: /tmp/other-leases, friendly_name: home}\n"
                         "pcp: {allow_third_party: true}\nnat: {max_mappings: 1000}\n"));
    CHECK(refusals(plan) ==
          std::vector<std::string>{
              "nat.max_mappings cannot change while running (262144 -> 1000): restart gatewayd to apply it",
              "upnp.igd_version cannot change while running (1 -> 2): restart gatewayd to apply it",
              "upnp.lease_file cannot change while running (/var/lib/gatewayd/leases -> /tmp/other-leases): restart "
              "gatewayd to apply it",
              "upnp.friendly_name cannot change while running (gatewayd -> home): restart gatewayd to apply it",
              "pcp.allow_third_party cannot change while running (false -> true): restart gatewayd to apply it"});
}

TEST_CASE("the timeouts, the UPnP policy and the log rate apply in place, each named with both values") {
    ReloadPlan plan = plan_reload(
        loaded(), loaded("nat: {timeouts: {udp: 600}}\nfirewall: {log_lines_per_second: 5}\n"
                         "upnp: {secure_mode: false, max_lease: 600, per_client_limit: 4, max_mappings: 16,\n"
                         "       permissions: [allow 1024-65535 192.168.1.0/24 1024-65535]}\n"));
    CHECK(plan.restart.empty());
    CHECK(change_list(plan.applied, 10) ==
          "nat.timeouts.udp 300 -> 600, firewall.log_lines_per_second 10 -> 5, upnp.secure_mode true -> false, "
          "upnp.max_lease 604800 -> 600, upnp.per_client_limit 128 -> 4, upnp.max_mappings 1024 -> 16, "
          "upnp.permissions [] -> [allow 1024-65535 192.168.1.0/24 1024-65535]");
}

TEST_CASE("the summary of many changes stops after a few and says how many more") {
    ReloadPlan plan = plan_reload(
        loaded(), loaded("nat: {timeouts: {udp: 600, tcp_established: 8000, tcp_transitory: 300, icmp: 90}}\n"));
    // tcp_transitory shows as its two keys' changes: tcp_opening and tcp_closing.
    CHECK(change_list(plan.applied, 2) == "nat.timeouts.udp 300 -> 600, nat.timeouts.tcp_established 7440 -> 8000 "
                                          "and 3 more");
}

TEST_CASE("a reload of tcp_transitory applies in place as changes of tcp_opening and tcp_closing") {
    ReloadPlan plan = plan_reload(loaded(), loaded("nat: {timeouts: {tcp_transitory: 300, tcp_opening: 150}}\n"));
    CHECK(plan.restart.empty());
    CHECK(change_list(plan.applied, 10) == "nat.timeouts.tcp_opening 240 -> 150, nat.timeouts.tcp_closing 240 -> 300");
}

TEST_CASE("a long list in a refusal shows its first items and how many more") {
    ReloadPlan plan = plan_reload(
        loaded("", "lan: {interface: lan0, networks: [192.168.1.0/24]}\n"),
        loaded("", "lan: {interface: lan0, networks: [10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24, "
                   "10.0.4.0/24]}\n"));
    REQUIRE(plan.restart.size() == 1);
    CHECK(restart_refusal(plan.restart[0]) ==
          "lan.networks cannot change while running ([192.168.1.0/24] -> [10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24, "
          "... 2 more]): restart gatewayd to apply it");
}

TEST_CASE("edited rules and forwards are named by their list with the counts, and apply in place") {
    const std::string rule = "    - {name: ssh, direction: inbound, protocol: tcp, destination_ports: [22], action: ";
    ReloadPlan plan = plan_reload(loaded("firewall:\n  rules:\n" + rule + "accept}\n"),
                                  loaded("firewall:\n  rules:\n" + rule + "drop}\n"));
    CHECK(plan.restart.empty());
    CHECK(change_list(plan.applied) == "firewall.rules 1 rules -> 1 rules (edited)");

    // The same rules at other lines of the file are no change.
    plan = plan_reload(loaded("firewall:\n  rules:\n" + rule + "drop}\n"),
                       loaded("\n\nfirewall:\n  rules:\n" + rule + "drop}\n"));
    CHECK(plan.applied.empty());
}

}  // namespace gw

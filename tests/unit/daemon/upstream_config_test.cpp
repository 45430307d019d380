// wan.upstream_mappings, wan.upstream_failure and firewall.forwards[].upstream (issue 19),
// and what the WAN status reports while an upstream carries the mappings.
#include <catch2/catch.hpp>

#include "config_fixtures.hpp"
#include "daemon/prometheus_metrics.hpp"
#include "daemon/control_json.hpp"
#include "daemon/status_text.hpp"
#include "daemon/upstream_worker.hpp"
#include "daemon/wan_status.hpp"

namespace gw::test {
namespace {

using namespace config_fixtures;

TEST_CASE("wan.upstream_mappings is auto and wan.upstream_failure keep by default, and each choice reads") {
    CHECK(loaded(interfaces).upstream_mappings == UpstreamMappingsMode::automatic);
    CHECK(loaded(interfaces).upstream_failure == UpstreamFailurePolicy::keep);
    CHECK(loaded(interfaces + "  upstream_mappings: pcp\n").upstream_mappings == UpstreamMappingsMode::pcp);
    CHECK(loaded(interfaces + "  upstream_mappings: natpmp\n").upstream_mappings == UpstreamMappingsMode::natpmp);
    CHECK(loaded(interfaces + "  upstream_mappings: upnp\n").upstream_mappings == UpstreamMappingsMode::upnp);
    CHECK(loaded(interfaces + "  upstream_mappings: off\n").upstream_mappings == UpstreamMappingsMode::off);
    CHECK(loaded(interfaces + "  upstream_failure: refuse\n").upstream_failure == UpstreamFailurePolicy::refuse);
}

TEST_CASE("a bad wan.upstream_mappings or wan.upstream_failure is refused with its position") {
    CHECK(errors_of(interfaces + "  upstream_mappings: stun\n") ==
          one("test.yaml:5:22: wan.upstream_mappings: expected one of auto, pcp, natpmp, upnp, off, got 'stun'"));
    CHECK(errors_of(interfaces + "  upstream_failure: warn\n") ==
          one("test.yaml:5:21: wan.upstream_failure: expected one of refuse, keep, got 'warn'"));
}

TEST_CASE("a static forward is carried upstream only when it says upstream: true") {
    auto config = loaded(interfaces + "firewall:\n  forwards:\n"
                                      "    - {name: rdp, protocol: tcp, external_port: 3389, internal: 10.0.0.2, upstream: true}\n"
                                      "    - {name: web, protocol: tcp, external_port: 80, internal: 10.0.0.3}\n");
    REQUIRE(config.firewall.forwards.size() == 2);
    CHECK(config.firewall.forwards[0].upstream);
    CHECK_FALSE(config.firewall.forwards[1].upstream);
}

TEST_CASE("auto tries PCP, then NAT-PMP, then UPnP; off tries nothing") {
    CHECK(upstream_protocols_for_mode(UpstreamMappingsMode::automatic) ==
          std::vector{UpstreamProtocol::pcp, UpstreamProtocol::natpmp, UpstreamProtocol::upnp});
    CHECK(upstream_protocols_for_mode(UpstreamMappingsMode::natpmp) == std::vector{UpstreamProtocol::natpmp});
    CHECK(upstream_protocols_for_mode(UpstreamMappingsMode::off).empty());
}

TEST_CASE("while an upstream carries the mappings its address is reported, and cascade refusal stops") {
    WanStatus s = wan_status_for(Ipv4Address::from_octets(100, 64, 0, 2), std::nullopt, CascadeMappings::refuse);
    CHECK(s.refusing_mappings());
    s.upstream_address = Ipv4Address::from_octets(198, 51, 100, 7);
    CHECK(s.cascade() == Cascade::yes);
    CHECK_FALSE(s.refusing_mappings());
    CHECK(s.external_address() == Ipv4Address::from_octets(198, 51, 100, 7));
    CHECK_THAT(*s.warning(), Catch::Contains("carried through it (wan.upstream_mappings): the internet reaches them at "
                                             "198.51.100.7"));
    CHECK_THAT(s.json(), Catch::Contains("\"upstream_address\":\"198.51.100.7\""));
}

UpstreamStatusView using_pcp() {
    UpstreamStatusView view;
    view.state = "using";
    view.detail = "PCP at 192.0.2.1:5351";
    view.external_address = Ipv4Address::from_octets(198, 51, 100, 7);
    view.mappings_carried = 3;
    view.mappings_failing = 1;
    view.counters.carried = 4;
    view.counters.renewals = 2;
    view.counters.refused_locally = 1;
    view.counters.failed["port_taken"] = 1;
    view.counters.announcements = 3;
    view.counters.announcements_ignored["not_from_upstream"] = 2;
    return view;
}

TEST_CASE("gatewayctl status shows the upstream's state, address and what it carries") {
    std::string json = "{\"upstream\":" + upstream_status_json(using_pcp()) + "}";
    auto status = parse_json(json);
    REQUIRE(status);
    CHECK_THAT(status_text(*status),
               Catch::Contains("upstream    using (PCP at 192.0.2.1:5351), external 198.51.100.7, 3 mappings carried, "
                               "1 failing [wan.upstream_mappings: auto]"));
}

TEST_CASE("the upstream counters are Prometheus metrics, failures by reason") {
    auto status = parse_json("{\"upstream\":" + upstream_status_json(using_pcp()) + "}");
    REQUIRE(status);
    std::string text = prometheus_metrics(*status, nullptr, nullptr);
    CHECK_THAT(text, Catch::Contains("gatewayd_upstream_mappings_carried_total 4"));
    CHECK_THAT(text, Catch::Contains("gatewayd_upstream_mappings_failed_total{reason=\"port_taken\"} 1"));
    CHECK_THAT(text, Catch::Contains("gatewayd_upstream_refused_locally_total 1"));
    CHECK_THAT(text, Catch::Contains("gatewayd_upstream_renewals_total 2"));
    CHECK_THAT(text, Catch::Contains("gatewayd_upstream_mappings 3"));
    CHECK_THAT(text, Catch::Contains("gatewayd_upstream_announcements_total 3"));
    CHECK_THAT(text, Catch::Contains("gatewayd_upstream_announcements_ignored_total{reason=\"not_from_upstream\"} 2"));
}

}  // namespace
}  // namespace gw::test

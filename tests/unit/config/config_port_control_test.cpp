// The natpmp and pcp sections as an operator writes them: defaults, values that load
// into PortControlConfig, and refusals that point at the value.
#include <catch2/catch.hpp>

#include <string>

#include "config/gateway_config.hpp"
#include "config_fixtures.hpp"

namespace gw {

using namespace config_fixtures;

TEST_CASE("NAT-PMP and PCP are on by default, PCP's third-party option off") {
    GatewayConfig config = loaded(interfaces);
    CHECK(config.port_control.natpmp_enabled);
    CHECK(config.port_control.pcp_enabled);
    CHECK_FALSE(config.port_control.pcp_allow_third_party);
    CHECK(config.port_control.server_enabled());
}

TEST_CASE("natpmp.enabled and pcp.* load into the port-control config") {
    GatewayConfig config =
        loaded(interfaces + "natpmp:\n  enabled: false\npcp:\n  enabled: false\n  allow_third_party: true\n");
    CHECK_FALSE(config.port_control.natpmp_enabled);
    CHECK_FALSE(config.port_control.pcp_enabled);
    CHECK(config.port_control.pcp_allow_third_party);
    CHECK_FALSE(config.port_control.server_enabled());
}

TEST_CASE("a natpmp.enabled that is not a boolean is refused where it is written") {
    auto errors = errors_of(interfaces + "natpmp:\n  enabled: maybe\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].starts_with("test.yaml:6:12: "));
}

TEST_CASE("an unknown key in the pcp section is refused") {
    auto errors = errors_of(interfaces + "pcp:\n  third_party: true\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].starts_with("test.yaml:6:3: "));
}

}  // namespace gw

// The config's NAT port keys as the engine gets them (daemon/gateway_daemon.cpp).
#include <catch2/catch.hpp>

#include "config/gateway_config.hpp"
#include "daemon/gateway_daemon.hpp"

namespace gw::test {

namespace {
// `yaml` (nat lines) after the interfaces and a fixed WAN address.
GatewayConfig config_from(const std::string& yaml) {
    ConfigLoadResult result = load_config_text(
        "lan:\n  interface: eth1\nwan:\n  interface: eth0\n  address: 203.0.113.1\n" + yaml, "test.yaml");
    REQUIRE(result.config);
    return *result.config;
}
}  // namespace

TEST_CASE("nat.low_port_range and nat.unreachable_when_full reach the engine's setup") {
    GatewayConfig config = config_from("nat:\n  low_port_range: 700-1000\n  unreachable_when_full: false\n");
    EngineSetup setup = engine_setup_from_config(config, Ipv4Address::from_octets(203, 0, 113, 1));
    CHECK(setup.nat.low_port_range == PortRange{700, 1000});
    CHECK_FALSE(setup.nat.unreachable_when_full);
    EngineSetup defaults = engine_setup_from_config(config_from(""), Ipv4Address::from_octets(203, 0, 113, 1));
    CHECK_FALSE(defaults.nat.low_port_range);
    CHECK(defaults.nat.unreachable_when_full);
}

}  // namespace gw::test

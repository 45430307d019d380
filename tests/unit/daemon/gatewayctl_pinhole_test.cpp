// gatewayctl pinhole add|delete: the administrator's pinholes take ids the UPnP policy never
// hands out, so neither can replace or close the other's.
#include <catch2/catch.hpp>

#include "daemon/control_json.hpp"
#include "daemon/gateway_control.hpp"
#include "engine_setup.hpp"

namespace gw::test {

TEST_CASE("gatewayctl pinholes take ids above the UPnP policy's, and only those") {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {*Ipv6Network::parse("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 64;
    PacketEngine engine(setup);
    GatewayControl control(engine, nullptr, nullptr, "", GatewayConfig{}, t0);
    auto ok = [&](std::vector<std::string> words) {
        auto answer = parse_json(control.answer(words, t0));
        REQUIRE(answer);
        const JsonValue* flag = answer->member("ok");
        return flag && std::get_if<bool>(&flag->value) && std::get<bool>(flag->value);
    };
    std::string policy_id = std::to_string(max_policy_pinhole_id);
    std::string own_id = std::to_string(max_policy_pinhole_id + 1);
    CHECK_FALSE(ok({"pinhole", "add", policy_id, "tcp", "2001:db8:1::10", "22"}));
    CHECK(ok({"pinhole", "add", own_id, "tcp", "2001:db8:1::10", "22"}));
    CHECK(engine.ipv6().pinholes().entries().size() == 1);
    CHECK_FALSE(ok({"pinhole", "delete", policy_id}));
    CHECK(ok({"pinhole", "delete", own_id}));
    CHECK(engine.ipv6().pinholes().entries().empty());
}

}  // namespace gw::test

// gatewayctl pinhole add|delete: one more front end of the pinhole service, beside UPnP and
// PCP. Its pinholes are numbered in the one id range, journaled, expire on the service's
// clock, and are refused when the packet path would not honour them.
#include <catch2/catch.hpp>

#include <fstream>

#include "daemon/control_json.hpp"
#include "daemon/gateway_control.hpp"
#include "engine_setup.hpp"
#include "igd/pinhole_file.hpp"
#include "igd/pinhole_service.hpp"
#include "mapping_service_rig.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

const Ipv6Network lan6 = *Ipv6Network::parse("2001:db8:1::/64");
const Ipv6Address lan6_host = *Ipv6Address::parse("2001:db8:1::10");

// The pinhole service beside the rig's mapping service, on the rig's clock and queue.
struct PinholeRig {
    explicit PinholeRig(std::vector<Ipv6Network> prefixes)
        : service(mappings.config, PinholeEnvironment{std::move(prefixes), {}, 7440, 300}, mappings.queue,
                  ServiceClock{[this] { return mappings.now; }, [] { return wall_clock_seconds(); }}) {
        service.start();
    }
    MappingServiceRig mappings;
    PinholeService service;
};

std::optional<JsonValue> asked(GatewayControl& control, std::vector<std::string> words) {
    return parse_json(control.answer(words, t0));
}

bool ok(const std::optional<JsonValue>& answer) {
    const JsonValue* flag = answer ? answer->member("ok") : nullptr;
    return flag && std::get_if<bool>(&flag->value) && std::get<bool>(flag->value);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("gatewayctl pinholes are numbered among the clients', journaled, and closed by id") {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {lan6};
    setup.firewall.ipv6.max_flows = 64;
    PacketEngine engine(setup);
    PinholeRig rig({lan6});
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, &rig.mappings.service, nullptr, "", GatewayConfig{}, t0);
    control.set_pinholes(&rig.service);

    PinholeRequest upnp{std::nullopt, 0, lan6_host, 5000, ip_protocol_tcp, 3600};
    REQUIRE(rig.service.add(upnp, lan6_host, "UPnP").has_value());
    auto answer = asked(control, {"pinhole", "add", "tcp", "2001:db8:1::10", "22", "--for", "1h"});
    REQUIRE(ok(answer));
    CHECK(std::get<double>(answer->member("id")->value) == 2);
    CHECK(slurp(pinhole_file_path(rig.mappings.config.lease_file)).find("2 proto=6") != std::string::npos);
    rig.mappings.apply(engine);
    CHECK(engine.ipv6().pinholes().entries().size() == 2);

    CHECK(ok(asked(control, {"pinhole", "delete", "2"})));
    CHECK_FALSE(ok(asked(control, {"pinhole", "delete", "2"})));
    // The administrator closes a client's pinhole too.
    CHECK(ok(asked(control, {"pinhole", "delete", "1"})));
    rig.mappings.apply(engine);
    CHECK(engine.ipv6().pinholes().entries().empty());
    CHECK(rig.service.all().empty());
}

TEST_CASE("a gatewayctl pinhole the packet path would not honour is refused: IPv6 is not forwarded") {
    PacketEngine engine(engine_setup());  // no lan.ipv6_networks: IPv6 is not forwarded
    PinholeRig rig({});
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, &rig.mappings.service, nullptr, "", GatewayConfig{}, t0);
    control.set_pinholes(&rig.service);
    auto answer = asked(control, {"pinhole", "add", "tcp", "2001:db8:1::10", "2222"});
    CHECK_FALSE(ok(answer));
    CHECK(answer->member("error")->string()->find("(606)") != std::string::npos);
    rig.mappings.apply(engine);
    CHECK(engine.ipv6().pinholes().entries().empty());
}

TEST_CASE("a pinhole's lease ends when the service's clock reaches it, and its end is journaled") {
    PinholeRig rig({lan6});
    PinholeRequest request{std::nullopt, 0, lan6_host, 5000, ip_protocol_tcp, 60};
    REQUIRE(rig.service.add(request, lan6_host, "UPnP").has_value());
    rig.mappings.queue.take();
    REQUIRE(rig.service.next_lease_end() == t0 + 60s);
    rig.mappings.now = t0 + 59s;
    rig.service.expire();
    CHECK(rig.mappings.queue.take().empty());
    rig.mappings.now = t0 + 60s;
    rig.service.expire();
    auto commands = rig.mappings.queue.take();
    REQUIRE(commands.size() == 1);
    CHECK(std::holds_alternative<ClosePinhole>(commands[0]));
    CHECK(rig.service.all().empty());
    CHECK_FALSE(rig.service.next_lease_end());
    CHECK(slurp(pinhole_file_path(rig.mappings.config.lease_file)).find("del 1") != std::string::npos);
}

}  // namespace gw::test

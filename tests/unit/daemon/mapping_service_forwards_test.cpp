// The mapping service as the only writer of dynamic openings (issue 15): its clock decides
// when a lease ends, gatewayctl's timed forwards and the clients' grants are decided under
// one lock (a grant still in the command queue holds its port), and a change of the static
// forwards, by reload or by `forwards enable`, closes what they take everywhere at once.
#include <catch2/catch.hpp>

#include <net/if.h>

#include <fstream>

#include "daemon/control_json.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/locked_engine.hpp"
#include "daemon/gateway_daemon.hpp"
#include "engine_setup.hpp"
#include "mapping_service_rig.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

bool answered_ok(const std::string& answer) { return answer.find("\"ok\":true") != std::string::npos; }

PortForward web_forward(bool enabled) {
    PortForward web;
    web.name = "web";
    web.protocol = Protocol::tcp;
    web.external_ports = {8080, 8080};
    web.internal = at(host_b, 80);
    web.enabled = enabled;
    return web;
}

std::vector<std::string> command_names(EngineCommandQueue& queue) {
    std::vector<std::string> names;
    for (const auto& command : queue.take()) {
        if (const auto* open = std::get_if<OpenPortMapping>(&command))
            names.push_back("open " + std::to_string(open->mapping.external.value));
        else if (const auto* close = std::get_if<ClosePortMapping>(&command))
            names.push_back("close " + std::to_string(close->external.value));
    }
    return names;
}

// reload() checks that both interfaces exist: the loopback for the LAN, any other one
// this machine has (a CI container has its eth0) for the WAN.
std::string another_interface() {
    std::string name;
    if (struct if_nameindex* list = if_nameindex()) {
        for (struct if_nameindex* i = list; i->if_index != 0 && name.empty(); ++i)
            if (std::string_view(i->if_name) != "lo") name = i->if_name;
        if_freenameindex(list);
    }
    return name;
}

}  // namespace

TEST_CASE("a lease ends when the service's clock reaches it: closed in the packet path, the journal and for listeners") {
    MappingServiceRig rig;
    rig.service.start();
    std::vector<std::size_t> announced;
    rig.service.add_change_listener([&](std::size_t count) { announced.push_back(count); });
    REQUIRE(std::holds_alternative<PortMapping>(rig.grant(5000, at(host_a, 5000), 60)));
    CHECK(command_names(rig.queue) == std::vector<std::string>{"open 5000"});
    REQUIRE(rig.service.next_lease_end() == t0 + 60s);

    rig.now = t0 + 59999ms;
    rig.service.expire_leases();
    CHECK(command_names(rig.queue).empty());
    CHECK(rig.service.mapping_count() == 1);

    rig.now = t0 + 60s;
    rig.service.expire_leases();
    CHECK(command_names(rig.queue) == std::vector<std::string>{"close 5000"});
    CHECK(rig.service.mapping_count() == 0);
    CHECK(announced == std::vector<std::size_t>{1, 0});
    CHECK(rig.journaled().empty());
    CHECK_FALSE(rig.service.next_lease_end());
}

TEST_CASE("gatewayctl cannot open a timed forward on a port whose grant still waits in the command queue") {
    MappingServiceRig rig;
    PacketEngine engine(engine_setup());
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, &rig.service, nullptr, "", GatewayConfig{}, t0);
    REQUIRE(std::holds_alternative<PortMapping>(rig.grant(5000, at(host_a, 5000))));
    REQUIRE_FALSE(engine.has_port_mapping(Protocol::tcp, Port{5000}));  // not applied yet

    auto answer = control.answer({"forwards", "add", "late", "tcp", "5000", "192.168.1.11:22", "--for", "60s"}, t0);
    CHECK_FALSE(answered_ok(answer));
    CHECK(answer.find("held by a port mapping") != std::string::npos);
    rig.apply(engine);
    auto target = engine.forwards().target_of(Protocol::tcp, Port{5000});
    REQUIRE(target);
    CHECK(target->internal == at(host_a, 5000));
    CHECK_FALSE(control.next_forward_end());
}

TEST_CASE("a grant on a timed forward's port is refused 729 until the forward's time is up") {
    MappingServiceRig rig;
    PacketEngine engine(engine_setup());
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, &rig.service, nullptr, "", GatewayConfig{}, t0);
    REQUIRE(answered_ok(
        control.answer({"forwards", "add", "ssh", "tcp", "5000", "192.168.1.11:22", "--for", "60s"}, t0)));
    auto refused = rig.grant(5000, at(host_a, 5000));
    REQUIRE(std::holds_alternative<MappingRefusal>(refused));
    CHECK(std::get<MappingRefusal>(refused) == MappingRefusal::conflict_with_other_mechanisms);
    rig.apply(engine);
    CHECK(engine.forwards().target_of(Protocol::tcp, Port{5000})->internal == at(host_b, 22));

    rig.now = t0 + 60s;
    control.expire_timed_forwards(rig.now);
    CHECK(std::holds_alternative<PortMapping>(rig.grant(5000, at(host_a, 5000))));
    rig.apply(engine);  // the forward's close comes before the grant's open
    CHECK(engine.forwards().target_of(Protocol::tcp, Port{5000})->internal == at(host_a, 5000));
}

TEST_CASE("switching a static forward on closes the mapping on its port everywhere, even one still in the queue") {
    EngineSetup setup = engine_setup();
    setup.firewall.forwards = {web_forward(false)};
    GatewayConfig config;
    config.firewall = setup.firewall;
    PacketEngine engine(setup);
    MappingServiceRig rig(t0, static_forward_ports(setup.firewall));
    rig.service.start();
    std::vector<std::size_t> announced;
    rig.service.add_change_listener([&](std::size_t count) { announced.push_back(count); });
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, &rig.service, nullptr, "", config, t0);
    REQUIRE(std::holds_alternative<PortMapping>(rig.grant(8080, at(host_a, 8080))));

    REQUIRE(answered_ok(control.answer({"forwards", "enable", "web"}, t0)));
    rig.apply(engine);
    auto target = engine.forwards().target_of(Protocol::tcp, Port{8080});
    REQUIRE(target);
    CHECK(target->forward != nullptr);
    CHECK(target->internal == at(host_b, 80));
    CHECK(rig.service.mappings().empty());
    CHECK(rig.journaled().empty());
    CHECK(announced == std::vector<std::size_t>{1, 0});
    auto again = rig.grant(8080, at(host_a, 8080));
    REQUIRE(std::holds_alternative<MappingRefusal>(again));
    CHECK(std::get<MappingRefusal>(again) == MappingRefusal::conflict_with_other_mechanisms);
}

TEST_CASE("a reload whose new static forward owns a mapped port closes the mapping in the listing, the journal, GENA and the packet path") {
    MappingServiceRig rig;
    const std::string path = (rig.dir.path / "gateway.yaml").string();
    const std::string wan = another_interface();
    REQUIRE_FALSE(wan.empty());
    const std::string base =
        "lan:\n  interface: lo\n  networks: [192.168.0.0/16]\n"
        "wan:\n  interface: " + wan + "\n  address: 203.0.113.1\n"
        "upnp:\n  enabled: false\nnatpmp:\n  enabled: false\npcp:\n  enabled: false\n";
    std::ofstream(path) << base;
    ConfigLoadResult loaded = load_config_file(path);
    REQUIRE(loaded.config);
    PacketEngine engine(prepare_engine_setup(*loaded.config));
    rig.service.start();
    std::vector<std::size_t> announced;
    rig.service.add_change_listener([&](std::size_t count) { announced.push_back(count); });
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, &rig.service, nullptr, path, *loaded.config, t0);
    REQUIRE(std::holds_alternative<PortMapping>(rig.grant(8080, at(host_a, 8080))));
    REQUIRE(std::holds_alternative<PortMapping>(rig.grant(9000, at(host_a, 9000))));
    rig.apply(engine);

    std::ofstream(path) << base
                        << "firewall:\n  forwards:\n    - name: web\n      protocol: tcp\n      external_port: 8080\n"
                           "      internal: 192.168.1.11:80\n";
    ReloadOutcome outcome = control.reload();
    REQUIRE(outcome.applied);
    rig.apply(engine);
    auto listed = rig.service.mappings();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].external == Port{9000});
    auto journaled = rig.journaled();
    REQUIRE(journaled.size() == 1);
    CHECK(journaled[0].external == Port{9000});
    CHECK(announced == std::vector<std::size_t>{1, 2, 1});
    auto view = parse_json(control.answer({"mappings"}, t0));
    REQUIRE(view);
    const JsonValue* upnp = view->member("upnp");
    REQUIRE(upnp);
    CHECK(std::get<JsonValue::Array>(upnp->value).size() == 1);
    CHECK(engine.forwards().target_of(Protocol::tcp, Port{8080})->internal == at(host_b, 80));
    CHECK(engine.has_port_mapping(Protocol::tcp, Port{9000}) == true);
}

TEST_CASE("gatewayctl forwards delete closes a timed forward before its time, and the port is free again") {
    MappingServiceRig rig;
    PacketEngine engine(engine_setup());
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, &rig.service, nullptr, "", GatewayConfig{}, t0);
    REQUIRE(answered_ok(control.answer({"forwards", "add", "helpdesk", "tcp", "3389", "192.168.1.11:3389", "--for", "1h"}, t0)));
    rig.apply(engine);
    REQUIRE(engine.has_port_mapping(Protocol::tcp, Port{3389}));
    CHECK(control.answer({"forwards", "list"}, t0).find("\"name\":\"helpdesk\"") != std::string::npos);

    auto unknown = control.answer({"forwards", "delete", "nosuch"}, t0);
    CHECK_FALSE(answered_ok(unknown));
    CHECK(unknown.find("no timed forward is named 'nosuch' (timed forwards: helpdesk)") != std::string::npos);

    CHECK(answered_ok(control.answer({"forwards", "delete", "helpdesk"}, t0)));
    rig.apply(engine);
    CHECK_FALSE(engine.has_port_mapping(Protocol::tcp, Port{3389}));
    CHECK(control.answer({"forwards"}, t0).find("helpdesk") == std::string::npos);
    CHECK_FALSE(control.next_forward_end());
    // Free for a client's grant again (no 729).
    CHECK(std::holds_alternative<PortMapping>(rig.grant(3389, at(host_a, 3389))));
    CHECK_FALSE(answered_ok(control.answer({"forwards", "delete", "helpdesk"}, t0)));
}

}  // namespace gw::test

// gatewayctl's runtime changes across a restart: the control state file round-trips,
// reports bad lines by number, and a new GatewayControl reopens a timed forward from it
// with the time it has left, or not at all when its time ran out while down.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/control_state.hpp"
#include "daemon/gateway_control.hpp"
#include "engine_setup.hpp"
#include "igd/engine_clock.hpp"
#include "mapping_service_rig.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

struct TempDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("gw-control-state-" + std::to_string(getpid()) + "-" + std::to_string(rand()));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file() const { return (path / "control-state").string(); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("the control state file reads back what was written, odd names included") {
    ControlState state;
    state.timed.push_back({"for a while %", Protocol::tcp, Port{5000}, at(host_a, 5001), 1767225600});
    state.timed.push_back({"game", Protocol::udp, Port{27015}, at(host_b, 27015), 1767225700});
    state.switched.push_back({"web", false});
    std::string text = serialize_control_state(state);
    CHECK(text.find("timed for%20a%20while%20%25 tcp 5000 192.168.1.10:5001 expires=1767225600\n") != std::string::npos);
    auto read = parse_control_state(text);
    CHECK(read.errors.empty());
    CHECK(read.state == state);
}

TEST_CASE("a bad control state line is reported with its number and the others are read") {
    std::string text = std::string(control_state_header) +
                       "\n"
                       "timed a tcp 70000 192.168.1.10:1 expires=5\n"
                       "# a comment\n"
                       "switched web on\n"
                       "timed b udp 53 192.168.1.10:53 expires=9\n"
                       "timed c tcp 1 192.168.1.10:1 expires=-3\n"
                       "timed d%4 tcp 1 192.168.1.10:1 expires=3\n";
    auto read = parse_control_state(text, "cs");
    REQUIRE(read.errors.size() == 4);
    CHECK(read.errors[0] == "cs:2: bad port '70000'");
    CHECK(read.errors[1] == "cs:4: a switched line is: switched NAME enabled|disabled");
    CHECK(read.errors[2] == "cs:6: bad expiry 'expires=-3'");
    CHECK(read.errors[3] == "cs:7: bad name 'd%4'");
    REQUIRE(read.state.timed.size() == 1);
    CHECK(read.state.timed[0].name == "b");
    CHECK(parse_control_state("gatewayd-leases 1\ntimed b udp 53 192.168.1.10:53 expires=9\n").state.timed.empty());
}

TEST_CASE("a timed forward outlives a restart of its control plane with the time it had left") {
    TempDir dir;
    PacketEngine before(engine_setup());
    MappingServiceRig before_service(t0);
    LockedEngine locked_before(before);
    GatewayControl control(locked_before, &before_service.service, nullptr, "", GatewayConfig{}, t0);
    control.restore_state(dir.file(), t0, wall_clock_seconds());  // nothing there yet: starts empty
    auto answer = control.answer({"forwards", "add", "for-a-while", "tcp", "5000", "192.168.1.10:5000", "--for", "60s"}, t0);
    REQUIRE(answer.find("\"ok\":true") != std::string::npos);
    CHECK(slurp(dir.file()).find("timed for-a-while tcp 5000 192.168.1.10:5000 expires=") != std::string::npos);

    SECTION("restarted 10 s later: open again, closing 50 s later") {
        PacketEngine after(engine_setup());
        CHECK_FALSE(after.has_port_mapping(Protocol::tcp, Port{5000}));
        Instant now = t0 + 1h;  // the new process's clock means nothing to the file
        MappingServiceRig after_service(now);
        LockedEngine locked_after(after);
        GatewayControl restarted(locked_after, &after_service.service, nullptr, "", GatewayConfig{}, t0);
        restarted.restore_state(dir.file(), now, wall_clock_seconds() + 10);
        after_service.apply(after);
        CHECK(after.has_port_mapping(Protocol::tcp, Port{5000}));
        REQUIRE(restarted.next_forward_end());
        CHECK(*restarted.next_forward_end() >= now + 49s);
        CHECK(*restarted.next_forward_end() <= now + 51s);
        after_service.now = now + 51s;
        restarted.expire_timed_forwards(now + 51s);
        after_service.apply(after);
        CHECK_FALSE(after.has_port_mapping(Protocol::tcp, Port{5000}));
        // Its end is written down too: a third start does not bring it back.
        CHECK(slurp(dir.file()).find("for-a-while") == std::string::npos);
    }
    SECTION("restarted after its end: not reopened") {
        PacketEngine after(engine_setup());
        MappingServiceRig after_service(t0);
        LockedEngine locked_after(after);
        GatewayControl restarted(locked_after, &after_service.service, nullptr, "", GatewayConfig{}, t0);
        restarted.restore_state(dir.file(), t0, wall_clock_seconds() + 61);
        after_service.apply(after);
        CHECK_FALSE(after.has_port_mapping(Protocol::tcp, Port{5000}));
        CHECK_FALSE(restarted.next_forward_end());
    }
}

TEST_CASE("a static forward switched off by gatewayctl stays off after a restart") {
    TempDir dir;
    EngineSetup setup = engine_setup();
    PortForward web;
    web.name = "web";
    web.protocol = Protocol::tcp;
    web.external_ports = {8080, 8080};
    web.internal = at(host_b, 80);
    setup.firewall.forwards.push_back(web);
    GatewayConfig config;
    config.firewall = setup.firewall;

    PacketEngine before(setup);
    LockedEngine locked_before(before);
    GatewayControl control(locked_before, nullptr, nullptr, "", config, t0);
    control.restore_state(dir.file(), t0, wall_clock_seconds());
    REQUIRE(control.answer({"forwards", "disable", "web"}, t0).find("\"ok\":true") != std::string::npos);

    PacketEngine after(setup);
    REQUIRE(after.setup().firewall.forwards.front().enabled);
    LockedEngine locked_after(after);
    GatewayControl restarted(locked_after, nullptr, nullptr, "", config, t0);
    restarted.restore_state(dir.file(), t0, wall_clock_seconds());
    CHECK_FALSE(after.setup().firewall.forwards.front().enabled);
}

TEST_CASE("a control state file edited on another system (CRLF, a comment before the header) still reads") {
    std::string text = "# kept by gatewayd\r\n" + std::string(control_state_header) +
                       "\r\n"
                       "switched web disabled\r\n";
    auto read = parse_control_state(text, "cs");
    CHECK(read.errors.empty());
    REQUIRE(read.state.switched.size() == 1);
    CHECK(read.state.switched[0].name == "web");
}

}  // namespace gw::test

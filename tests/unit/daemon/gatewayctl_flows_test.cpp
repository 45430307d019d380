// gatewayctl flows / flows6 with their live counters and seconds left, flows delete
// (issue 16), and the per-mapping and per-forward counts in mappings, forwards list and
// metrics.
#include <catch2/catch.hpp>

#include <string>

#include "daemon/control_json.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/prometheus_metrics.hpp"
#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address game_host = Ipv4Address::from_octets(192, 168, 1, 21);
constexpr Ipv4Address stranger = Ipv4Address::from_octets(192, 0, 2, 99);

double number(const JsonValue& object, std::string_view key) {
    const JsonValue* member = object.member(key);
    REQUIRE(member);
    REQUIRE(member->number());
    return *member->number();
}

const JsonValue::Array& rows(const JsonValue& answer, std::string_view key) {
    const JsonValue* list = answer.member(key);
    REQUIRE(list);
    REQUIRE(list->array());
    return *list->array();
}

bool is_usage_error(const std::string& answer) {
    auto json = parse_json(answer);
    return json && json->member("usage") != nullptr && answer.find("\"ok\":false") != std::string::npos;
}

EngineSetup with_game_forward() {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {v6::prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 64;
    PortForward game;
    game.name = "game \"lan\"";
    game.protocol = Protocol::udp;
    game.external_ports = {27015, 27015};
    game.internal = at(game_host, 37015);
    setup.firewall.forwards = {game};
    return setup;
}

}  // namespace

TEST_CASE("gatewayctl flows shows each flow's packets, bytes and seconds left as numbers") {
    PacketEngine engine(engine_setup());
    Packet out = udp(at(host_a, 5000), at(server, 53), Bytes(10));  // 38 bytes
    REQUIRE(outbound(engine, out).verdict == Verdict::forward);
    Packet again = udp(at(host_a, 5000), at(server, 53), Bytes(2));  // 30 bytes
    REQUIRE(outbound(engine, again, t0 + 20s).verdict == Verdict::forward);
    LockedEngine locked(engine);
    GatewayControl control(locked, nullptr, nullptr, "", GatewayConfig{}, t0);
    auto answer = parse_json(control.answer({"flows"}, t0 + 50s));
    REQUIRE(answer);
    REQUIRE(rows(*answer, "flows").size() == 1);
    const JsonValue& flow = rows(*answer, "flows")[0];
    CHECK(number(flow, "packets") == 2);
    CHECK(number(flow, "bytes") == 68);
    CHECK(number(flow, "idle_seconds") == 30);
    CHECK(number(flow, "seconds_left") == 300 - 30);  // nat.timeouts.udp
}

TEST_CASE("gatewayctl flows delete ends the flows of a host and says how many") {
    PacketEngine engine(engine_setup());
    for (std::uint16_t port : {5000, 5001, 5002}) {
        Packet out = udp(at(host_a, port), at(server, 53));
        REQUIRE(outbound(engine, out).verdict == Verdict::forward);
    }
    Packet other = udp(at(host_b, 5000), at(server, 53));
    REQUIRE(outbound(engine, other).verdict == Verdict::forward);
    LockedEngine locked(engine);
    GatewayControl control(locked, nullptr, nullptr, "", GatewayConfig{}, t0);

    auto answer = parse_json(control.answer({"flows", "delete", "--host", host_a.to_string()}, t0));
    REQUIRE(answer);
    CHECK(number(*answer, "ended") == 3);
    CHECK(engine.flows().size() == 1);
    CHECK(engine.mappings().size() == 1);  // host_a's mapping went with its last flow
    // A full 5-tuple picks one flow.
    answer = parse_json(control.answer({"flows", "delete", "--proto", "udp", "--internal", to_string(at(host_b, 5000)),
                                        "--remote", to_string(at(server, 53))},
                                       t0));
    REQUIRE(answer);
    CHECK(number(*answer, "ended") == 1);
    CHECK(engine.flows().size() == 0);
}

TEST_CASE("gatewayctl flows delete without a selector, or with one it cannot read, is a usage error") {
    PacketEngine engine(engine_setup());
    Packet out = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, out).verdict == Verdict::forward);
    LockedEngine locked(engine);
    GatewayControl control(locked, nullptr, nullptr, "", GatewayConfig{}, t0);
    CHECK(is_usage_error(control.answer({"flows", "delete"}, t0)));
    CHECK(is_usage_error(control.answer({"flows6", "delete"}, t0)));
    CHECK(is_usage_error(control.answer({"flows", "delete", "--host", "nosuch"}, t0)));
    CHECK(is_usage_error(control.answer({"flows", "delete", "--internal", "192.168.1.10"}, t0)));
    CHECK(engine.flows().size() == 1);
}

TEST_CASE("gatewayctl flows6 shows packets, bytes and seconds left, and flows6 delete ends IPv6 flows") {
    PacketEngine engine(with_game_forward());
    Packet out = v6::udp(v6::lan_host, 5000, v6::remote_host, 53, Bytes(12));  // 60 bytes
    REQUIRE(engine.judge_ipv6_outbound(out, t0).verdict == Verdict::forward);
    LockedEngine locked(engine);
    GatewayControl control(locked, nullptr, nullptr, "", GatewayConfig{}, t0);
    auto answer = parse_json(control.answer({"flows6", "--proto", "udp"}, t0 + 10s));
    REQUIRE(answer);
    REQUIRE(rows(*answer, "flows").size() == 1);
    const JsonValue& flow = rows(*answer, "flows")[0];
    CHECK(number(flow, "packets") == 1);
    CHECK(number(flow, "bytes") == 60);
    CHECK(number(flow, "seconds_left") == 300 - 10);
    answer = parse_json(control.answer({"flows6", "delete", "--host", "2001:db8:ff::2"}, t0 + 10s));
    REQUIRE(answer);
    CHECK(number(*answer, "ended") == 1);
    CHECK(engine.ipv6().flows().size() == 0);
}

TEST_CASE("forwards list, mappings and metrics show the packets and bytes of each forward") {
    PacketEngine engine(with_game_forward());
    Packet in = udp(at(stranger, 9000), {wan_address, Port{27015}}, Bytes(12));  // 40 bytes
    REQUIRE(inbound(engine, in).verdict == Verdict::forward);
    LockedEngine locked(engine);
    GatewayControl control(locked, nullptr, nullptr, "", GatewayConfig{}, t0);
    auto listed = parse_json(control.answer({"forwards", "list"}, t0));
    REQUIRE(listed);
    REQUIRE(rows(*listed, "forwards").size() == 1);
    CHECK(number(rows(*listed, "forwards")[0], "packets") == 1);
    CHECK(number(rows(*listed, "forwards")[0], "bytes") == 40);
    auto mappings = parse_json(control.answer({"mappings"}, t0));
    REQUIRE(mappings);
    CHECK(number(rows(*mappings, "forwards")[0], "bytes") == 40);

    auto status = parse_json(control.answer({"status"}, t0));
    REQUIRE(status);
    std::string text = prometheus_metrics(*status, nullptr, &*mappings);
    // The name's quotes are escaped, as the text format wants.
    CHECK(text.find(R"(gatewayd_forward_packets_total{forward="game \"lan\"",protocol="udp",external_ports="27015",)"
                    R"(internal="192.168.1.21:37015"} 1)") != std::string::npos);
    CHECK(text.find("# TYPE gatewayd_forward_bytes_total counter") != std::string::npos);
}

TEST_CASE("a port mapping's samples carry its client-given description, escaped") {
    auto mappings = parse_json(R"({"ok":true,"upnp":[{"protocol":"tcp","external_port":8080,"internal":"192.168.1.10:80",
        "description":"a \"quoted\" \\ name\nwith a newline","packets":7,"bytes":900}],"forwards":[]})");
    REQUIRE(mappings);
    auto status = parse_json(R"({"ok":true})");
    std::string text = prometheus_metrics(*status, nullptr, &*mappings);
    CHECK(text.find(R"(gatewayd_mapping_bytes_total{protocol="tcp",external_port="8080",internal="192.168.1.10:80",)"
                    R"(description="a \"quoted\" \\ name\nwith a newline"} 900)") != std::string::npos);
    CHECK(text.find("gatewayd_mapping_packets_total{") != std::string::npos);
}

}  // namespace gw::test

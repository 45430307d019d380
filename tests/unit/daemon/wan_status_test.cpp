// The WAN side's verdict: is another NAT upstream, what does UPnP report, what does the
// user read; and the wan.stun / wan.cascade_mappings keys it is configured by.
#include <catch2/catch.hpp>

#include "config_fixtures.hpp"
#include "daemon/control_json.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/wan_status.hpp"
#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace config_fixtures;

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }
const StunServerConfig stun_server{"stun.example.net", 3478};

WanStatus answered(const char* wan, const char* seen, CascadeMappings mode = CascadeMappings::warn) {
    WanStatus s = wan_status_for(ip(wan), stun_server, mode);
    s.stun = StunState::answered;
    s.stun_mapped = Endpoint{ip(seen), Port{40000}};
    return s;
}

}  // namespace

TEST_CASE("a private WAN address means another NAT upstream, in one line a user understands") {
    WanStatus s = wan_status_for(ip("10.0.0.2"), std::nullopt, CascadeMappings::warn);
    CHECK(s.cascade() == Cascade::yes);
    CHECK(s.external_address() == ip("10.0.0.2"));
    CHECK_FALSE(s.refusing_mappings());
    CHECK(s.warning() == "WAN address 10.0.0.2 is private (RFC 1918): another NAT is upstream; port mappings will not be "
                         "reachable from the internet");
}

TEST_CASE("a CGNAT WAN address with STUN's answer names the address the internet sees, which UPnP reports") {
    WanStatus s = answered("100.64.0.2", "203.0.113.1");
    CHECK(s.cascade() == Cascade::yes);
    CHECK(s.external_address() == ip("203.0.113.1"));
    CHECK(s.warning() == "WAN address 100.64.0.2 is shared (CGNAT) (RFC 6598): another NAT is upstream (the internet "
                         "sees 203.0.113.1); port mappings will not be reachable from the internet");
}

TEST_CASE("STUN seeing the WAN address itself means no NAT upstream, whatever block it is in") {
    WanStatus s = answered("203.0.113.1", "203.0.113.1");
    CHECK(s.cascade() == Cascade::no);
    CHECK_FALSE(s.warning());
}

TEST_CASE("STUN seeing another address behind a public WAN address reveals a cascade") {
    WanStatus s = answered("8.8.4.4", "8.8.8.8", CascadeMappings::refuse);
    CHECK(s.cascade() == Cascade::yes);
    CHECK(s.refusing_mappings());
    CHECK_THAT(*s.warning(), Catch::Contains("is not the address the internet sees (STUN: 8.8.8.8)"));
    CHECK_THAT(*s.warning(), Catch::Contains("so they are refused (wan.cascade_mappings: refuse)"));
}

TEST_CASE("a public WAN address without STUN is no cascade; a documentation one is unknown, and says how to find out") {
    CHECK(wan_status_for(ip("8.8.4.4"), std::nullopt, CascadeMappings::refuse).cascade() == Cascade::no);
    CHECK_FALSE(wan_status_for(ip("8.8.4.4"), std::nullopt, CascadeMappings::refuse).refusing_mappings());
    WanStatus doc = wan_status_for(ip("203.0.113.1"), std::nullopt, CascadeMappings::refuse);
    CHECK(doc.cascade() == Cascade::unknown);
    CHECK_FALSE(doc.refusing_mappings());  // only a known cascade refuses
    CHECK_THAT(*doc.warning(), Catch::Contains("documentation (RFC 5737)") && Catch::Contains("set wan.stun to find out"));
}

TEST_CASE("a failed STUN query leaves the verdict to the WAN address and the report to the WAN address") {
    WanStatus s = wan_status_for(ip("192.168.1.2"), stun_server, CascadeMappings::refuse);
    CHECK(s.stun == StunState::asking);
    s.stun = StunState::failed;
    s.stun_problem = "no answer";
    CHECK(s.cascade() == Cascade::yes);
    CHECK(s.refusing_mappings());
    CHECK(s.external_address() == ip("192.168.1.2"));
    CHECK_THAT(s.json(), Catch::Contains("\"stun\":\"failed\"") && Catch::Contains("\"stun_problem\":\"no answer\"") &&
                             Catch::Contains("\"cascade\":\"yes\"") && Catch::Contains("\"public_address\":null"));
}

TEST_CASE("after a WAN address change, the public address STUN found stays reported until STUN answers again") {
    WanStatus before = answered("100.64.0.2", "203.0.113.1");
    WanStatus after = wan_status_after_change(before, ip("100.64.0.3"));
    CHECK(after.wan_address == ip("100.64.0.3"));
    CHECK(after.stun == StunState::asking);
    CHECK(after.external_address() == ip("203.0.113.1"));
    after.stun = StunState::failed;  // no answer from the new address: only the WAN address is known
    CHECK(after.external_address() == ip("100.64.0.3"));
    // Without a cascade before (STUN saw the WAN address itself) nothing is carried over.
    CHECK(wan_status_after_change(answered("8.8.4.4", "8.8.4.4"), ip("8.8.4.5")).external_address() == ip("8.8.4.5"));
}

TEST_CASE("the status JSON names the address, its class and RFC, STUN's answer and the cascade") {
    CHECK(answered("100.64.0.2", "203.0.113.1").json() ==
          "{\"address\":\"100.64.0.2\",\"class\":\"shared (CGNAT)\",\"rfc\":\"RFC 6598\",\"stun_server\":"
          "\"stun.example.net:3478\",\"stun\":\"answered\",\"public_address\":\"203.0.113.1\",\"cascade\":\"yes\","
          "\"reported_external_address\":\"203.0.113.1\",\"mapping_grants\":\"granted\"}");
}

TEST_CASE("wan.stun takes host or host:port, 3478 by default, and none") {
    CHECK_FALSE(loaded(interfaces).wan_stun);
    CHECK(loaded(interfaces).cascade_mappings == CascadeMappings::warn);
    CHECK(loaded(interfaces + "  stun: stun.example.net\n").wan_stun == StunServerConfig{"stun.example.net", 3478});
    CHECK(loaded(interfaces + "  stun: 203.0.113.2:3479\n").wan_stun == StunServerConfig{"203.0.113.2", 3479});
    CHECK_FALSE(loaded(interfaces + "  stun: none\n").wan_stun);
    CHECK(loaded(interfaces + "  cascade_mappings: refuse\n").cascade_mappings == CascadeMappings::refuse);
}

TEST_CASE("a bad wan.stun or wan.cascade_mappings is refused with its position") {
    CHECK(errors_of(interfaces + "  stun: stun.example.net:0\n") ==
          one("test.yaml:5:9: wan.stun: expected a STUN server as host or host:port with a port of 1 to 65535, got "
              "'stun.example.net:0'"));
    CHECK(errors_of(interfaces + "  stun: \"-x:3478\"\n").size() == 1);
    CHECK(errors_of(interfaces + "  stun: \"a/b\"\n").size() == 1);
    CHECK(errors_of(interfaces + "  cascade_mappings: block\n") ==
          one("test.yaml:5:21: wan.cascade_mappings: expected one of warn, refuse, got 'block'"));
}

}  // namespace gw::test

namespace gw::test {

TEST_CASE("gatewayctl status shows the WAN address's class, the cascade and the warning") {
    EngineSetup setup = engine_setup();
    setup.nat.wan_address = ip("10.0.0.2");
    PacketEngine engine(setup);
    LockedEngine locked_engine(engine);
    GatewayControl control(locked_engine, nullptr, nullptr, "", GatewayConfig{}, t0);
    auto status = parse_json(control.answer({"status"}, t0));
    REQUIRE(status);
    const JsonValue* wan = status->member("wan");
    REQUIRE(wan);
    CHECK(*wan->member("address")->string() == "10.0.0.2");
    CHECK(*wan->member("class")->string() == "private");
    CHECK(*wan->member("rfc")->string() == "RFC 1918");
    CHECK(*wan->member("cascade")->string() == "yes");
    CHECK(*wan->member("stun")->string() == "not configured");
    const auto* warnings = status->member("warnings")->array();
    REQUIRE(warnings->size() == 1);
    CHECK(*warnings->front().string() == "WAN address 10.0.0.2 is private (RFC 1918): another NAT is upstream; port "
                                         "mappings will not be reachable from the internet");
}

Ipv4Network net(const char* text) { return *Ipv4Network::parse(text); }

TEST_CASE("A WAN network overlapping a LAN block is warned about, naming both (RFC 4787 REQ-7)", "[wan]") {
    const std::vector<Ipv4Network> lan{net("10.1.0.0/16"), net("192.168.1.0/24")};
    auto same = wan_lan_overlap_warning("wan0", net("192.168.1.0/24"), lan);
    REQUIRE(same);
    CHECK(same->find("wan0's network 192.168.1.0/24 overlaps lan.networks 192.168.1.0/24") == 0);
    CHECK(same->find("RFC 4787 REQ-7") != std::string::npos);
    // Either block may hold the other.
    auto wider_wan = wan_lan_overlap_warning("wan0", net("192.168.0.0/16"), lan);
    REQUIRE(wider_wan);
    CHECK(wider_wan->find("overlaps lan.networks 192.168.1.0/24") != std::string::npos);
    auto inside_lan = wan_lan_overlap_warning("wan0", net("10.1.7.0/24"), lan);
    REQUIRE(inside_lan);
    CHECK(inside_lan->find("overlaps lan.networks 10.1.0.0/16") != std::string::npos);
}

TEST_CASE("A WAN network beside the LAN's blocks, or a /0 LAN block, draws no overlap warning", "[wan]") {
    CHECK_FALSE(wan_lan_overlap_warning("wan0", net("203.0.113.0/24"), {net("192.168.1.0/24")}));
    CHECK_FALSE(wan_lan_overlap_warning("wan0", net("192.168.2.0/24"), {net("192.168.1.0/24")}));
    CHECK_FALSE(wan_lan_overlap_warning("wan0", net("203.0.113.0/24"), {net("0.0.0.0/0")}));
}

}  // namespace gw::test

// Discovery of the NAT upstream's port-control service (issue 19): where PCP and NAT-PMP
// are asked (the WAN default gateway, read from the kernel's routing table), in which
// order the protocols are tried, how long the UDP clients wait, and what UPnP's error
// codes mean for the carrier.
#include <catch2/catch.hpp>

#include "daemon/upstream_discovery.hpp"
#include "daemon/upstream_udp.hpp"
#include "daemon/upstream_upnp_client.hpp"

namespace gw {

using namespace std::chrono_literals;

namespace {

// /proc/net/route as the kernel prints it (addresses in network order, little-endian hex).
constexpr std::string_view routes =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "lan0\t0032A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "wan0\t00000000\t014000 64\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"  // garbled: skipped
    "wan0\t00000000\t0A4000 64\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "wan0\t00000000\t01004064\t0003\t0\t0\t200\t00000000\t0\t0\t0\n"
    "wan0\t00000000\t02004064\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "wan0\t00004064\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "eth9\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";

}  // namespace

TEST_CASE("the WAN default gateway is the lowest-metric default route through the WAN interface") {
    CHECK(parse_default_gateway(routes, "wan0") == Ipv4Address::from_octets(100, 64, 0, 2));
    CHECK(parse_default_gateway(routes, "eth9") == Ipv4Address::from_octets(192, 168, 1, 1));
    CHECK_FALSE(parse_default_gateway(routes, "lan0").has_value());  // an on-link route only
    CHECK_FALSE(parse_default_gateway(routes, "wan").has_value());   // names match whole
    // A default route without RTF_GATEWAY (a point-to-point link) names no one to ask.
    CHECK_FALSE(parse_default_gateway("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                                      "ppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\n",
                                      "ppp0")
                    .has_value());
}

TEST_CASE("auto tries PCP, then NAT-PMP, then UPnP; a named protocol is tried alone") {
    CHECK(upstream_protocol_order(std::nullopt) ==
          std::vector{UpstreamProtocol::pcp, UpstreamProtocol::natpmp, UpstreamProtocol::upnp});
    CHECK(upstream_protocol_order(UpstreamProtocol::upnp) == std::vector{UpstreamProtocol::upnp});
    CHECK(upstream_protocol_name(UpstreamProtocol::natpmp) == "natpmp");
}

TEST_CASE("PCP and NAT-PMP requests go at 0, 250, 750 and 1750 ms and are given up at 3 s") {
    CHECK(upstream_send_offsets(250ms, 3000ms) == std::vector<std::chrono::milliseconds>{0ms, 250ms, 750ms, 1750ms});
    CHECK(upstream_send_offsets(250ms, 200ms) == std::vector<std::chrono::milliseconds>{0ms});
}

TEST_CASE("a PCP or NAT-PMP client without a default gateway to ask says so without sending anything") {
    UpstreamWanSide wan{"wan0", Ipv4Address::from_octets(100, 64, 0, 2), std::nullopt};
    for (UpstreamProtocol protocol : {UpstreamProtocol::pcp, UpstreamProtocol::natpmp}) {
        auto client = make_upstream_client(protocol, wan, {});
        REQUIRE_FALSE(client.has_value());
        CHECK(client.error().kind == UpstreamFailure::Kind::no_answer);
        CHECK(client.error().reason == "no IPv4 default gateway on wan0 to ask");
    }
}

TEST_CASE("UPnP's 718 is port_taken, other action errors refusals, the library's HTTP failures no answer") {
    UpstreamFailure taken = upstream_failure_of_upnp(718, "AddPortMapping");
    CHECK(taken.kind == UpstreamFailure::Kind::port_taken);
    CHECK(taken.reason == "AddPortMapping: 718 ConflictInMappingEntry");
    CHECK(upstream_failure_of_upnp(606, "AddPortMapping").kind == UpstreamFailure::Kind::refused);
    CHECK(upstream_failure_of_upnp(728, "AddPortMapping").kind == UpstreamFailure::Kind::refused);
    CHECK(upstream_failure_of_upnp(-3, "GetExternalIPAddress").kind == UpstreamFailure::Kind::no_answer);
    CHECK(upstream_failure_of_upnp(-4, "GetExternalIPAddress").kind == UpstreamFailure::Kind::bad_answer);
}

}  // namespace gw

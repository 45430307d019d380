// The UPnP refusal the packet path makes is counted (gatewayctl status: upnp_refusals):
// SSDP or HTTP to the IGD arriving on the WAN side. What LAN clients send is judged by
// the IGD's HTTP front end (http_front_end_test.cpp).
#include <catch2/catch.hpp>

#include <string>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address gateway_lan = Ipv4Address::from_octets(192, 168, 1, 1);
constexpr std::uint16_t http_port = 49152;

EngineSetup upnp_setup() {
    EngineSetup setup = engine_setup();
    setup.upnp_http = at(gateway_lan, http_port);
    return setup;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

constexpr std::uint8_t syn = 0x02;

}  // namespace

TEST_CASE("SSDP and IGD HTTP from the WAN side are dropped and counted as from_wan") {
    PacketEngine engine(upnp_setup());
    Packet http_syn = tcp(at(server, 41000), at(wan_address, http_port), syn);
    Packet ssdp_unicast = udp(at(server, 41001), at(wan_address, 1900), text("M-SEARCH * HTTP/1.1\r\n\r\n"));
    Packet ssdp_multicast = udp(at(server, 41002), at(Ipv4Address::from_octets(239, 255, 255, 250), 1900),
                                text("M-SEARCH * HTTP/1.1\r\n\r\n"));
    CHECK(inbound(engine, http_syn, t0).verdict == Verdict::drop);
    CHECK(inbound(engine, ssdp_unicast, t0).verdict == Verdict::drop);
    CHECK(inbound(engine, ssdp_multicast, t0).verdict == Verdict::drop);
    CHECK(engine.counters().upnp_from_wan_refused == 3);

    Packet other = tcp(at(server, 41003), at(wan_address, 22), syn);
    inbound(engine, other, t0);
    CHECK(engine.counters().upnp_from_wan_refused == 3);  // not a UPnP port
}

}  // namespace gw::test

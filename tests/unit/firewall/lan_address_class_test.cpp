// Which addresses may stand for a LAN host: as a request's source on the LAN, or as the
// internal end of a mapping or forward (issue 14).
#include <catch2/catch.hpp>

#include <vector>

#include "firewall/address_checks.hpp"

namespace gw::test {
namespace {

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

const std::vector<Ipv4Network> lan{*Ipv4Network::parse("192.168.1.0/24"), *Ipv4Network::parse("10.9.0.0/31")};
const std::vector<Ipv4Address> gateway{ip("192.168.1.1"), ip("203.0.113.5")};

LanAddressClass of(const char* text) { return classify_lan_address(ip(text), lan, gateway); }

}  // namespace

TEST_CASE("only an address of a LAN network that is neither the gateway's nor the network's or broadcast is a LAN host") {
    CHECK(of("192.168.1.2") == LanAddressClass::host);
    CHECK(of("192.168.1.254") == LanAddressClass::host);
    CHECK(of("192.168.1.1") == LanAddressClass::gateway);
    CHECK(of("203.0.113.5") == LanAddressClass::gateway);  // the WAN address, with accept_local
    CHECK(of("127.0.0.1") == LanAddressClass::gateway);
    CHECK(of("0.0.0.0") == LanAddressClass::gateway);
    CHECK(of("192.168.1.0") == LanAddressClass::network);
    CHECK(of("192.168.1.255") == LanAddressClass::broadcast);
    CHECK(of("192.168.2.7") == LanAddressClass::outside_lan);
    CHECK(of("239.255.255.250") == LanAddressClass::outside_lan);
    CHECK(of("255.255.255.255") == LanAddressClass::outside_lan);
}

TEST_CASE("a /31 LAN network has two hosts and no network or broadcast address (RFC 3021)") {
    CHECK(of("10.9.0.0") == LanAddressClass::host);
    CHECK(of("10.9.0.1") == LanAddressClass::host);
}

TEST_CASE("a broadcast address of a smaller LAN network inside a larger one is still a broadcast") {
    const std::vector<Ipv4Network> nested{*Ipv4Network::parse("10.0.0.0/8"), *Ipv4Network::parse("10.1.0.0/16")};
    CHECK(classify_lan_address(ip("10.1.255.255"), nested, gateway) == LanAddressClass::broadcast);
    CHECK(classify_lan_address(ip("10.2.255.255"), nested, gateway) == LanAddressClass::host);
}

TEST_CASE("what the kernel would deliver to the gateway's own sockets is never a forward's target") {
    for (const char* address : {"192.168.1.1", "203.0.113.5", "127.0.0.1", "192.168.1.0", "192.168.1.255",
                                "239.255.255.250", "255.255.255.255", "0.0.0.0"})
        CHECK(delivers_to_gateway(ip(address), lan, gateway));
    CHECK_FALSE(delivers_to_gateway(ip("192.168.1.2"), lan, gateway));
    CHECK_FALSE(delivers_to_gateway(ip("172.16.0.9"), lan, gateway));  // a routed host behind the LAN: not ours
}

}  // namespace gw::test

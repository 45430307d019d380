// IPv6 addresses and prefixes: RFC 4291 text in, RFC 5952 text out, prefix matching.
#include <catch2/catch.hpp>

#include "nat/ipv6_address.hpp"

namespace gw::test {

TEST_CASE("IPv6 addresses parse RFC 4291 text and print RFC 5952 text") {
    CHECK(Ipv6Address::parse("2001:DB8:0:0:0:0:0:1")->to_string() == "2001:db8::1");
    CHECK(Ipv6Address::parse("::")->is_unspecified());
    CHECK(Ipv6Address::parse("::ffff:192.0.2.1")->is_v4_mapped());
    CHECK(Ipv6Address::parse("fe80::1")->is_link_local());
    CHECK(Ipv6Address::parse("ff02::1")->is_multicast());
    CHECK_FALSE(Ipv6Address::parse("2001:db8::1")->is_v4_mapped());
    for (const char* bad : {"", "2001:db8::1::2", "2001:db8:::1", "192.0.2.1", "[2001:db8::1]", "fe80::1%eth0",
                            "2001:db8::/32", "12345::", "g::1"})
        CHECK_FALSE(Ipv6Address::parse(bad));
}

TEST_CASE("IPv6 prefixes contain exactly the addresses under their first bits") {
    auto net = *Ipv6Network::parse("2001:db8:ab00::/40");
    CHECK(net.contains(*Ipv6Address::parse("2001:db8:abff::1")));
    CHECK_FALSE(net.contains(*Ipv6Address::parse("2001:db8:ac00::1")));
    CHECK(Ipv6Network::parse("::/0")->contains(*Ipv6Address::parse("2001:db8::1")));
    auto host = *Ipv6Network::parse("2001:db8::7");
    CHECK(host.prefix_length == 128);
    CHECK(host.contains(*Ipv6Address::parse("2001:db8::7")));
    CHECK_FALSE(host.contains(*Ipv6Address::parse("2001:db8::8")));
    CHECK(net.to_string() == "2001:db8:ab00::/40");
    for (const char* bad : {"2001:db8::/129", "2001:db8::/", "2001:db8::/-1", "2001:db8::/1x", "/64"})
        CHECK_FALSE(Ipv6Network::parse(bad));
}

}  // namespace gw::test

// Every special-purpose block's first and last address is classified as its RFC says,
// and the addresses just outside each block are not.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "nat/address_class.hpp"

namespace gw::test {
namespace {

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

}  // namespace

TEST_CASE("each special-purpose block is classified from its first to its last address, with its RFC") {
    struct Row {
        const char* first;
        const char* last;
        AddressClass expected;
        std::string_view rfc;
    };
    const std::vector<Row> table{
        {"0.0.0.0", "0.255.255.255", AddressClass::this_network, "RFC 791, RFC 1122"},
        {"10.0.0.0", "10.255.255.255", AddressClass::private_use, "RFC 1918"},
        {"100.64.0.0", "100.127.255.255", AddressClass::shared, "RFC 6598"},
        {"127.0.0.0", "127.255.255.255", AddressClass::loopback, "RFC 1122"},
        {"169.254.0.0", "169.254.255.255", AddressClass::link_local, "RFC 3927"},
        {"172.16.0.0", "172.31.255.255", AddressClass::private_use, "RFC 1918"},
        {"192.0.0.0", "192.0.0.255", AddressClass::ietf_protocol, "RFC 6890"},
        {"192.0.2.0", "192.0.2.255", AddressClass::documentation, "RFC 5737"},
        {"192.88.99.0", "192.88.99.255", AddressClass::relay_anycast, "RFC 7526"},
        {"192.168.0.0", "192.168.255.255", AddressClass::private_use, "RFC 1918"},
        {"198.18.0.0", "198.19.255.255", AddressClass::benchmarking, "RFC 2544"},
        {"198.51.100.0", "198.51.100.255", AddressClass::documentation, "RFC 5737"},
        {"203.0.113.0", "203.0.113.255", AddressClass::documentation, "RFC 5737"},
        {"224.0.0.0", "239.255.255.255", AddressClass::multicast, "RFC 5771"},
        {"240.0.0.0", "255.255.255.254", AddressClass::reserved, "RFC 1112"},
        {"255.255.255.255", "255.255.255.255", AddressClass::limited_broadcast, "RFC 919, RFC 8190"},
    };
    for (const auto& row : table) {
        for (const char* edge : {row.first, row.last}) {
            INFO(edge);
            auto c = classify_ipv4(ip(edge));
            CHECK(c.address_class == row.expected);
            CHECK(c.rfc == row.rfc);
            CHECK(!c.block.empty());
        }
    }
}

TEST_CASE("the addresses just outside each special-purpose block are public") {
    for (const char* outside : {"1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
                                "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
                                "172.32.0.0", "191.255.255.255", "192.0.1.0", "192.0.3.0", "192.88.98.255",
                                "192.88.100.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
                                "198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0", "223.255.255.255",
                                "8.8.8.8"}) {
        INFO(outside);
        auto c = classify_ipv4(ip(outside));
        CHECK(c.address_class == AddressClass::public_unicast);
        CHECK(c.rfc.empty());
        CHECK(address_class_name(c.address_class) == "public");
    }
}

TEST_CASE("only private and shared addresses prove that a NAT is upstream") {
    CHECK(implies_upstream_nat(classify_ipv4(ip("10.0.0.2")).address_class));
    CHECK(implies_upstream_nat(classify_ipv4(ip("100.64.0.2")).address_class));
    CHECK(implies_upstream_nat(classify_ipv4(ip("192.168.1.2")).address_class));
    CHECK_FALSE(implies_upstream_nat(classify_ipv4(ip("203.0.113.1")).address_class));
    CHECK_FALSE(implies_upstream_nat(classify_ipv4(ip("169.254.1.1")).address_class));
    CHECK_FALSE(implies_upstream_nat(classify_ipv4(ip("8.8.8.8")).address_class));
    CHECK(address_class_name(AddressClass::shared) == "shared (CGNAT)");
}

}  // namespace gw::test

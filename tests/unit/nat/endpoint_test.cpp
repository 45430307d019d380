// The addressing vocabulary parses only what it should: these strings come from the
// config file and from UPnP/PCP requests, so everything else is refused.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "nat/endpoint.hpp"
#include "packet_builder.hpp"

namespace gw::test {

TEST_CASE("an IPv4 address parses from a strict dotted quad only") {
    struct Row {
        std::string text;
        std::optional<Ipv4Address> expected;
    };
    std::vector<Row> table{
        {"192.168.1.10", host_a},
        {"0.0.0.0", Ipv4Address(0)},
        {"255.255.255.255", Ipv4Address(0xffffffff)},
        {"256.1.1.1", std::nullopt},
        {"1.2.3", std::nullopt},
        {"1.2.3.4.5", std::nullopt},
        {"1..2.3", std::nullopt},
        {"010.0.0.1", std::nullopt},  // octal to inet_aton, decimal to humans
        {" 1.2.3.4", std::nullopt},
        {"1.2.3.4 ", std::nullopt},
        {"+1.2.3.4", std::nullopt},
        {"1.2.3.-4", std::nullopt},
        {"", std::nullopt},
        {"1.2.3.4/24", std::nullopt},
    };
    for (const Row& row : table) {
        INFO('"' << row.text << '"');
        CHECK(Ipv4Address::parse(row.text) == row.expected);
        if (row.expected) CHECK(row.expected->to_string() == row.text);
    }
}

TEST_CASE("a port range parses as first-last or a single port, never reversed") {
    struct Row {
        std::string text;
        std::optional<PortRange> expected;
    };
    std::vector<Row> table{
        {"1024-65535", PortRange{1024, 65535}},
        {"5004", PortRange{5004, 5004}},
        {"0-0", PortRange{0, 0}},
        {"40001-40000", std::nullopt},
        {"1024-65536", std::nullopt},
        {"1024-", std::nullopt},
        {"-1024", std::nullopt},
        {"1-2-3", std::nullopt},
        {"", std::nullopt},
        {"http", std::nullopt},
    };
    for (const Row& row : table) {
        INFO('"' << row.text << '"');
        CHECK(PortRange::parse(row.text) == row.expected);
    }
    CHECK(PortRange{40000, 40001}.size() == 2);
    CHECK(PortRange{0, 65535}.size() == 65536);
    CHECK(PortRange{1024, 65535}.to_string() == "1024-65535");
    CHECK(PortRange{5004, 5004}.to_string() == "5004");
}

TEST_CASE("a network contains exactly the addresses under its prefix") {
    auto lan = Ipv4Network::parse("192.168.1.0/24");
    REQUIRE(lan);
    CHECK(lan->contains(host_a));
    CHECK_FALSE(lan->contains(wan_address));
    CHECK_FALSE(lan->contains(Ipv4Address::from_octets(192, 168, 2, 1)));
    CHECK(Ipv4Network::parse("0.0.0.0/0")->contains(server));
    CHECK(Ipv4Network::parse("198.51.100.7")->contains(server));
    CHECK_FALSE(Ipv4Network::parse("198.51.100.7")->contains(other_server));
    CHECK(Ipv4Network::parse("10.0.0.0/33") == std::nullopt);
    CHECK(Ipv4Network::parse("10.0.0.0/") == std::nullopt);
    CHECK(Ipv4Network::parse("/8") == std::nullopt);
    CHECK(lan->to_string() == "192.168.1.0/24");
}

TEST_CASE("an endpoint prints as address:port") {
    CHECK(to_string(at(host_a, 5000)) == "192.168.1.10:5000");
    CHECK(protocol_name(Protocol::udp) == "udp");
}

}  // namespace gw::test

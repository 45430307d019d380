// The per-LAN-host counts behind nat.max_flows_per_host and nat.max_ports_per_host.
#include <catch2/catch.hpp>

#include "nat/lan_host_counts.hpp"
#include "packet_builder.hpp"

namespace gw::test {

TEST_CASE("a host's count stops at the limit it is given, and other hosts count apart") {
    LanHostCounts counts(16);
    for (int i = 0; i < 3; ++i) CHECK(counts.add(host_a, 3));
    CHECK_FALSE(counts.add(host_a, 3));
    CHECK(counts.count_of(host_a) == 3);
    CHECK(counts.add(host_b, 3));
    CHECK(counts.count_of(host_b) == 1);
    counts.remove(host_a);
    CHECK(counts.add(host_a, 3));
}

TEST_CASE("the busiest host is the one with the highest count") {
    LanHostCounts counts(16);
    CHECK_FALSE(counts.busiest().has_value());
    counts.add(host_a, 10);
    for (int i = 0; i < 4; ++i) counts.add(host_b, 10);
    CHECK(counts.busiest() == host_b);
    for (int i = 0; i < 3; ++i) counts.remove(host_b);
    counts.add(host_a, 10);
    CHECK(counts.busiest() == host_a);
}

TEST_CASE("a host whose count falls to zero frees its record for another host") {
    LanHostCounts counts(2);
    CHECK(counts.add(host_a, 5));
    CHECK(counts.add(host_b, 5));
    Ipv4Address third = Ipv4Address::from_octets(192, 168, 1, 12);
    CHECK_FALSE(counts.add(third, 5));  // no room for a third host: refused like a limit
    counts.remove(host_a);
    CHECK(counts.hosts() == 1);
    CHECK(counts.count_of(host_a) == 0);
    CHECK(counts.add(third, 5));
    CHECK(counts.count_of(third) == 1);
    CHECK(counts.count_of(host_b) == 1);
}

}  // namespace gw::test

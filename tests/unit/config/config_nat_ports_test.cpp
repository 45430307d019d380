// nat.low_port_range (RFC 4787 REQ-3) and nat.unreachable_when_full (RFC 5508 REQ-8):
// how they are written, their defaults, and what is refused.
#include <catch2/catch.hpp>

#include "config_fixtures.hpp"

namespace gw::test {

using namespace config_fixtures;

TEST_CASE("nat.low_port_range is off by default and takes a range inside 1-1023") {
    CHECK_FALSE(loaded(interfaces).low_port_range);
    CHECK(loaded(interfaces + "nat:\n  low_port_range: 600-1023\n").low_port_range == PortRange{600, 1023});
    CHECK_FALSE(loaded(interfaces + "nat:\n  low_port_range: none\n").low_port_range);
}

TEST_CASE("nat.low_port_range reaching 1024, starting at 0 or malformed is refused with its position") {
    const std::string expected = "expected a port range inside 1-1023 (600-1023), or none, got ";
    CHECK(errors_of(interfaces + "nat:\n  low_port_range: 600-1024\n") ==
          one("test.yaml:6:19: nat.low_port_range: " + expected + "'600-1024'"));
    CHECK(errors_of(interfaces + "nat:\n  low_port_range: 0-1023\n") ==
          one("test.yaml:6:19: nat.low_port_range: " + expected + "'0-1023'"));
    CHECK(errors_of(interfaces + "nat:\n  low_port_range: low\n").size() == 1);
}

TEST_CASE("nat.unreachable_when_full is on by default and may be turned off") {
    CHECK(loaded(interfaces).unreachable_when_full);
    CHECK_FALSE(loaded(interfaces + "nat:\n  unreachable_when_full: false\n").unreachable_when_full);
}

}  // namespace gw::test

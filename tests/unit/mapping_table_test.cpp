// The mapping table on its own: which external port an internal endpoint gets, the
// two keys that find it, the limits, and exact expiry.
#include <catch2/catch.hpp>

#include <set>

#include "nat/mapping_table.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Instant t0 = 1'000'000ms;

NatConfig config_with(PortRange range, std::uint32_t max_mappings = 262144) {
    NatConfig c;
    c.wan_address = wan_address;
    c.port_range = range;
    c.max_mappings = max_mappings;
    return c;
}

Port external_port_of(MappingTable& table, Protocol protocol, Endpoint internal, Instant now = t0) {
    InsertResult inserted = table.find_or_insert(protocol, internal, now);
    REQUIRE(inserted.mapping);
    return inserted.mapping->external;
}

}  // namespace

TEST_CASE("an internal port inside the range is kept when free") {
    MappingTable table(config_with({1024, 65535}));
    CHECK(external_port_of(table, Protocol::udp, at(host_a, 5060)) == Port{5060});
    CHECK(external_port_of(table, Protocol::tcp, at(host_a, 1024)) == Port{1024});
    CHECK(external_port_of(table, Protocol::tcp, at(host_a, 65535)) == Port{65535});
}

TEST_CASE("TCP ports, UDP ports and ICMP identifiers are allocated separately") {
    MappingTable table(config_with({1024, 65535}));
    CHECK(external_port_of(table, Protocol::udp, at(host_a, 5000)) == Port{5000});
    CHECK(external_port_of(table, Protocol::tcp, at(host_b, 5000)) == Port{5000});
    CHECK(external_port_of(table, Protocol::icmp, at(host_b, 5000)) == Port{5000});
}

TEST_CASE("RFC 4787 REQ-3: no two internal endpoints share an external port") {
    const PortRange range{40000, 40015};
    MappingTable table(config_with(range));
    std::set<std::uint16_t> taken;
    // Sixteen hosts all using the same source port, then others outside the range.
    for (std::uint8_t host = 1; host <= 16; ++host) {
        Port port = external_port_of(table, Protocol::udp, at(Ipv4Address::from_octets(192, 168, 1, host), 40007));
        CHECK(range.contains(port));
        CHECK(taken.insert(port.value).second);
    }
    CHECK(taken.size() == range.size());
}

TEST_CASE("a mapping is found under its internal and its external key, and only there") {
    MappingTable table(config_with({40000, 40099}));
    Port external = external_port_of(table, Protocol::tcp, at(host_a, 80));
    Mapping* by_internal = table.find_by_internal(Protocol::tcp, at(host_a, 80), t0);
    Mapping* by_external = table.find_by_external(Protocol::tcp, external, t0);
    REQUIRE(by_internal);
    CHECK(by_internal == by_external);
    CHECK(by_internal->internal == at(host_a, 80));
    CHECK(table.find_by_internal(Protocol::udp, at(host_a, 80), t0) == nullptr);
    CHECK(table.find_by_internal(Protocol::tcp, at(host_b, 80), t0) == nullptr);
    CHECK(table.find_by_external(Protocol::udp, external, t0) == nullptr);
    CHECK(table.find_by_external(Protocol::tcp, Port{std::uint16_t(external.value + 1)}, t0) == nullptr);
}

TEST_CASE("finding an existing mapping creates nothing") {
    MappingTable table(config_with({40000, 40099}));
    InsertResult first = table.find_or_insert(Protocol::udp, at(host_a, 5000), t0);
    InsertResult again = table.find_or_insert(Protocol::udp, at(host_a, 5000), t0 + 1s);
    CHECK(first.created);
    CHECK_FALSE(again.created);
    CHECK(again.mapping == first.mapping);
    CHECK(table.size() == 1);
}

TEST_CASE("ports_exhausted when the range has no free port") {
    MappingTable table(config_with({40000, 40001}));
    external_port_of(table, Protocol::udp, at(host_a, 1));
    external_port_of(table, Protocol::udp, at(host_a, 2));
    InsertResult third = table.find_or_insert(Protocol::udp, at(host_b, 3), t0 + 1s);
    CHECK(third.mapping == nullptr);
    CHECK(third.reason == DropReason::ports_exhausted);
    CHECK(table.size() == 2);
}

TEST_CASE("mapping_table_full at max_mappings") {
    MappingTable table(config_with({40000, 40099}, 3));
    external_port_of(table, Protocol::udp, at(host_a, 1));
    external_port_of(table, Protocol::tcp, at(host_a, 1));
    external_port_of(table, Protocol::icmp, at(host_a, 1));
    InsertResult fourth = table.find_or_insert(Protocol::udp, at(host_b, 1), t0);
    CHECK(fourth.mapping == nullptr);
    CHECK(fourth.reason == DropReason::mapping_table_full);
    CHECK(table.size() == 3);
}

TEST_CASE("a mapping lives until exactly the end of its idle timeout") {
    MappingTable table(config_with({40000, 40099}));
    REQUIRE(table.timeout_of(TimeoutClass::udp) == 300s);
    Port external = external_port_of(table, Protocol::udp, at(host_a, 5000));
    CHECK(table.find_by_external(Protocol::udp, external, t0 + 300s - 1ms) != nullptr);
    CHECK(table.find_by_external(Protocol::udp, external, t0 + 300s) == nullptr);
    CHECK(table.find_by_internal(Protocol::udp, at(host_a, 5000), t0 + 300s) == nullptr);
}

TEST_CASE("touching a mapping restarts its idle timeout, under the class it is given") {
    MappingTable table(config_with({40000, 40099}));
    InsertResult inserted = table.find_or_insert(Protocol::tcp, at(host_a, 5000), t0);
    REQUIRE(inserted.mapping);
    REQUIRE(inserted.mapping->timeout_class == TimeoutClass::tcp_transitory);
    table.touch(*inserted.mapping, TimeoutClass::tcp_established, t0 + 100s);
    Port external = inserted.mapping->external;
    CHECK(table.find_by_external(Protocol::tcp, external, t0 + 100s + 7440s - 1ms) != nullptr);
    CHECK(table.find_by_external(Protocol::tcp, external, t0 + 100s + 7440s) == nullptr);
}

TEST_CASE("expire_idle reclaims exactly the mappings whose time is up, and says how many") {
    MappingTable table(config_with({40000, 40099}));
    external_port_of(table, Protocol::icmp, at(host_a, 1), t0);           // 60 s
    external_port_of(table, Protocol::udp, at(host_a, 2), t0);            // 300 s
    external_port_of(table, Protocol::udp, at(host_b, 3), t0 + 10s);      // 300 s
    external_port_of(table, Protocol::tcp, at(host_b, 4), t0);            // 240 s, transitory
    CHECK(table.expire_idle(t0 + 60s - 1ms) == 0);
    CHECK(table.expire_idle(t0 + 60s) == 1);
    CHECK(table.expire_idle(t0 + 300s) == 2);
    CHECK(table.size() == 1);
    CHECK(table.find_by_internal(Protocol::udp, at(host_b, 3), t0 + 300s) != nullptr);
    CHECK(table.expire_idle(t0 + 310s) == 1);
    CHECK(table.size() == 0);
}

TEST_CASE("the external port of an expired mapping can be handed out again") {
    MappingTable table(config_with({40000, 40000}));
    CHECK(external_port_of(table, Protocol::udp, at(host_a, 5000), t0) == Port{40000});
    REQUIRE(table.find_or_insert(Protocol::udp, at(host_b, 5000), t0 + 300s - 1ms).reason ==
            DropReason::ports_exhausted);
    CHECK(external_port_of(table, Protocol::udp, at(host_b, 5000), t0 + 300s) == Port{40000});
    CHECK(table.find_by_external(Protocol::udp, Port{40000}, t0 + 300s)->internal == at(host_b, 5000));
    CHECK(table.find_by_internal(Protocol::udp, at(host_a, 5000), t0 + 300s) == nullptr);
}

TEST_CASE("a full table makes room by reclaiming expired mappings") {
    MappingTable table(config_with({40000, 40099}, 1));
    external_port_of(table, Protocol::udp, at(host_a, 5000), t0);
    CHECK(table.find_or_insert(Protocol::udp, at(host_b, 5000), t0 + 1s).reason == DropReason::mapping_table_full);
    CHECK(table.find_or_insert(Protocol::udp, at(host_b, 5000), t0 + 300s).mapping != nullptr);
    CHECK(table.size() == 1);
}

TEST_CASE("for_each visits every live mapping once") {
    MappingTable table(config_with({40000, 40099}));
    external_port_of(table, Protocol::udp, at(host_a, 1));
    external_port_of(table, Protocol::udp, at(host_a, 2));
    external_port_of(table, Protocol::tcp, at(host_b, 3));
    table.expire_idle(t0 + 240s);  // the TCP one, still transitory
    std::multiset<std::uint16_t> internal_ports;
    table.for_each([&](const Mapping& m) { internal_ports.insert(m.internal.port.value); });
    CHECK(internal_ports == std::multiset<std::uint16_t>{1, 2});
}

}  // namespace gw::test

// The mapping table on its own: which external port an internal endpoint gets, the
// two keys that find it, the limits, the ports static forwards keep for themselves,
// and the reference count that makes a mapping live exactly as long as its flows.
#include <catch2/catch.hpp>

#include <set>

#include "nat/mapping_table.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

NatConfig config_with(PortRange range, std::uint32_t max_mappings = 262144) {
    NatConfig c;
    c.wan_address = wan_address;
    c.port_range = range;
    c.max_mappings = max_mappings;
    return c;
}

Port external_port_of(MappingTable& table, Protocol protocol, Endpoint internal) {
    AcquireResult acquired = table.acquire(protocol, internal);
    REQUIRE(acquired.id != 0);
    return table.get(acquired.id).external;
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
    // Sixteen hosts all using the same source port.
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
    const Mapping* by_internal = table.find_by_internal(Protocol::tcp, at(host_a, 80));
    const Mapping* by_external = table.find_by_external(Protocol::tcp, external);
    REQUIRE(by_internal);
    CHECK(by_internal == by_external);
    CHECK(by_internal->internal == at(host_a, 80));
    CHECK(table.find_by_internal(Protocol::udp, at(host_a, 80)) == nullptr);
    CHECK(table.find_by_internal(Protocol::tcp, at(host_b, 80)) == nullptr);
    CHECK(table.find_by_external(Protocol::udp, external) == nullptr);
    CHECK(table.find_by_external(Protocol::tcp, Port{std::uint16_t(external.value + 1)}) == nullptr);
}

TEST_CASE("acquiring an existing mapping creates nothing and adds a reference") {
    MappingTable table(config_with({40000, 40099}));
    AcquireResult first = table.acquire(Protocol::udp, at(host_a, 5000));
    AcquireResult again = table.acquire(Protocol::udp, at(host_a, 5000));
    CHECK(first.created);
    CHECK_FALSE(again.created);
    CHECK(again.id == first.id);
    CHECK(table.get(first.id).flow_count == 2);
    CHECK(table.size() == 1);
}

TEST_CASE("a mapping goes when its last reference is released, not before") {
    MappingTable table(config_with({40000, 40099}));
    MappingId id = table.acquire(Protocol::udp, at(host_a, 5000)).id;
    table.acquire(Protocol::udp, at(host_a, 5000));
    Port external = table.get(id).external;

    table.release(id);
    CHECK(table.find_by_external(Protocol::udp, external) != nullptr);
    CHECK(table.size() == 1);
    CHECK(table.released_total() == 0);

    table.release(id);
    CHECK(table.find_by_external(Protocol::udp, external) == nullptr);
    CHECK(table.find_by_internal(Protocol::udp, at(host_a, 5000)) == nullptr);
    CHECK_FALSE(table.is_taken(Protocol::udp, external));
    CHECK(table.size() == 0);
    CHECK(table.released_total() == 1);
}

TEST_CASE("ports_exhausted when the range has no free port") {
    MappingTable table(config_with({40000, 40001}));
    external_port_of(table, Protocol::udp, at(host_a, 1));
    external_port_of(table, Protocol::udp, at(host_a, 2));
    AcquireResult third = table.acquire(Protocol::udp, at(host_b, 3));
    CHECK(third.id == 0);
    CHECK(third.reason == DropReason::ports_exhausted);
    CHECK(table.size() == 2);
}

TEST_CASE("mapping_table_full at max_mappings") {
    MappingTable table(config_with({40000, 40099}, 3));
    external_port_of(table, Protocol::udp, at(host_a, 1));
    external_port_of(table, Protocol::tcp, at(host_a, 1));
    external_port_of(table, Protocol::icmp, at(host_a, 1));
    AcquireResult fourth = table.acquire(Protocol::udp, at(host_b, 1));
    CHECK(fourth.id == 0);
    CHECK(fourth.reason == DropReason::mapping_table_full);
    CHECK(table.size() == 3);
}

TEST_CASE("the external port of a released mapping can be handed out again") {
    MappingTable table(config_with({40000, 40000}));
    MappingId first = table.acquire(Protocol::udp, at(host_a, 5000)).id;
    REQUIRE(table.get(first).external == Port{40000});
    REQUIRE(table.acquire(Protocol::udp, at(host_b, 5000)).reason == DropReason::ports_exhausted);
    table.release(first);
    CHECK(external_port_of(table, Protocol::udp, at(host_b, 5000)) == Port{40000});
    CHECK(table.find_by_external(Protocol::udp, Port{40000})->internal == at(host_b, 5000));
    CHECK(table.find_by_internal(Protocol::udp, at(host_a, 5000)) == nullptr);
}

TEST_CASE("a reserved port is never handed out, even to an internal endpoint on that very port") {
    MappingTable table(config_with({40000, 40001}));
    table.reserve(Protocol::tcp, Port{40000});
    CHECK(table.is_taken(Protocol::tcp, Port{40000}));
    CHECK(table.find_by_external(Protocol::tcp, Port{40000}) == nullptr);
    CHECK(external_port_of(table, Protocol::tcp, at(host_a, 40000)) == Port{40001});
    CHECK(table.acquire(Protocol::tcp, at(host_b, 40000)).reason == DropReason::ports_exhausted);
    SECTION("but only for its protocol") {
        CHECK(external_port_of(table, Protocol::udp, at(host_a, 40000)) == Port{40000});
    }
}

TEST_CASE("for_each visits every live mapping once") {
    MappingTable table(config_with({40000, 40099}));
    external_port_of(table, Protocol::udp, at(host_a, 1));
    external_port_of(table, Protocol::udp, at(host_a, 2));
    MappingId tcp_mapping = table.acquire(Protocol::tcp, at(host_b, 3)).id;
    table.release(tcp_mapping);
    std::multiset<std::uint16_t> internal_ports;
    table.for_each([&](const Mapping& m) { internal_ports.insert(m.internal.port.value); });
    CHECK(internal_ports == std::multiset<std::uint16_t>{1, 2});
}

}  // namespace gw::test

// The mapping table on its own: which external port an internal endpoint gets, the
// two keys that find it, the limits, the ports static forwards keep for themselves,
// and the reference count that makes a mapping live exactly as long as its flows.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>
#include <vector>

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

TEST_CASE("RFC 6056 / 7857 §9: a replacement port is not the next free one, and differs with the key") {
    NatConfig c = config_with({1024, 65535});
    auto replacements = [&](const PortSelectionKey& key) {
        c.port_key = key;
        MappingTable table(c);
        // host_a holds 5000; five other hosts on the same port each need a replacement.
        CHECK(external_port_of(table, Protocol::udp, at(host_a, 5000)) == Port{5000});
        std::vector<std::uint16_t> ports;
        for (std::uint8_t host = 20; host < 25; ++host)
            ports.push_back(external_port_of(table, Protocol::udp, at(Ipv4Address::from_octets(192, 168, 1, host), 5000)).value);
        return ports;
    };
    PortSelectionKey one{}, other{};
    one[0] = 1;
    other[0] = 2;
    std::vector<std::uint16_t> first = replacements(one);
    // Not a run of neighbours: the old allocator gave 1024, 1025, 1026, ... here.
    int neighbours = 0;
    for (std::size_t i = 1; i < first.size(); ++i) neighbours += std::abs(int(first[i]) - int(first[i - 1])) <= 2;
    CHECK(neighbours == 0);
    CHECK(replacements(one) == first);  // the key alone decides: the engine stays deterministic
    CHECK(replacements(other) != first);
}

TEST_CASE("RFC 4787 REQ-4: a replacement port keeps the internal port's parity while one is free") {
    const PortRange range{40000, 40009};
    MappingTable table(config_with(range));
    // 40000..40009 hold the preserved ports of ten hosts; then release the odd ones' neighbours.
    std::vector<MappingId> ids;
    for (std::uint16_t p = 40000; p <= 40009; ++p)
        ids.push_back(table.acquire(Protocol::udp, at(Ipv4Address::from_octets(192, 168, 2, std::uint8_t(p - 39999)), p)).id);
    table.release(ids[3]);  // 40003 (odd) free
    table.release(ids[6]);  // 40006 (even) free
    CHECK(external_port_of(table, Protocol::udp, at(host_a, 40008)) == Port{40006});  // RTP stays even
    CHECK(external_port_of(table, Protocol::udp, at(host_a, 40009)) == Port{40003});  // RTCP odd
    // Only an even port left: an odd internal port takes it rather than nothing.
    table.release(ids[0]);
    CHECK(external_port_of(table, Protocol::udp, at(host_b, 40001)) == Port{40000});
}

TEST_CASE("RFC 4787 REQ-3: with a low port range, a source port below 1024 is mapped inside it") {
    NatConfig c = config_with({1024, 65535});
    c.low_port_range = PortRange{600, 1023};
    MappingTable table(c);
    // Preserved when free inside the low range, as any port is inside the normal range.
    CHECK(external_port_of(table, Protocol::udp, at(host_a, 700)) == Port{700});
    CHECK(external_port_of(table, Protocol::tcp, at(host_a, 1023)) == Port{1023});
    // Taken, or below the low range: a replacement drawn from the low range, never above 1023.
    for (std::uint8_t host = 1; host <= 20; ++host) {
        Port port = external_port_of(table, Protocol::udp, at(Ipv4Address::from_octets(192, 168, 3, host), 700));
        CHECK(port.value >= 600);
        CHECK(port.value <= 1023);
    }
    Port from_below = external_port_of(table, Protocol::tcp, at(host_b, 22));
    CHECK(from_below.value >= 600);
    CHECK(from_below.value <= 1023);
    // Ports from 1024 up, and ICMP identifiers (no service ports), keep the normal range.
    CHECK(external_port_of(table, Protocol::udp, at(host_b, 5000)) == Port{5000});
    Port identifier = external_port_of(table, Protocol::icmp, at(host_b, 700));
    CHECK(identifier.value >= 1024);
}

TEST_CASE("without a low port range, a source port below 1024 gets a port of the normal range") {
    MappingTable table(config_with({1024, 65535}));
    Port port = external_port_of(table, Protocol::udp, at(host_a, 700));
    CHECK(port.value >= 1024);
}

TEST_CASE("a full low port range refuses the mapping (ports_exhausted) rather than spill into the normal range") {
    NatConfig c = config_with({1024, 65535});
    c.low_port_range = PortRange{1000, 1001};
    MappingTable table(c);
    external_port_of(table, Protocol::udp, at(host_a, 1000));
    external_port_of(table, Protocol::udp, at(host_a, 1001));
    AcquireResult refused = table.acquire(Protocol::udp, at(host_b, 1000));
    CHECK(refused.id == 0);
    CHECK(refused.reason == DropReason::ports_exhausted);
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

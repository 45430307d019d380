// Creating and ending flows and mappings must not touch the heap: all their storage is
// taken when the tables are built. Counted by replacing the global operator new for
// this test binary; it only counts, then allocates as the default one does.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "firewall/flow_table.hpp"
#include "firewall/ipv6_flow_table.hpp"
#include "ipv6_packet_builder.hpp"
#include "packet_builder.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}

void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
// The nothrow form too (std::stable_sort's buffer): every block the replaced deletes
// free must come from malloc, or AddressSanitizer rightly reports a mismatch.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace gw::test {

TEST_CASE("creating, finding and ending flows and their mappings allocates nothing") {
    using namespace std::chrono_literals;
    NatConfig config;
    config.wan_address = wan_address;
    config.port_range = {40000, 40999};
    config.max_mappings = 4096;
    MappingTable mappings(config);
    FlowTable flows(config, mappings);

    std::size_t before = allocations.load();
    std::size_t opened = 0, found = 0;
    for (int round = 0; round < 4; ++round) {
        Instant start = t0 + round * 1000s;
        for (std::uint32_t i = 0; i < 4096; ++i) {
            Endpoint internal = at(Ipv4Address(host_a.host_order() + i / 8), std::uint16_t(2000 + i % 8));
            AcquireResult mapping = mappings.acquire(Protocol::udp, internal);
            if (mapping.id == 0) continue;
            Flow flow;
            flow.protocol = Protocol::udp;
            flow.internal = internal;
            flow.remote = at(server, std::uint16_t(53 + round));
            flow.external = mappings.get(mapping.id).external;
            flow.mapping = mapping.id;
            if (flows.insert(flow, start) != 0) ++opened;
            else mappings.release(mapping.id);
            if (flows.find_by_internal(Protocol::udp, internal, flow.remote, start)) ++found;
        }
        flows.expire_idle(start + 300s);
    }
    std::size_t during = allocations.load() - before;
    CHECK(opened == 4 * 1000);  // one mapping per port of the range, then ports_exhausted
    CHECK(found == opened);
    CHECK(flows.size() == 0);
    CHECK(mappings.size() == 0);
    CHECK(during == 0);
}

TEST_CASE("creating, finding, evicting and ending IPv6 flows allocates nothing") {
    using namespace std::chrono_literals;
    FlowLimits limits;
    limits.flows_per_host = 512;
    Ipv6FlowTable flows(4096, NatTimeouts{}, limits);

    std::size_t before = allocations.load();
    std::size_t opened = 0, found = 0;
    for (int round = 0; round < 4; ++round) {
        Instant start = t0 + round * 1000s;
        // 16 hosts of 512 flows each: twice the table, so the second half evicts the first.
        for (std::uint32_t i = 0; i < 8192; ++i) {
            Ipv6Address::Bytes lan = v6::lan_host.bytes();
            lan[15] = std::uint8_t(i / 512);
            Ipv6Flow flow;
            flow.key.protocol = 17;
            flow.key.lan_address = Ipv6Address(lan);
            flow.key.lan_port = std::uint16_t(2000 + i % 512);
            flow.key.remote_address = v6::remote_host;
            flow.key.remote_port = std::uint16_t(53 + round);
            if (flows.insert(flow, start) != 0) ++opened;
            if (Ipv6Flow* f = flows.find(flow.key, start)) {
                flows.touch(*f, TimeoutClass::udp, start);
                ++found;
            }
        }
        flows.expire_idle(start + 300s);
    }
    std::size_t during = allocations.load() - before;
    CHECK(opened == 4 * 8192);
    CHECK(found == opened);
    CHECK(flows.evicted_total() == 4 * 4096);
    CHECK(flows.size() == 0);
    CHECK(during == 0);
}

}  // namespace gw::test

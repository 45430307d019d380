// Measures how much memory the packet engine needs per tracked flow: fills the flow
// table through the real outbound path (UDP from many LAN endpoints) and divides the
// heap growth (mallinfo2) by the number of flows. Then, with the table full, times
// packets of established flows (picked at random, prebuilt in memory so that no I/O is
// timed) through the real outbound and inbound paths, one by one and in batches
// (PacketEngine::judge_batch). Prints figures; asserts nothing.
//   flow_memory [FLOWS] [LOOKUP_ROUNDS] [both|one-by-one|batched]   (defaults 1000000, 20, both)
// (one way only: for profiling that path alone with perf)
#include <malloc.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "firewall/packet_engine.hpp"
#include "nat/checksum.hpp"

namespace {

using namespace gw;

std::vector<std::uint8_t> udp_packet(Ipv4Address from, std::uint16_t from_port, Ipv4Address to, std::uint16_t to_port) {
    std::vector<std::uint8_t> p(28, 0);
    auto* ip = reinterpret_cast<wire::Ipv4Header*>(p.data());
    ip->version_ihl = 0x45;
    ip->total_length_field.set(28);
    ip->ttl = 64;
    ip->protocol = 17;
    ip->set_source(from);
    ip->set_destination(to);
    ip->checksum.set(internet_checksum({p.data(), 20}));
    auto* udp = reinterpret_cast<wire::UdpHeader*>(p.data() + 20);
    udp->source_port.set(from_port);
    udp->destination_port.set(to_port);
    udp->length.set(8);
    return p;
}

// The CPU time this thread has run: on a shared machine, wall time also counts the
// time other jobs held the core.
double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

std::size_t heap_in_use() { return mallinfo2().uordblks + mallinfo2().hblkhd; }

// Resident memory (VmRSS), in bytes: what the tables really cost once touched. The heap
// counter above also counts what posix_memalign skips to reach a huge-page boundary
// (up to 2 MiB per big table), address space that is never touched.
std::size_t resident_bytes() {
    std::FILE* status = std::fopen("/proc/self/status", "r");
    if (!status) return 0;
    char line[256];
    std::size_t kib = 0;
    while (std::fgets(line, sizeof line, status))
        if (std::sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
    std::fclose(status);
    return kib * 1024;
}

// The endpoints of flow `i` as the fill loop creates them: each LAN endpoint (host,
// port) talks to 50 servers, as a torrent or game client does (one WAN address has at
// most ~64k ports per protocol, so flows share mappings).
Endpoint lan_endpoint_of(std::uint32_t i) {
    std::uint32_t endpoint = i / 50;
    return {Ipv4Address((10u << 24) | (1 + endpoint / 50)), Port{std::uint16_t(20000 + endpoint % 50)}};
}
Ipv4Address server_of(std::uint32_t i) { return Ipv4Address::from_octets(198, 51, 100, std::uint8_t(1 + i % 50)); }

// Packets per second of `judge` over copies of `pristine`, handed over a batch at a
// time as the queue hands them over (translation rewrites them in place, so each batch
// starts from fresh copies, hot in the cache as received packets are; only the
// translation is timed, in CPU time). `judge(packets, results)` is one packet after the other or
// PacketEngine::judge_batch.
template <class Judge>
double packets_per_second(const std::vector<std::vector<std::uint8_t>>& pristine, EnginePath path, int rounds,
                          Judge judge, std::size_t& refused) {
    constexpr std::size_t batch = 256, slot = 64;
    std::vector<std::uint8_t> work(batch * slot);
    std::vector<EnginePacket> packets(batch);
    std::vector<EngineResult> results(batch);
    double timed = 0;
    refused = 0;
    for (int round = 0; round < rounds; ++round) {
        for (std::size_t first = 0; first + batch <= pristine.size(); first += batch) {
            for (std::size_t i = 0; i < batch; ++i) {
                std::memcpy(&work[i * slot], pristine[first + i].data(), pristine[first + i].size());
                packets[i] = {std::span<std::uint8_t>(&work[i * slot], pristine[first + i].size()), path};
            }
            double start = thread_cpu_seconds();
            judge(std::span<const EnginePacket>(packets), std::span<EngineResult>(results));
            timed += thread_cpu_seconds() - start;
            for (const EngineResult& r : results) refused += r.verdict != Verdict::forward;
        }
    }
    return double(pristine.size() / batch * batch) * rounds / timed;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t flows = argc > 1 ? std::uint32_t(std::strtoul(argv[1], nullptr, 10)) : 1000000;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 20;
    const std::string ways = argc > 3 ? argv[3] : "both";
    if (ways != "both" && ways != "one-by-one" && ways != "batched") {
        std::fprintf(stderr, "flow_memory: the third argument is both, one-by-one or batched, not %s\n", ways.c_str());
        return 2;
    }
    EngineSetup setup;
    setup.nat.wan_address = Ipv4Address::from_octets(203, 0, 113, 1);
    setup.nat.max_mappings = flows + 16;
    setup.firewall.lan_networks.push_back(*Ipv4Network::parse("10.0.0.0/8"));
    setup.lan_interface = "lan0";
    setup.wan_interface = "wan0";

    std::size_t before = heap_in_use(), resident_before = resident_bytes();
    PacketEngine engine(setup);
    std::size_t empty = heap_in_use();
    auto start = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < flows; ++i) {
        Endpoint lan = lan_endpoint_of(i);
        auto packet = udp_packet(lan.address, lan.port.value, server_of(i), 53);
        auto result = engine.translate_outbound(packet, L4Checksum::complete, Instant(1));
        if (result.verdict != Verdict::forward) {
            std::fprintf(stderr, "flow %u refused: %s\n", i, std::string(drop_reason_name(result.reason)).c_str());
            return 1;
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::size_t full = heap_in_use(), resident_full = resident_bytes();
    std::printf("flows tracked:            %zu (mappings %zu)\n", engine.flows().size(), engine.mappings().size());
    // The flow slots are allocated when the engine is built (sized by nat.max_mappings),
    // so the honest figure is all engine memory over the flows it holds.
    std::printf("engine memory, empty:     %.1f MiB (storage for %u flows)\n", double(empty - before) / (1 << 20),
                setup.nat.max_mappings);
    std::printf("engine memory, full:      %.1f MiB\n", double(full - before) / (1 << 20));
    std::printf("bytes per flow:           %.1f resident (flow record, two tuple indexes, filter index, mappings)\n",
                double(resident_full - resident_before) / double(flows));
    std::printf("  heap, address space:    %.1f (with the untouched alignment to huge pages)\n",
                double(full - before) / double(flows));
    std::printf("  flow table:             %.1f (sizeof(Flow) %zu)\n",
                double(engine.flows().memory_bytes()) / flows, sizeof(Flow));
    std::printf("  mapping table:          %.1f\n", double(engine.mappings().memory_bytes()) / flows);
    std::printf("new flows per second:     %.0f (first packets: new flow, and a new mapping every 50)\n",
                flows / seconds);

    // Established flows, picked at random so that the caches see what a busy router's do.
    std::mt19937 random(1);
    std::vector<std::vector<std::uint8_t>> outbound, inbound;
    for (int n = 0; n < 65536; ++n) {
        std::uint32_t i = random() % flows;
        Endpoint lan = lan_endpoint_of(i);
        outbound.push_back(udp_packet(lan.address, lan.port.value, server_of(i), 53));
        Port external = engine.mappings().find_by_internal(Protocol::udp, lan)->external;
        inbound.push_back(udp_packet(server_of(i), 53, setup.nat.wan_address, external.value));
    }
    auto one_by_one = [&](std::span<const EnginePacket> packets, std::span<EngineResult> results) {
        for (std::size_t i = 0; i < packets.size(); ++i) results[i] = engine.judge(packets[i], Instant(2));
    };
    auto batched = [&](std::span<const EnginePacket> packets, std::span<EngineResult> results) {
        engine.judge_batch(packets, Instant(2), results);
    };
    std::size_t refused = 0;
    for (EnginePath path : {EnginePath::outbound, EnginePath::inbound}) {
        const auto& packets = path == EnginePath::outbound ? outbound : inbound;
        const char* name = path == EnginePath::outbound ? "outbound" : "inbound";
        if (ways != "batched") {
            double single = packets_per_second(packets, path, rounds, one_by_one, refused);
            std::printf("%-9s established:   %.2f M packets/s one by one (%zu refused)\n", name, single / 1e6, refused);
        }
        if (ways != "one-by-one") {
            double batch = packets_per_second(packets, path, rounds, batched, refused);
            std::printf("%-9s established:   %.2f M packets/s judge_batch (%zu refused)\n", name, batch / 1e6, refused);
        }
    }
    return 0;
}

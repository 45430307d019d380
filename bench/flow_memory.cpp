// Measures how much memory the packet engine needs per tracked flow: fills the flow
// table through the real outbound path (UDP from many LAN endpoints) and divides the
// heap growth (mallinfo2) by the number of flows. Prints figures; asserts nothing.
//   flow_memory [FLOWS]     (default 1000000)
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

std::size_t heap_in_use() { return mallinfo2().uordblks + mallinfo2().hblkhd; }

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t flows = argc > 1 ? std::uint32_t(std::strtoul(argv[1], nullptr, 10)) : 1000000;
    EngineSetup setup;
    setup.nat.wan_address = Ipv4Address::from_octets(203, 0, 113, 1);
    setup.nat.max_mappings = flows + 16;
    setup.firewall.lan_networks.push_back(*Ipv4Network::parse("10.0.0.0/8"));
    setup.lan_interface = "lan0";
    setup.wan_interface = "wan0";

    std::size_t before = heap_in_use();
    PacketEngine engine(setup);
    std::size_t empty = heap_in_use();
    auto start = std::chrono::steady_clock::now();
    // One WAN address has at most ~64k ports per protocol, so flows share mappings:
    // each LAN endpoint (host, port) talks to 50 servers, as a torrent or game client does.
    for (std::uint32_t i = 0; i < flows; ++i) {
        std::uint32_t endpoint = i / 50;
        Ipv4Address host((10u << 24) | (1 + endpoint / 50));
        Ipv4Address server = Ipv4Address::from_octets(198, 51, 100, std::uint8_t(1 + i % 50));
        auto packet = udp_packet(host, std::uint16_t(20000 + endpoint % 50), server, 53);
        auto result = engine.translate_outbound(packet, L4Checksum::complete, Instant(1));
        if (result.verdict != Verdict::forward) {
            std::fprintf(stderr, "flow %u refused: %s\n", i, std::string(drop_reason_name(result.reason)).c_str());
            return 1;
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::size_t full = heap_in_use();
    std::printf("flows tracked:            %zu (mappings %zu)\n", engine.flows().size(), engine.mappings().size());
    // The flow slots are reserved when the engine is built (sized by nat.max_mappings),
    // so the honest figure is all engine memory over the flows it holds.
    std::printf("engine memory, empty:     %.1f MiB (slots reserved for %u flows)\n", double(empty - before) / (1 << 20),
                setup.nat.max_mappings);
    std::printf("engine memory, full:      %.1f MiB\n", double(full - before) / (1 << 20));
    std::printf("bytes per flow:           %.0f (flow record, two tuple indexes, filter index, mappings)\n",
                double(full - before) / double(flows));
    std::printf("sizeof(Flow):             %zu bytes\n", sizeof(Flow));
    std::printf("first packets per second: %.0f (new flow + mapping each)\n", flows / seconds);
    return 0;
}

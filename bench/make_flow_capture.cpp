// Writes a capture for the engine benchmark (`gatewayd --replay`): N distinct UDP flows from the
// LAN to the Internet, K packets each, all alive at once. Raw IPv4 link type (DLT_RAW), which
// pcap_replay.cpp reads without a link header.
//
//   make_flow_capture --flows N --packets-per-flow K --output FILE
//                     [--remotes-per-endpoint R=32] [--seconds S=10] [--payload B=18]
//
// Packets go round by round: round 1 is the first packet of every flow (each one creates a flow,
// and a mapping for each new LAN endpoint), rounds 2..K are packets of established flows.
// Timestamps spread the packets evenly over S seconds, far below UDP's 120 s minimum timeout, so
// every flow is still alive when the last packet is judged.
//
// Addresses: LAN endpoints are 10.h.h.h:(20000 + p) (lan.networks must hold 10.0.0.0/8); each talks to
// R remote endpoints in 198.18.0.0/15 (RFC 2544's benchmarking range). One WAN address has at most
// ~64k ports per protocol and endpoint-independent mapping gives every LAN endpoint one port, so
// N / R LAN endpoints must stay under that: raise R for more flows.
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nat/checksum.hpp"
#include "nat/wire_headers.hpp"

namespace {

using namespace gw;

constexpr std::uint32_t most_lan_endpoints = 60000;  // under 64512 ports of 1024-65535, with room to spare
constexpr std::uint32_t ports_per_lan_host = 16;
constexpr std::uint32_t benchmark_network = (198u << 24) | (18u << 16);  // 198.18.0.0/15
constexpr std::uint32_t benchmark_addresses = 1u << 17;

struct Options {
    std::uint32_t flows = 0, packets_per_flow = 0, remotes_per_endpoint = 32, payload = 18;
    double seconds = 10;
    std::string output;
};

const char* usage_text =
    "usage: make_flow_capture --flows N --packets-per-flow K --output FILE\n"
    "                         [--remotes-per-endpoint R=32] [--seconds S=10] [--payload BYTES=18]\n";

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "make_flow_capture: %s\n%s", message.c_str(), usage_text);
    std::exit(2);
}

std::uint32_t whole_number(const std::string& key, const char* text, std::uint32_t low, std::uint32_t high) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(text, &end, 10);
    if (*text == '\0' || *end != '\0' || n < low || n > high)
        usage_error(key + " must be from " + std::to_string(low) + " to " + std::to_string(high) + ", not '" + text + "'");
    return std::uint32_t(n);
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; i += 2) {
        const std::string key = argv[i];
        if (key == "--help" || key == "-h") {
            std::fputs(usage_text, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) usage_error(key + " needs a value");
        const char* value = argv[i + 1];
        if (key == "--flows") o.flows = whole_number(key, value, 1, 16000000);
        else if (key == "--packets-per-flow") o.packets_per_flow = whole_number(key, value, 1, 1000);
        else if (key == "--remotes-per-endpoint") o.remotes_per_endpoint = whole_number(key, value, 1, 65536);
        else if (key == "--payload") o.payload = whole_number(key, value, 0, 1472);
        else if (key == "--seconds") o.seconds = whole_number(key, value, 1, 100);
        else if (key == "--output") o.output = value;
        else usage_error("unknown option '" + key + "'");
    }
    if (o.flows == 0 || o.packets_per_flow == 0 || o.output.empty())
        usage_error("--flows, --packets-per-flow and --output are required");
    const std::uint32_t endpoints = (o.flows + o.remotes_per_endpoint - 1) / o.remotes_per_endpoint;
    if (endpoints > most_lan_endpoints)
        usage_error(std::to_string(o.flows) + " flows over " + std::to_string(o.remotes_per_endpoint) +
                    " remotes each need " + std::to_string(endpoints) + " LAN endpoints, more than one WAN address has ports for (" +
                    std::to_string(most_lan_endpoints) + "): raise --remotes-per-endpoint");
    return o;
}

// Flow f: LAN endpoint f / R talks to its (f % R)-th remote.
struct FlowEndpoints {
    Ipv4Address lan, remote;
    std::uint16_t lan_port, remote_port;
};

FlowEndpoints flow_endpoints(std::uint32_t flow, std::uint32_t remotes_per_endpoint) {
    const std::uint32_t endpoint = flow / remotes_per_endpoint;
    const std::uint32_t host = 1 + endpoint / ports_per_lan_host;  // 10.0.0.1 upwards
    return {Ipv4Address((10u << 24) | host), Ipv4Address(benchmark_network | (flow % benchmark_addresses)),
            std::uint16_t(20000 + endpoint % ports_per_lan_host), std::uint16_t(1024 + flow % remotes_per_endpoint)};
}

// A finished IPv4/UDP datagram: both checksums complete, as a capture off the wire holds them.
void build_datagram(std::vector<std::uint8_t>& p, const FlowEndpoints& f, std::uint32_t payload, std::uint32_t round) {
    const std::size_t udp_length = sizeof(wire::UdpHeader) + payload;
    p.assign(sizeof(wire::Ipv4Header) + udp_length, 0);
    auto* ip = reinterpret_cast<wire::Ipv4Header*>(p.data());
    ip->version_ihl = 0x45;
    ip->total_length_field.set(std::uint16_t(p.size()));
    ip->identification_field.set(std::uint16_t(round));
    ip->ttl = 64;
    ip->protocol = 17;
    ip->set_source(f.lan);
    ip->set_destination(f.remote);
    ip->checksum.set(internet_checksum({p.data(), sizeof(wire::Ipv4Header)}));
    auto* udp = reinterpret_cast<wire::UdpHeader*>(p.data() + sizeof(wire::Ipv4Header));
    udp->source_port.set(f.lan_port);
    udp->destination_port.set(f.remote_port);
    udp->length.set(std::uint16_t(udp_length));
    std::span<const std::uint8_t> segment(p.data() + sizeof(wire::Ipv4Header), udp_length);
    std::uint16_t sum = std::uint16_t(
        ~ChecksumDelta::fold(ones_complement_sum(segment, pseudo_header_sum(f.lan, f.remote, Protocol::udp, std::uint16_t(udp_length)))));
    udp->checksum.set(sum == 0 ? 0xffff : sum);  // RFC 768: a computed 0 is sent as all ones
}

struct PcapCloser {
    void operator()(pcap_t* p) const { pcap_close(p); }
    void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    std::unique_ptr<pcap_t, PcapCloser> dead(pcap_open_dead(DLT_RAW, 65535));
    std::unique_ptr<pcap_dumper_t, PcapCloser> out(dead ? pcap_dump_open(dead.get(), o.output.c_str()) : nullptr);
    if (!out) {
        std::fprintf(stderr, "make_flow_capture: cannot write %s: %s\n", o.output.c_str(),
                     dead ? pcap_geterr(dead.get()) : "pcap_open_dead failed");
        return 1;
    }
    const std::uint64_t packets = std::uint64_t(o.flows) * o.packets_per_flow;
    const double step_us = o.seconds * 1e6 / double(packets);
    std::vector<std::uint8_t> datagram;
    std::uint64_t written = 0;
    for (std::uint32_t round = 0; round < o.packets_per_flow; ++round) {
        for (std::uint32_t flow = 0; flow < o.flows; ++flow, ++written) {
            build_datagram(datagram, flow_endpoints(flow, o.remotes_per_endpoint), o.payload, round);
            const auto at_us = std::uint64_t(double(written) * step_us);
            pcap_pkthdr header{};
            header.ts.tv_sec = time_t(1700000000 + at_us / 1000000);
            header.ts.tv_usec = suseconds_t(at_us % 1000000);
            header.caplen = header.len = std::uint32_t(datagram.size());
            pcap_dump(reinterpret_cast<u_char*>(out.get()), &header, datagram.data());
        }
    }
    if (pcap_dump_flush(out.get()) != 0) {
        std::fprintf(stderr, "make_flow_capture: writing %s failed\n", o.output.c_str());
        return 1;
    }
    const std::uint32_t endpoints = (o.flows + o.remotes_per_endpoint - 1) / o.remotes_per_endpoint;
    std::printf("{\"flows\": %u, \"packets_per_flow\": %u, \"packets\": %llu, \"lan_endpoints\": %u, "
                "\"lan_network\": \"10.0.0.0/8\", \"seconds\": %.0f}\n",
                o.flows, o.packets_per_flow, (unsigned long long)packets, endpoints, o.seconds);
    return 0;
}

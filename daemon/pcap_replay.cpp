#include "pcap_replay.hpp"

#include <pcap/pcap.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <vector>

#include "captured_checksum.hpp"
#include "firewall/ipv6_packet_view.hpp"
#include "nat/wire_headers.hpp"

namespace gw {
namespace {

// Like the daemon's loop (gateway_daemon.cpp): idle flows and mappings end once a second.
constexpr Instant expiry_interval = std::chrono::seconds(1);
constexpr std::uint16_t ethertype_ipv4 = 0x0800, ethertype_ipv6 = 0x86dd;

// Where the IP packet starts in a record of a link type, and where its EtherType
// (or SLL protocol) field is; a raw link type has neither header nor field.
struct LinkLayer {
    std::size_t header_length = 0;
    std::optional<std::size_t> ethertype_offset;
};

std::optional<LinkLayer> link_layer_of(int dlt) {
    switch (dlt) {
        case DLT_RAW:
        case DLT_IPV4: return LinkLayer{0, std::nullopt};
        case DLT_EN10MB: return LinkLayer{14, 12};
        case DLT_LINUX_SLL: return LinkLayer{16, 14};   // protocol type at 14
        case DLT_LINUX_SLL2: return LinkLayer{20, 0};   // protocol type first
        default: return std::nullopt;
    }
}

struct PcapCloser {
    void operator()(pcap_t* p) const { pcap_close(p); }
    void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};

// One record of the capture, its bytes in CaptureInMemory::bytes.
struct CapturedPacket {
    pcap_pkthdr header;
    std::size_t offset;
};

struct CaptureInMemory {
    int dlt = 0;
    int snaplen = 0;
    std::vector<std::uint8_t> bytes;
    std::vector<CapturedPacket> packets;
};

// What happened to one packet: filled by the engine loop, printed afterwards.
struct PacketFate {
    ReplayDirection direction = ReplayDirection::skipped;
    EngineResult result;
    Ipv4Address source, destination;  // as it arrived
    std::uint16_t source_port = 0, destination_port = 0;
    std::uint8_t protocol = 0;
    // IPv6, whose addresses are read back from the capture when the verdicts are written:
    // the engine never rewrites an IPv6 packet, and a million fates stay small.
    bool ipv6 = false;
    CapturedChecksum checksum = CapturedChecksum::complete;  // as captured
    L4Checksum given_as = L4Checksum::complete;              // as the engine was given it
};

std::optional<CaptureInMemory> read_capture(const std::string& path, std::string& error) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    std::unique_ptr<pcap_t, PcapCloser> in(pcap_open_offline(path.c_str(), errbuf));
    if (!in) {
        error = "cannot open capture " + path + ": " + errbuf;
        return std::nullopt;
    }
    CaptureInMemory capture;
    capture.dlt = pcap_datalink(in.get());
    capture.snaplen = pcap_snapshot(in.get());
    if (!link_layer_of(capture.dlt)) {
        const char* name = pcap_datalink_val_to_name(capture.dlt);
        error = path + ": unsupported link type " + std::to_string(capture.dlt) + " (" + (name ? name : "unknown") +
                "); supported: RAW/IPV4, EN10MB, LINUX_SLL, LINUX_SLL2";
        return std::nullopt;
    }
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    int status;
    while ((status = pcap_next_ex(in.get(), &header, &data)) == 1) {
        capture.packets.push_back({*header, capture.bytes.size()});
        capture.bytes.insert(capture.bytes.end(), data, data + header->caplen);
    }
    if (status == PCAP_ERROR) {
        error = path + ": " + pcap_geterr(in.get());
        return std::nullopt;
    }
    return capture;
}

Instant since(const timeval& start, const timeval& t) {
    return Instant((std::int64_t(t.tv_sec) - start.tv_sec) * 1000 + (std::int64_t(t.tv_usec) - start.tv_usec) / 1000);
}

// Routing's view, from addresses alone (see the header).
ReplayDirection direction_of(const EngineSetup& setup, Ipv4Address source, Ipv4Address destination) {
    auto in_lan = [&](Ipv4Address a) {
        for (const auto& n : setup.firewall.lan_networks)
            if (n.contains(a)) return true;
        return false;
    };
    const Ipv4Address wan = setup.nat.wan_address;
    if (in_lan(source)) {
        if (destination == wan) return ReplayDirection::hairpin;
        return in_lan(destination) ? ReplayDirection::not_through_gateway : ReplayDirection::outbound;
    }
    if (destination == wan && source != wan) return ReplayDirection::inbound;
    return ReplayDirection::not_through_gateway;
}

// The same for IPv6, which is routed, never translated: from the LAN's prefixes to
// outside, or from outside to them. Offline the gateway's own IPv6 addresses are not
// known, so what is addressed to the gateway is not replayed.
ReplayDirection ipv6_direction_of(const EngineSetup& setup, const Ipv6Address& source, const Ipv6Address& destination) {
    auto in_lan = [&](const Ipv6Address& a) {
        for (const auto& n : setup.firewall.ipv6.lan_networks)
            if (n.contains(a)) return true;
        return false;
    };
    if (in_lan(source)) return in_lan(destination) ? ReplayDirection::not_through_gateway : ReplayDirection::outbound;
    return in_lan(destination) ? ReplayDirection::inbound : ReplayDirection::not_through_gateway;
}

Ipv6Address ipv6_address_at(const std::uint8_t* bytes) {
    Ipv6Address::Bytes a;
    std::memcpy(a.data(), bytes, a.size());
    return Ipv6Address(a);
}

bool given_to_engine(ReplayDirection d) {
    return d == ReplayDirection::outbound || d == ReplayDirection::inbound || d == ReplayDirection::hairpin;
}

EnginePath engine_path_of(ReplayDirection d, bool ipv6) {
    if (ipv6) return d == ReplayDirection::inbound ? EnginePath::ipv6_inbound : EnginePath::ipv6_outbound;
    switch (d) {
        case ReplayDirection::inbound: return EnginePath::inbound;
        case ReplayDirection::hairpin: return EnginePath::hairpin;
        default: return EnginePath::outbound;
    }
}

// What the engine is given of an IPv4 packet, and where it goes; false: not given to it.
bool ipv4_fate_of(const EngineSetup& setup, std::span<const std::uint8_t> packet, PacketFate& fate) {
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(packet.data());
    if (ip->version() != 4) return false;
    fate.source = ip->source();
    fate.destination = ip->destination();
    fate.protocol = ip->protocol;
    const std::size_t ihl = ip->header_length();
    if ((ip->protocol == 6 || ip->protocol == 17) && ip->fragment_offset_units() == 0 && packet.size() >= ihl + 4) {
        fate.source_port = std::uint16_t((packet[ihl] << 8) | packet[ihl + 1]);
        fate.destination_port = std::uint16_t((packet[ihl + 2] << 8) | packet[ihl + 3]);
    }
    fate.direction = direction_of(setup, fate.source, fate.destination);
    return given_to_engine(fate.direction);
}

bool ipv6_fate_of(const EngineSetup& setup, std::span<const std::uint8_t> packet, PacketFate& fate) {
    if (packet.size() < Ipv6PacketView::fixed_header_length) return false;
    fate.ipv6 = true;
    fate.direction = ipv6_direction_of(setup, ipv6_address_at(&packet[8]), ipv6_address_at(&packet[24]));
    return given_to_engine(fate.direction);
}

// The IP packet of a record; empty when the record is cut short or not IP.
std::span<std::uint8_t> ip_packet_in(CaptureInMemory& capture, const CapturedPacket& record, LinkLayer link) {
    const std::size_t caplen = record.header.caplen;
    std::uint8_t* frame = capture.bytes.data() + record.offset;
    if (caplen < record.header.len || caplen < link.header_length + sizeof(wire::Ipv4Header)) return {};
    const int ethertype =
        link.ethertype_offset ? (frame[*link.ethertype_offset] << 8) | frame[*link.ethertype_offset + 1] : 0;
    if (link.ethertype_offset && ethertype != ethertype_ipv4 && ethertype != ethertype_ipv6) return {};
    return {frame + link.header_length, caplen - link.header_length};
}

// Before the engine loop (which stays a benchmark of the engine alone): each packet's
// TCP/UDP checksum judged, and what the engine will be told of it.
void judge_checksums(CaptureInMemory& capture, LinkLayer link, ChecksumTrust trust, std::vector<PacketFate>& fates) {
    for (std::size_t i = 0; i < capture.packets.size(); ++i) {
        std::span<std::uint8_t> packet = ip_packet_in(capture, capture.packets[i], link);
        if (packet.empty()) continue;
        PacketFate& fate = fates[i];
        fate.checksum = judge_captured_checksum(packet);
        if (fate.checksum == CapturedChecksum::partial) fate.given_as = L4Checksum::pseudo_header_only;
        // Trusted: the field is made the partial sum it would have been, to be finished
        // after the engine's rewrite like any other.
        if (fate.checksum == CapturedChecksum::failed && trust == ChecksumTrust::trust_all && make_checksum_partial(packet))
            fate.given_as = L4Checksum::pseudo_header_only;
    }
}

// The engine loop: nothing here touches a file. `fates[i]` receives packet i's fate.
// Consecutive packets with the same timestamp (in the engine's milliseconds) are judged
// as one batch (PacketEngine::judge_batch: the same results, their flow lookups' cache
// misses overlapped), up to replay_batch of them.
void run_engine(PacketEngine& engine, const EngineSetup& setup, CaptureInMemory& capture, LinkLayer link,
                std::vector<PacketFate>& fates) {
    constexpr std::size_t replay_batch = 32;
    std::vector<EnginePacket> batch;
    std::vector<std::size_t> batch_fates;
    std::vector<EngineResult> results(replay_batch);
    Instant batch_now{0};
    auto judge_batch = [&] {
        engine.judge_batch(batch, batch_now, results);
        for (std::size_t k = 0; k < batch.size(); ++k) fates[batch_fates[k]].result = results[k];
        batch.clear();
        batch_fates.clear();
    };
    const timeval start = capture.packets.empty() ? timeval{} : capture.packets.front().header.ts;
    Instant next_expiry = expiry_interval;
    for (std::size_t i = 0; i < capture.packets.size(); ++i) {
        const CapturedPacket& record = capture.packets[i];
        PacketFate& fate = fates[i];
        const Instant now = since(start, record.header.ts);
        if (!batch.empty() && (now != batch_now || batch.size() == replay_batch || now >= next_expiry)) judge_batch();
        if (now >= next_expiry) {
            engine.expire_idle(now);
            next_expiry = now + expiry_interval;
        }
        std::span<std::uint8_t> packet = ip_packet_in(capture, record, link);
        if (packet.empty()) continue;
        const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(packet.data());
        if (ip->version() == 6) {
            if (!ipv6_fate_of(setup, packet, fate)) continue;
        } else if (!ipv4_fate_of(setup, packet, fate)) {
            continue;
        }
        batch.push_back({packet, engine_path_of(fate.direction, fate.ipv6), fate.given_as});
        batch_fates.push_back(i);
        batch_now = now;
    }
    if (!batch.empty()) judge_batch();
}

bool leaves_engine(const PacketFate& fate) {
    return given_to_engine(fate.direction) &&
           (fate.result.verdict == Verdict::forward || fate.result.verdict == Verdict::deliver_locally);
}

// After the engine loop: what leaves it with a partial checksum leaves finished, as
// the live daemon sends it (packet_decider.cpp; the kernel finishes IPv6's there).
void finish_checksums(CaptureInMemory& capture, LinkLayer link, const std::vector<PacketFate>& fates) {
    for (std::size_t i = 0; i < fates.size(); ++i)
        if (leaves_engine(fates[i]) && fates[i].given_as == L4Checksum::pseudo_header_only)
            finish_captured_checksum(ip_packet_in(capture, capture.packets[i], link));
}

std::string endpoint_text(Ipv4Address address, std::uint16_t port, std::uint8_t protocol) {
    std::string text = address.to_string();
    if (protocol == 6 || protocol == 17) text += ":" + std::to_string(port);
    return text;
}

// "[2001:db8::1]:53->[2001:db8:1::10]:5000", read from the packet as it arrived.
std::string ipv6_addresses_text(std::span<const std::uint8_t> packet) {
    Ipv6Parse parsed = parse_quoted_ipv6(packet);
    if (!parsed.view) return ipv6_address_at(&packet[8]).to_string() + "->" + ipv6_address_at(&packet[24]).to_string();
    const Ipv6PacketView& v = *parsed.view;
    const bool ports = v.has_ports && v.protocol != ipv6_protocol::icmpv6;
    auto end = [&](const Ipv6Address& a, std::uint16_t port) {
        return ports ? "[" + a.to_string() + "]:" + std::to_string(port) : a.to_string();
    };
    return end(v.source, v.source_port) + "->" + end(v.destination, v.destination_port);
}

// Packet i's IP bytes (the link-layer header skipped).
std::span<const std::uint8_t> ip_packet_of(const CaptureInMemory& capture, std::size_t i) {
    const CapturedPacket& record = capture.packets[i];
    const std::size_t header = link_layer_of(capture.dlt)->header_length;
    return {capture.bytes.data() + record.offset + header, record.header.caplen - header};
}

bool write_verdicts(const std::string& path, const CaptureInMemory& capture, const std::vector<PacketFate>& fates,
                    std::string& error) {
    std::ofstream out(path);
    if (!out) {
        error = "cannot write verdicts to " + path;
        return false;
    }
    const timeval start = capture.packets.empty() ? timeval{} : capture.packets.front().header.ts;
    char time[32];
    for (std::size_t i = 0; i < fates.size(); ++i) {
        const PacketFate& f = fates[i];
        const timeval& ts = capture.packets[i].header.ts;
        long long usec = (std::int64_t(ts.tv_sec) - start.tv_sec) * 1000000 + (ts.tv_usec - start.tv_usec);
        std::snprintf(time, sizeof time, "%lld.%06lld", usec / 1000000, usec % 1000000);
        const bool judged = given_to_engine(f.direction);
        out << (i + 1) << ' ' << time << ' ' << replay_direction_name(f.direction) << ' '
            << (judged ? verdict_name(f.result.verdict) : std::string_view("-")) << ' '
            << (judged && f.result.reason != DropReason::none ? drop_reason_name(f.result.reason) : std::string_view("-"))
            << ' ';
        if (f.direction == ReplayDirection::skipped) out << "-\n";
        else if (f.ipv6) out << ipv6_addresses_text(ip_packet_of(capture, i)) << '\n';
        else out << endpoint_text(f.source, f.source_port, f.protocol) << "->"
                 << endpoint_text(f.destination, f.destination_port, f.protocol) << '\n';
    }
    out.flush();
    if (!out) error = "cannot write verdicts to " + path;
    return bool(out);
}

bool write_capture(const std::string& path, const CaptureInMemory& capture, const std::vector<PacketFate>& fates,
                   std::uint64_t& written, std::string& error) {
    std::unique_ptr<pcap_t, PcapCloser> dead(pcap_open_dead(capture.dlt, capture.snaplen > 0 ? capture.snaplen : 262144));
    std::unique_ptr<pcap_dumper_t, PcapCloser> out(dead ? pcap_dump_open(dead.get(), path.c_str()) : nullptr);
    if (!out) {
        error = "cannot write capture " + path + ": " + (dead ? pcap_geterr(dead.get()) : "pcap_open_dead failed");
        return false;
    }
    for (std::size_t i = 0; i < fates.size(); ++i) {
        if (!leaves_engine(fates[i])) continue;
        const CapturedPacket& record = capture.packets[i];
        pcap_dump(reinterpret_cast<u_char*>(out.get()), &record.header, capture.bytes.data() + record.offset);
        ++written;
    }
    if (pcap_dump_flush(out.get()) != 0) {
        error = "cannot write capture " + path;
        return false;
    }
    return true;
}

}  // namespace

std::string_view replay_direction_name(ReplayDirection direction) {
    switch (direction) {
        case ReplayDirection::outbound: return "outbound";
        case ReplayDirection::inbound: return "inbound";
        case ReplayDirection::hairpin: return "hairpin";
        case ReplayDirection::not_through_gateway: return "not_through_gateway";
        case ReplayDirection::skipped: return "skipped";
    }
    return "skipped";
}

std::string_view verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::forward: return "forward";
        case Verdict::deliver_locally: return "deliver_locally";
        case Verdict::drop: return "drop";
        case Verdict::reject: return "reject";
    }
    return "drop";
}

namespace {

double packets_per_second(const ReplaySummary& s, std::chrono::nanoseconds time) {
    const double seconds = std::chrono::duration<double>(time).count();
    const auto judged =
        s.count(ReplayDirection::outbound) + s.count(ReplayDirection::inbound) + s.count(ReplayDirection::hairpin);
    return seconds > 0 ? double(judged) / seconds : 0.0;
}

// CPU time of the calling thread: what the engine loop cost, whatever else the machine ran.
std::chrono::nanoseconds thread_cpu_time() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

}  // namespace

double ReplaySummary::engine_packets_per_second() const { return packets_per_second(*this, engine_time); }
double ReplaySummary::engine_packets_per_cpu_second() const { return packets_per_second(*this, engine_cpu_time); }

ReplayOutcome replay_capture(const EngineSetup& setup, const ReplayFiles& files, ChecksumTrust trust) {
    ReplayOutcome outcome;
    auto capture = read_capture(files.input, outcome.error);
    if (!capture) return outcome;
    const LinkLayer link = *link_layer_of(capture->dlt);

    PacketEngine engine(setup);
    std::vector<PacketFate> fates(capture->packets.size());
    judge_checksums(*capture, link, trust, fates);
    const auto started = std::chrono::steady_clock::now();
    const auto cpu_started = thread_cpu_time();
    run_engine(engine, setup, *capture, link, fates);
    const auto engine_cpu_time = thread_cpu_time() - cpu_started;
    const auto engine_time = std::chrono::steady_clock::now() - started;
    finish_checksums(*capture, link, fates);

    ReplaySummary summary;
    summary.packets = capture->packets.size();
    summary.engine_time = std::chrono::duration_cast<std::chrono::nanoseconds>(engine_time);
    summary.engine_cpu_time = engine_cpu_time;
    summary.checksum_trust = trust;
    for (const auto& f : fates) {
        ++summary.by_direction[std::size_t(f.direction)];
        if (!given_to_engine(f.direction)) continue;
        ++summary.by_verdict[std::size_t(f.result.verdict)];
        summary.partial_checksums += f.checksum == CapturedChecksum::partial;
        summary.failed_checksums += f.checksum == CapturedChecksum::failed;
    }
    summary.engine = engine.counters();
    summary.live_flows = engine.flows().size();
    summary.ipv6_flows_created = engine.ipv6().counters().flows_created;
    summary.live_ipv6_flows = engine.ipv6().flows().size();
    summary.live_mappings = engine.mappings().size();

    if (!write_capture(files.output, *capture, fates, summary.written, outcome.error)) return outcome;
    if (!files.verdicts.empty() && !write_verdicts(files.verdicts, *capture, fates, outcome.error)) return outcome;
    outcome.summary = summary;
    return outcome;
}

}  // namespace gw

// gatewayd --replay's core (daemon/pcap_replay.hpp): captures written with libpcap,
// replayed through the real engine, and the output capture read back.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "daemon/pcap_replay.hpp"
#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

// A packet of a capture: when it was seen (ms after the first) and its bytes,
// link-layer header included.
struct Record {
    long milliseconds;
    Packet bytes;
};

// A file in the temp directory, removed with the object.
class TempFile {
public:
    explicit TempFile(const std::string& name)
        : path_(std::filesystem::temp_directory_path() /
                ("gw_replay_" + std::to_string(getpid()) + "_" + name)) {}
    ~TempFile() { std::filesystem::remove(path_); }
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

void write_capture(const std::string& path, int dlt, const std::vector<Record>& records) {
    pcap_t* dead = pcap_open_dead(dlt, 65535);
    REQUIRE(dead);
    pcap_dumper_t* out = pcap_dump_open(dead, path.c_str());
    REQUIRE(out);
    for (const auto& r : records) {
        pcap_pkthdr header{};
        header.ts.tv_sec = 1700000000 + r.milliseconds / 1000;
        header.ts.tv_usec = (r.milliseconds % 1000) * 1000;
        header.caplen = header.len = std::uint32_t(r.bytes.size());
        pcap_dump(reinterpret_cast<u_char*>(out), &header, r.bytes.data());
    }
    pcap_dump_close(out);
    pcap_close(dead);
}

std::vector<Packet> read_capture(const std::string& path, int expected_dlt) {
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t* in = pcap_open_offline(path.c_str(), errbuf);
    REQUIRE(in);
    CHECK(pcap_datalink(in) == expected_dlt);
    std::vector<Packet> packets;
    pcap_pkthdr* header;
    const u_char* data;
    while (pcap_next_ex(in, &header, &data) == 1) packets.emplace_back(data, data + header->caplen);
    pcap_close(in);
    return packets;
}

// An Ethernet frame around `payload` with the given EtherType.
Packet ethernet(const Packet& payload, std::uint16_t ethertype = 0x0800) {
    Packet frame = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, std::uint8_t(ethertype >> 8), std::uint8_t(ethertype)};
    frame.insert(frame.end(), payload.begin(), payload.end());
    return frame;
}

Packet without_ethernet(const Packet& frame) { return Packet(frame.begin() + 14, frame.end()); }

struct Replayed {
    ReplayOutcome outcome;
    std::vector<Packet> written;
};

Replayed replay(const std::vector<Record>& records, int dlt = DLT_RAW, const EngineSetup& setup = engine_setup()) {
    TempFile in("in.pcap"), out("out.pcap");
    write_capture(in.path(), dlt, records);
    Replayed r{replay_capture(setup, {in.path(), out.path(), ""}), {}};
    if (r.outcome.summary) r.written = read_capture(out.path(), dlt);
    return r;
}

// The port a replay gives `outbound`, the first packet of a capture: a reply in a
// capture must go to it, whichever port the engine's allocation picks.
std::uint16_t external_port_of(const Packet& outbound, const EngineSetup& setup = engine_setup()) {
    auto r = replay({{0, outbound}}, DLT_RAW, setup);
    REQUIRE(r.written.size() == 1);
    return source_of(r.written[0]).port.value;
}

// `p` as a sender with TX checksum offload hands it to its device, and a capture on that
// host holds it: the TCP/UDP checksum field is the pseudo-header sum, not complemented.
Packet offloaded(Packet p) {
    put16(p, ip_header_length(p) + l4_checksum_offset(protocol_of(p)),
          pseudo_header_partial_sum(source_address(p), destination_address(p), protocol_of(p),
                                    std::uint16_t(l4_of(p).size())));
    return p;
}

Packet corrupted_checksum(Packet p) {
    const std::size_t field = ip_header_length(p) + l4_checksum_offset(protocol_of(p));
    put16(p, field, std::uint16_t(get16(p, field) ^ 0x1234));
    return p;
}

const Bytes query = {'q', 'u', 'e', 'r', 'y'};
const Bytes answer = {'a', 'n', 's', 'w', 'e', 'r'};

}  // namespace

TEST_CASE("a replayed UDP exchange leaves translated: out from the WAN address, the reply back to the LAN host") {
    const std::uint16_t external = external_port_of(udp(at(host_a, 5000), at(server, 53), query));
    CHECK(external >= 40000);
    CHECK(external <= 40099);
    auto r = replay({{0, udp(at(host_a, 5000), at(server, 53), query)},
                     {20, udp(at(server, 53), at(wan_address, external), answer)}});
    REQUIRE(r.outcome.summary);
    REQUIRE(r.written.size() == 2);
    CHECK(r.written[0] == udp(at(wan_address, external), at(server, 53), query));
    CHECK(r.written[1] == udp(at(server, 53), at(host_a, 5000), answer));
    CHECK(checksums_valid(r.written[0]));
    CHECK(checksums_valid(r.written[1]));
}

TEST_CASE("the replay summary counts packets per direction and verdict, flows and mappings") {
    const std::uint16_t external = external_port_of(udp(at(host_a, 5000), at(server, 53), query));

    auto r = replay({{0, udp(at(host_a, 5000), at(server, 53), query)},
                     {20, udp(at(server, 53), at(wan_address, external), answer)},
                     {30, udp(at(host_a, 5000), at(host_b, 53), query)},
                     {40, udp(at(other_server, 99), at(wan_address, 40050), query)}});
    REQUIRE(r.outcome.summary);
    const ReplaySummary& s = *r.outcome.summary;
    CHECK(s.packets == 4);
    CHECK(s.count(ReplayDirection::outbound) == 1);
    CHECK(s.count(ReplayDirection::inbound) == 2);
    CHECK(s.count(ReplayDirection::not_through_gateway) == 1);
    CHECK(s.count(Verdict::forward) == 2);
    CHECK(s.count(Verdict::drop) == 1);
    CHECK(s.engine.drops.total() == 1);
    CHECK(s.engine.flows_created == 1);
    CHECK(s.engine.mappings_created == 1);
    CHECK(s.written == 2);
    REQUIRE(r.written.size() == 2);
    CHECK(r.written[1] == udp(at(server, 53), at(host_a, 5000), answer));
}

TEST_CASE("an Ethernet capture keeps its link type and headers, and non-IPv4 frames are skipped") {
    auto r = replay({{0, ethernet(udp(at(host_a, 5000), at(server, 53), query))},
                     {5, ethernet(Packet(28, 0), 0x0806)}},  // ARP
                    DLT_EN10MB);
    REQUIRE(r.outcome.summary);
    CHECK(r.outcome.summary->count(ReplayDirection::skipped) == 1);
    REQUIRE(r.written.size() == 1);
    CHECK(Packet(r.written[0].begin(), r.written[0].begin() + 14) == ethernet({}));
    const Packet ip = without_ethernet(r.written[0]);
    CHECK(ip == udp(at(wan_address, source_of(ip).port.value), at(server, 53), query));
}

TEST_CASE("a replayed IPv6 capture goes through the IPv6 firewall: the LAN's exchange and its reply pass "
          "unchanged, an unsolicited packet is dropped") {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {v6::prefix("2001:db8:1::/64")};
    const Packet question = v6::udp(v6::lan_host, 5000, v6::remote_host, 53, query);
    const Packet reply = v6::udp(v6::remote_host, 53, v6::lan_host, 5000, answer);
    const Packet stranger = v6::udp(v6::other_remote_host, 53, v6::lan_host, 5001, answer);
    TempFile in("in6.pcap"), out("out6.pcap"), verdicts("verdicts6.txt");
    write_capture(in.path(), DLT_EN10MB,
                  {{0, ethernet(question, 0x86dd)}, {20, ethernet(reply, 0x86dd)}, {30, ethernet(stranger, 0x86dd)}});
    auto outcome = replay_capture(setup, {in.path(), out.path(), verdicts.path()});
    REQUIRE(outcome.summary);
    const ReplaySummary& s = *outcome.summary;
    CHECK(s.count(ReplayDirection::outbound) == 1);
    CHECK(s.count(ReplayDirection::inbound) == 2);
    CHECK(s.count(Verdict::forward) == 2);
    CHECK(s.engine.drops[DropReason::denied_by_policy] == 1);
    CHECK(s.ipv6_flows_created == 1);
    CHECK(s.live_ipv6_flows == 1);
    auto written = read_capture(out.path(), DLT_EN10MB);
    REQUIRE(written.size() == 2);
    CHECK(without_ethernet(written[0]) == question);
    CHECK(without_ethernet(written[1]) == reply);
    std::ifstream lines(verdicts.path());
    std::string first, third;
    std::getline(lines, first);
    std::getline(lines, third);
    std::getline(lines, third);
    CHECK(first.find("outbound forward - [2001:db8:1::10]:5000->[2001:db8:ff::2]:53") != std::string::npos);
    CHECK(third.find("inbound drop denied_by_policy [2001:db8:ff::3]:53->[2001:db8:1::10]:5001") != std::string::npos);
}

TEST_CASE("the engine's clock in a replay is the capture's: an idle UDP mapping has ended when the reply comes late") {
    EngineSetup setup = engine_setup();
    setup.nat.timeouts.udp = 30;  // seconds
    const std::uint16_t external = external_port_of(udp(at(host_a, 5000), at(server, 53), query), setup);
    auto r = replay({{0, udp(at(host_a, 5000), at(server, 53), query)},
                     {120000, udp(at(server, 53), at(wan_address, external), answer)}},
                    DLT_RAW, setup);
    REQUIRE(r.outcome.summary);
    CHECK(r.outcome.summary->count(Verdict::drop) == 1);
    CHECK(r.written.size() == 1);
}

TEST_CASE("a missing capture or an unsupported link type is one clear error") {
    TempFile out("out.pcap");
    auto missing = replay_capture(engine_setup(), {"/nonexistent/in.pcap", out.path(), ""});
    CHECK_FALSE(missing.summary);
    CHECK_THAT(missing.error, Catch::Contains("/nonexistent/in.pcap"));

    TempFile in("ppp.pcap");
    write_capture(in.path(), DLT_PPP, {{0, Packet(24, 0)}});
    auto unsupported = replay_capture(engine_setup(), {in.path(), out.path(), ""});
    CHECK_FALSE(unsupported.summary);
    CHECK_THAT(unsupported.error, Catch::Contains("unsupported link type"));
}

TEST_CASE("a replay refuses a config without lan.networks or with wan.address auto") {
    GatewayConfig config;
    config.lan_interface = "lan0";
    config.wan_interface = "wan0";
    config.wan_address = wan_address;
    CHECK_THAT(replay_engine_setup(config).error, Catch::Contains("lan.networks"));
    config.firewall.lan_networks = {network("192.168.0.0/16")};
    config.wan_address.reset();
    CHECK_THAT(replay_engine_setup(config).error, Catch::Contains("wan.address"));
    config.wan_address = wan_address;
    auto ok = replay_engine_setup(config);
    REQUIRE(ok.setup);
    CHECK(ok.setup->nat.wan_address == wan_address);
}

TEST_CASE("the verdict file has one line per packet") {
    TempFile in("in.pcap"), out("out.pcap"), verdicts("verdicts.txt");
    write_capture(in.path(), DLT_RAW,
                  {{0, udp(at(host_a, 5000), at(server, 53), query)},
                   {1500, udp(at(other_server, 99), at(wan_address, 40050), query)}});
    auto outcome = replay_capture(engine_setup(), {in.path(), out.path(), verdicts.path()});
    REQUIRE(outcome.summary);
    std::ifstream file(verdicts.path());
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "1 0.000000 outbound forward - 192.168.1.10:5000->198.51.100.7:53");
    CHECK_THAT(lines[1], Catch::StartsWith("2 1.500000 inbound drop "));
    CHECK_THAT(lines[1], Catch::EndsWith(" 198.51.100.8:99->203.0.113.1:40050"));
}

TEST_CASE("a SYN captured with an offloaded (partial) checksum is accepted, counted, and written with it finished") {
    const Packet syn = tcp(at(host_a, 40000), at(server, 80), tcp_flag::syn);
    auto r = replay({{0, offloaded(syn)}});
    REQUIRE(r.outcome.summary);
    CHECK(r.outcome.summary->count(Verdict::forward) == 1);
    CHECK(r.outcome.summary->partial_checksums == 1);
    CHECK(r.outcome.summary->failed_checksums == 0);
    REQUIRE(r.written.size() == 1);
    CHECK(checksums_valid(r.written[0]));
    CHECK(source_of(r.written[0]).address == wan_address);
}

TEST_CASE("a UDP datagram with an offloaded checksum leaves with the checksum of its new addresses and port") {
    auto r = replay({{0, offloaded(udp(at(host_a, 5000), at(server, 53), query))}});
    REQUIRE(r.outcome.summary);
    CHECK(r.outcome.summary->partial_checksums == 1);
    REQUIRE(r.written.size() == 1);
    CHECK(checksums_valid(r.written[0]));
}

TEST_CASE("a SYN whose checksum is simply wrong is still dropped as bad_tcp_checksum, unless checksums are trusted") {
    const Packet bad = corrupted_checksum(tcp(at(host_a, 40000), at(server, 80), tcp_flag::syn));
    auto r = replay({{0, bad}});
    REQUIRE(r.outcome.summary);
    CHECK(r.outcome.summary->engine.drops[DropReason::bad_tcp_checksum] == 1);
    CHECK(r.outcome.summary->partial_checksums == 0);
    CHECK(r.outcome.summary->failed_checksums == 1);
    CHECK(r.written.empty());

    TempFile in("in.pcap"), out("out.pcap");
    write_capture(in.path(), DLT_RAW, {{0, bad}});
    auto trusted = replay_capture(engine_setup(), {in.path(), out.path(), ""}, ChecksumTrust::trust_all);
    REQUIRE(trusted.summary);
    CHECK(trusted.summary->checksum_trust == ChecksumTrust::trust_all);
    CHECK(trusted.summary->count(Verdict::forward) == 1);
    CHECK(trusted.summary->failed_checksums == 1);
    auto written = read_capture(out.path(), DLT_RAW);
    REQUIRE(written.size() == 1);
    CHECK(checksums_valid(written[0]));
}

TEST_CASE("a finished checksum is neither partial nor failed") {
    auto r = replay({{0, tcp(at(host_a, 40000), at(server, 80), tcp_flag::syn)},
                     {1, udp(at(host_a, 5000), at(server, 53), query, false)}});
    REQUIRE(r.outcome.summary);
    CHECK(r.outcome.summary->partial_checksums == 0);
    CHECK(r.outcome.summary->failed_checksums == 0);
    CHECK(r.outcome.summary->count(Verdict::forward) == 2);
}

}  // namespace gw::test

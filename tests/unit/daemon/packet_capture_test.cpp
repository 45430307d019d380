// gatewayctl capture's core (daemon/packet_capture.hpp): which packets a filter keeps,
// and the pcap file written, read back with libpcap.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "daemon/packet_capture.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

// A path in the temp directory, removed with the object.
class TempPath {
public:
    explicit TempPath(const std::string& name)
        : path_(std::filesystem::temp_directory_path() / ("gw_capture_" + std::to_string(getpid()) + "_" + name)) {}
    ~TempPath() { std::filesystem::remove(path_); }
    std::string str() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

struct ReadRecord {
    std::uint32_t caplen, len;
    Packet bytes;
};

std::vector<ReadRecord> read_records(const std::string& path) {
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t* in = pcap_open_offline(path.c_str(), errbuf);
    REQUIRE(in);
    CHECK(pcap_datalink(in) == DLT_RAW);
    CHECK(pcap_snapshot(in) == 65535);
    std::vector<ReadRecord> records;
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(in, &header, &data) == 1)
        records.push_back({header->caplen, header->len, Packet(data, data + header->caplen)});
    pcap_close(in);
    return records;
}

CaptureRequest request_to(const std::string& path, std::vector<std::string> options = {}) {
    options.push_back("-w");
    options.push_back(path);
    auto parsed = parse_capture_request(options);
    REQUIRE(parsed.error == "");
    parsed.request->filter.wan_address = wan_address;
    return *parsed.request;
}

std::span<const std::uint8_t> head_of(const Packet& p) { return std::span(p).first(std::min<std::size_t>(p.size(), 128)); }

// An outbound UDP packet from host_a:5000, and the same after translation to wan_address:7777.
const Packet lan_side = udp(at(host_a, 5000), at(server, 53), Bytes(40, 0xab));
Packet translated() {
    Packet p = lan_side;
    put32(p, 12, wan_address.host_order());
    put16(p, 20, 7777);
    return p;
}

FirewallRule rule_named(std::string name) {
    FirewallRule r;
    r.name = std::move(name);
    return r;
}

}  // namespace

TEST_CASE("a host filter matches the address before or after translation") {
    CaptureFilter f = request_to("/x", {"--host", host_a.to_string()}).filter;
    CHECK(f.matches(lan_side, translated(), nullptr));
    f.host = wan_address;
    CHECK(f.matches(lan_side, translated(), nullptr));
    f.host = other_server;
    CHECK_FALSE(f.matches(lan_side, translated(), nullptr));
}

TEST_CASE("a mapping filter matches the WAN-side port and protocol only") {
    CaptureFilter f = request_to("/x", {"--mapping", "7777/udp"}).filter;
    CHECK(f.matches(lan_side, translated(), nullptr));
    CHECK_FALSE(f.matches(lan_side, lan_side, nullptr));  // port 7777 never on the WAN address
    CHECK_FALSE(request_to("/x", {"--mapping", "7777/tcp"}).filter.matches(lan_side, translated(), nullptr));
    // Inbound to the mapping: the WAN-side port is the destination before translation.
    Packet inbound = udp(at(server, 53), at(wan_address, 7777));
    CHECK(f.matches(inbound, udp(at(server, 53), at(host_a, 5000)), nullptr));
}

TEST_CASE("a rule filter matches the packets that rule decided") {
    CaptureFilter f = request_to("/x", {"--rule", "allow-dns"}).filter;
    FirewallRule allow = rule_named("allow-dns"), other = rule_named("other");
    CHECK(f.matches(lan_side, translated(), &allow));
    CHECK_FALSE(f.matches(lan_side, translated(), &other));
    CHECK_FALSE(f.matches(lan_side, translated(), nullptr));
}

TEST_CASE("capture requests outside the limits or with two filters are refused with a reason") {
    using W = std::vector<std::string>;
    CHECK(parse_capture_request(W{"--count", "100001", "-w", "/f"}).error.find("--count") == 0);
    CHECK(parse_capture_request(W{"--seconds", "0", "-w", "/f"}).error.find("--seconds") == 0);
    CHECK(parse_capture_request(W{"--mapping", "7777", "-w", "/f"}).error.find("--mapping") == 0);
    CHECK(parse_capture_request(W{"--host", "1.2.3.4", "--rule", "r", "-w", "/f"}).error.find("at most one") != std::string::npos);
    CHECK(parse_capture_request(W{"--count", "5"}).error.find("no file") == 0);
    auto defaults = parse_capture_request(W{"-w", "/f"});
    REQUIRE(defaults.request);
    CHECK(defaults.request->max_records == 100);
    CHECK(defaults.request->seconds == 10);
}

TEST_CASE("a forwarded packet is written before and after translation, a dropped one once as it arrived") {
    TempPath file("pairs.pcap");
    std::string error;
    auto capture = PacketCapture::start(request_to(file.str()), Instant{0}, error);
    REQUIRE(capture);
    struct stat st {};
    REQUIRE(stat(file.str().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    Packet out = translated();
    capture->record(head_of(lan_side), out, EngineResult{Verdict::forward}, Instant{0});
    capture->record(head_of(lan_side), lan_side, EngineResult{Verdict::drop, DropReason::none}, Instant{0});
    capture->finish("count");
    auto records = read_records(file.str());
    REQUIRE(records.size() == 3);
    CHECK(records[0].bytes == lan_side);
    CHECK(records[1].bytes == out);
    CHECK(records[2].bytes == lan_side);
    CHECK(capture->status().records == 3);
}

TEST_CASE("the packet after the 128-byte head is written from the packet itself") {
    TempPath file("long.pcap");
    std::string error;
    auto capture = PacketCapture::start(request_to(file.str()), Instant{0}, error);
    REQUIRE(capture);
    Packet before = udp(at(host_a, 5000), at(server, 53), Bytes(1000, 0x5a));
    Packet after = before;
    put32(after, 12, wan_address.host_order());
    capture->record(head_of(before), after, EngineResult{Verdict::forward}, Instant{0});
    capture->finish("count");
    auto records = read_records(file.str());
    REQUIRE(records.size() == 2);
    CHECK(records[0].bytes == before);
    CHECK(records[1].bytes == after);
}

TEST_CASE("a packet larger than the snaplen is truncated with its length kept") {
    TempPath file("gso.pcap");
    std::string error;
    auto capture = PacketCapture::start(request_to(file.str()), Instant{0}, error);
    REQUIRE(capture);
    Packet gso = udp(at(host_a, 5000), at(server, 53), Bytes(70000, 1));
    capture->record(head_of(gso), gso, EngineResult{Verdict::drop}, Instant{0});
    capture->finish("count");
    auto records = read_records(file.str());
    REQUIRE(records.size() == 1);
    CHECK(records[0].caplen == 65535);
    CHECK(records[0].len == gso.size());
}

TEST_CASE("a capture stops at its record count, splitting a pair if need be, and at its time") {
    TempPath file("count.pcap");
    std::string error;
    auto capture = PacketCapture::start(request_to(file.str(), {"--count", "3", "--seconds", "5"}), Instant{0}, error);
    REQUIRE(capture);
    for (int i = 0; i < 4; ++i) capture->record(head_of(lan_side), translated(), EngineResult{Verdict::forward}, Instant{0});
    CHECK(capture->due(Instant{0}));
    capture->finish("count");
    CHECK(read_records(file.str()).size() == 3);

    TempPath timed("time.pcap");
    auto late = PacketCapture::start(request_to(timed.str(), {"--seconds", "5"}), Instant{0}, error);
    REQUIRE(late);
    CHECK_FALSE(late->due(std::chrono::seconds(4)));
    late->record(head_of(lan_side), lan_side, EngineResult{Verdict::drop}, std::chrono::seconds(5));
    CHECK(late->due(std::chrono::seconds(5)));
    late->finish("time");
    CHECK(read_records(timed.str()).empty());
}

TEST_CASE("an existing file is refused unless forced, and one capture runs at a time") {
    TempPath file("exists.pcap");
    CaptureSlot slot;
    REQUIRE(slot.start(request_to(file.str()), Instant{0}) == "");
    CHECK(slot.start(request_to(file.str() + ".2"), Instant{0}).find("already running") != std::string::npos);
    REQUIRE(slot.stop("stopped"));
    CHECK(slot.start(request_to(file.str()), Instant{0}).find("exists already") != std::string::npos);
    CHECK(slot.start(request_to(file.str(), {"--force"}), Instant{0}) == "");
    slot.expire(std::chrono::seconds(11));
    REQUIRE(slot.status());
    CHECK_FALSE(slot.status()->running);
    CHECK(slot.status()->ended_by == "time");
}

}  // namespace gw::test

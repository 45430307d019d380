#include "packet_capture.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "nat/wire_headers.hpp"

namespace gw {
namespace {

// The addresses and (TCP/UDP, first fragment) ports of an IPv4 packet's head.
struct PacketAddresses {
    Ipv4Address source, destination;
    std::uint8_t protocol = 0;
    std::optional<Port> source_port, destination_port;
};

std::optional<PacketAddresses> addresses_of(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() < sizeof(wire::Ipv4Header)) return std::nullopt;
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(bytes.data());
    if (ip->version() != 4 || ip->header_length() < sizeof(wire::Ipv4Header)) return std::nullopt;
    PacketAddresses a{ip->source(), ip->destination(), ip->protocol, std::nullopt, std::nullopt};
    bool has_ports = ip->protocol == std::uint8_t(Protocol::tcp) || ip->protocol == std::uint8_t(Protocol::udp);
    if (has_ports && ip->fragment_offset_units() == 0 && bytes.size() >= ip->header_length() + 4) {
        const auto* ports = bytes.data() + ip->header_length();
        a.source_port = Port{std::uint16_t((ports[0] << 8) | ports[1])};
        a.destination_port = Port{std::uint16_t((ports[2] << 8) | ports[3])};
    }
    return a;
}

bool has_wan_port(const std::optional<PacketAddresses>& a, const CaptureFilter& f) noexcept {
    if (!a || a->protocol != std::uint8_t(*f.mapping_protocol)) return false;
    return (a->source == f.wan_address && a->source_port == f.mapping_port) ||
           (a->destination == f.wan_address && a->destination_port == f.mapping_port);
}

bool has_host(const std::optional<PacketAddresses>& a, Ipv4Address host) noexcept {
    return a && (a->source == host || a->destination == host);
}

std::optional<std::int64_t> whole_number(std::string_view text, std::int64_t low, std::int64_t high) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) return std::nullopt;
    return value;
}

// "7777/udp"
bool parse_mapping(std::string_view text, CaptureFilter& filter) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return false;
    auto port = whole_number(text.substr(0, slash), 1, 65535);
    auto protocol = text.substr(slash + 1);
    if (!port || (protocol != "tcp" && protocol != "udp")) return false;
    filter.mapping_port = Port{std::uint16_t(*port)};
    filter.mapping_protocol = protocol == "tcp" ? Protocol::tcp : Protocol::udp;
    return true;
}

// The new file, mode 0600, never through an existing name (a symlink planted there
// would otherwise let a capture overwrite any file root can write).
int create_capture_file(const std::string& path, bool force, std::string& error) {
    if (path.empty() || path.front() != '/') {
        error = "the capture file must be an absolute path: " + path;
        return -1;
    }
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!force) {
            error = path + " exists already (use --force to replace it)";
            return -1;
        }
        if (S_ISDIR(st.st_mode) || unlink(path.c_str()) != 0) {
            error = "cannot replace " + path + (S_ISDIR(st.st_mode) ? ": it is a directory" : ": " + std::string(std::strerror(errno)));
            return -1;
        }
    }
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) error = "cannot create " + path + ": " + std::strerror(errno);
    return fd;
}

}  // namespace

bool CaptureFilter::matches(std::span<const std::uint8_t> before, std::span<const std::uint8_t> after,
                            const FirewallRule* decided_by) const noexcept {
    if (rule) return decided_by && decided_by->name == *rule;
    if (host) return has_host(addresses_of(before), *host) || has_host(addresses_of(after), *host);
    if (mapping_protocol) return has_wan_port(addresses_of(before), *this) || has_wan_port(addresses_of(after), *this);
    return true;
}

std::string CaptureFilter::to_string() const {
    if (rule) return "rule " + *rule;
    if (host) return "host " + host->to_string();
    if (mapping_protocol)
        return "mapping " + std::to_string(mapping_port.value) + "/" + std::string(protocol_name(*mapping_protocol));
    return "all";
}

CaptureRequestParse parse_capture_request(std::span<const std::string> words) {
    static constexpr const char* usage =
        "usage: capture [--mapping PORT/tcp|udp | --rule NAME | --host ADDRESS] [--count N] [--seconds S] "
        "[--force] -w FILE";
    CaptureRequest r;
    int criteria = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w == "--force") {
            r.force = true;
            continue;
        }
        if (i + 1 >= words.size()) return {std::nullopt, "'" + w + "' needs a value; " + usage};
        const std::string& value = words[++i];
        if (w == "-w") {
            r.path = value;
        } else if (w == "--host") {
            ++criteria;
            r.filter.host = Ipv4Address::parse(value);
            if (!r.filter.host) return {std::nullopt, "--host: '" + value + "' is not an IPv4 address"};
        } else if (w == "--mapping") {
            ++criteria;
            if (!parse_mapping(value, r.filter)) return {std::nullopt, "--mapping: '" + value + "' is not PORT/tcp or PORT/udp"};
        } else if (w == "--rule") {
            ++criteria;
            r.filter.rule = value;
        } else if (w == "--count") {
            auto n = whole_number(value, 1, std::int64_t(capture_max_records));
            if (!n) return {std::nullopt, "--count: '" + value + "' is not a number from 1 to " + std::to_string(capture_max_records)};
            r.max_records = std::uint64_t(*n);
        } else if (w == "--seconds") {
            auto n = whole_number(value, 1, capture_max_seconds);
            if (!n) return {std::nullopt, "--seconds: '" + value + "' is not a number from 1 to " + std::to_string(capture_max_seconds)};
            r.seconds = *n;
        } else {
            return {std::nullopt, "unknown capture option '" + w + "'; " + usage};
        }
    }
    if (criteria > 1) return {std::nullopt, "give at most one of --mapping, --rule and --host"};
    if (r.path.empty()) return {std::nullopt, std::string("no file: ") + usage};
    return {std::move(r), ""};
}

PacketCapture::PacketCapture(CaptureRequest request, Instant now)
    : request_(std::move(request)), deadline_(now + std::chrono::seconds(request_.seconds)) {}

std::unique_ptr<PacketCapture> PacketCapture::start(const CaptureRequest& request, Instant now, std::string& error) {
    int fd = create_capture_file(request.path, request.force, error);
    if (fd < 0) return nullptr;
    std::unique_ptr<PacketCapture> capture(new PacketCapture(request, now));
    capture->dead_ = pcap_open_dead(DLT_RAW, int(capture_snaplen));
    FILE* file = capture->dead_ ? fdopen(fd, "wb") : nullptr;
    if (file) capture->dumper_ = pcap_dump_fopen(capture->dead_, file);
    if (!capture->dumper_) {
        error = "cannot write a pcap file to " + request.path;
        if (file) std::fclose(file);
        else close(fd);
        unlink(request.path.c_str());
        return nullptr;
    }
    capture->scratch_.resize(capture_snaplen);  // allocated once, not per packet
    return capture;
}

PacketCapture::~PacketCapture() {
    finish("stopping");
    if (dead_) pcap_close(dead_);
}

void PacketCapture::record(std::span<const std::uint8_t> arrived_head, std::span<const std::uint8_t> packet,
                           const EngineResult& result, Instant now) noexcept {
    if (!dumper_ || due(now) || !request_.filter.matches(arrived_head, packet, result.rule)) return;
    std::size_t head = std::min(arrived_head.size(), packet.size());
    write(arrived_head.first(head), packet.subspan(head), packet.size());
    // Forwarded packets also as translated; a dropped one never left, a local one was not rewritten.
    if (result.verdict == Verdict::forward && records_ < request_.max_records)
        write(packet, {}, packet.size());
}

void PacketCapture::write(std::span<const std::uint8_t> head, std::span<const std::uint8_t> tail,
                          std::size_t length) noexcept {
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    pcap_pkthdr header{};
    header.ts.tv_sec = wall.tv_sec;
    header.ts.tv_usec = wall.tv_nsec / 1000;
    header.len = bpf_u_int32(length);
    header.caplen = bpf_u_int32(std::min<std::size_t>(length, capture_snaplen));
    const std::uint8_t* bytes = head.data();
    if (!tail.empty()) {  // reassembled: the arrived head, then the untouched rest
        std::size_t h = std::min<std::size_t>(head.size(), header.caplen);
        std::memcpy(scratch_.data(), head.data(), h);
        std::memcpy(scratch_.data() + h, tail.data(), header.caplen - h);
        bytes = scratch_.data();
    }
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, bytes);
    ++records_;
}

void PacketCapture::finish(std::string ended_by) noexcept {
    if (!dumper_) return;
    if (pcap_dump_flush(dumper_) != 0 || std::ferror(pcap_dump_file(dumper_)))
        error_ = "writing " + request_.path + " failed";
    pcap_dump_close(dumper_);
    dumper_ = nullptr;
    ended_by_ = std::move(ended_by);
}

CaptureStatus PacketCapture::status() const {
    return {dumper_ != nullptr, request_.path, request_.filter.to_string(), records_, request_.max_records,
            request_.seconds, ended_by_, error_};
}

std::string capture_already_running(const CaptureStatus& s) {
    return "a capture is already running (" + s.path + ", " + std::to_string(s.records) + " of " +
           std::to_string(s.max_records) + " records); one capture at a time";
}

std::string CaptureSlot::start(const CaptureRequest& request, Instant now) {
    expire(now);
    if (running_) return capture_already_running(running_->status());
    std::string error;
    auto capture = PacketCapture::start(request, now, error);
    if (!capture) return error;
    install(capture);
    return "";
}

void CaptureSlot::expire(Instant now) {
    if (auto due = take_due(now)) {
        std::string reason = due_reason(*due);
        keep_finished(std::move(due), std::move(reason));
    }
}

bool CaptureSlot::stop(std::string ended_by) {
    auto running = take_running();
    if (!running) return false;
    keep_finished(std::move(running), std::move(ended_by));
    return true;
}

bool CaptureSlot::install(std::unique_ptr<PacketCapture>& capture) {
    if (running_) return false;
    running_ = std::move(capture);
    last_.reset();
    return true;
}

std::unique_ptr<PacketCapture> CaptureSlot::take_running() { return std::move(running_); }

std::unique_ptr<PacketCapture> CaptureSlot::take_due(Instant now) {
    if (!running_ || !running_->due(now)) return nullptr;
    return std::move(running_);
}

void CaptureSlot::keep_finished(std::unique_ptr<PacketCapture> capture, std::string ended_by) {
    if (!capture) return;
    capture->finish(std::move(ended_by));
    last_ = std::move(capture);
}

std::string CaptureSlot::due_reason(const PacketCapture& capture) {
    return capture.status().records >= capture.status().max_records ? "count" : "time";
}

std::optional<CaptureStatus> CaptureSlot::status() const {
    if (running_) return running_->status();
    if (last_) return last_->status();
    return std::nullopt;
}

}  // namespace gw

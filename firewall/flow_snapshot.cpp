#include "firewall/flow_snapshot.hpp"

#include <cstring>
#include <string_view>

namespace gw {
namespace {

constexpr std::string_view magic = "GWFLOWS\n";
constexpr std::size_t header_bytes = 8 + 4 + 8 + 4;
constexpr std::size_t trailer_bytes = 8;

std::uint64_t fnv1a(std::span<const std::uint8_t> bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (auto b : bytes) h = (h ^ b) * 0x100000001b3ULL;
    return h;
}

class Writer {
public:
    explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
    template <class Unsigned>
    void put(Unsigned value) {
        for (std::size_t i = 0; i < sizeof(Unsigned); ++i) out_.push_back(std::uint8_t(std::uint64_t(value) >> (8 * i)));
    }
    void endpoint(Endpoint e) {
        put(e.address.host_order());
        put(e.port.value);
    }
    void ipv6_address(const Ipv6Address& a) {
        for (auto b : a.bytes()) put(b);
    }

private:
    std::vector<std::uint8_t>& out_;
};

// Reads what the size check before it guaranteed is there.
class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
    template <class Unsigned>
    Unsigned take() {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < sizeof(Unsigned); ++i) v |= std::uint64_t(in_[at_ + i]) << (8 * i);
        at_ += sizeof(Unsigned);
        return Unsigned(v);
    }
    Endpoint endpoint() {
        Ipv4Address a(take<std::uint32_t>());
        return {a, Port{take<std::uint16_t>()}};
    }
    Ipv6Address ipv6_address() {
        Ipv6Address::Bytes bytes;
        for (auto& b : bytes) b = take<std::uint8_t>();
        return Ipv6Address(bytes);
    }

private:
    std::span<const std::uint8_t> in_;
    std::size_t at_ = 0;
};

constexpr std::uint8_t reply_seen_bit = 1, holds_mapping_bit = 2;

void write_tcp(Writer& w, const TcpTracker::Saved& tcp) {
    w.put(tcp.state);
    for (const auto& side : tcp.sides) {
        w.put(side.end);
        w.put(side.max_end);
        w.put(side.max_window);
        w.put(side.max_ack);
        w.put(side.scale);
        w.put(side.flags);
    }
}

TcpTracker::Saved read_tcp(Reader& r) {
    TcpTracker::Saved tcp;
    tcp.state = r.take<std::uint8_t>();
    for (auto& side : tcp.sides) {
        side.end = r.take<std::uint32_t>();
        side.max_end = r.take<std::uint32_t>();
        side.max_window = r.take<std::uint32_t>();
        side.max_ack = r.take<std::uint32_t>();
        side.scale = r.take<std::uint8_t>();
        side.flags = r.take<std::uint8_t>();
    }
    return tcp;
}

void write_record(Writer& w, const SavedFlow& f) {
    w.put(std::uint8_t(f.protocol));
    w.put(std::uint8_t(f.origin));
    w.put(std::uint8_t(f.timeout_class));
    w.put(std::uint8_t((f.reply_seen ? reply_seen_bit : 0) | (f.holds_mapping ? holds_mapping_bit : 0)));
    w.endpoint(f.internal);
    w.endpoint(f.remote);
    w.put(f.external.value);
    w.put(f.idle_left_ms);
    w.put(f.peer);
    write_tcp(w, f.tcp);
}

bool known_protocol(std::uint8_t p) {
    return p == std::uint8_t(Protocol::icmp) || p == std::uint8_t(Protocol::tcp) || p == std::uint8_t(Protocol::udp);
}

// nullopt with `error` set when a field is out of range.
std::optional<SavedFlow> read_record(Reader& r, std::string& error) {
    SavedFlow f;
    auto protocol = r.take<std::uint8_t>();
    auto origin = r.take<std::uint8_t>();
    auto timeout_class = r.take<std::uint8_t>();
    auto bits = r.take<std::uint8_t>();
    f.internal = r.endpoint();
    f.remote = r.endpoint();
    f.external = Port{r.take<std::uint16_t>()};
    f.idle_left_ms = r.take<std::uint32_t>();
    f.peer = r.take<std::uint32_t>();
    f.tcp = read_tcp(r);
    if (!known_protocol(protocol)) error = "unknown protocol " + std::to_string(protocol);
    else if (origin > std::uint8_t(FlowOrigin::hairpin_punch)) error = "unknown origin " + std::to_string(origin);
    else if (timeout_class >= std::uint8_t(TimeoutClass::count_))
        error = "unknown timeout class " + std::to_string(timeout_class);
    else if ((bits & ~(reply_seen_bit | holds_mapping_bit)) != 0) error = "unknown flag bits";
    else if (protocol == std::uint8_t(Protocol::tcp) && !TcpTracker::restored(f.tcp))
        error = "impossible TCP tracker state";
    if (!error.empty()) return std::nullopt;
    f.protocol = Protocol(protocol);
    f.origin = FlowOrigin(origin);
    f.timeout_class = TimeoutClass(timeout_class);
    f.reply_seen = bits & reply_seen_bit;
    f.holds_mapping = bits & holds_mapping_bit;
    return f;
}

}  // namespace

std::vector<std::uint8_t> encode_flow_snapshot(const FlowSnapshot& snapshot) {
    std::vector<std::uint8_t> out;
    out.reserve(header_bytes + snapshot.flows.size() * flow_snapshot_record_bytes + trailer_bytes);
    out.insert(out.end(), magic.begin(), magic.end());
    Writer w(out);
    w.put(flow_snapshot_version);
    w.put(std::uint64_t(snapshot.saved_at_unix_ms));
    w.put(std::uint32_t(snapshot.flows.size()));
    for (const auto& f : snapshot.flows) write_record(w, f);
    w.put(fnv1a(out));
    return out;
}

FlowSnapshotDecoded decode_flow_snapshot(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < header_bytes + trailer_bytes) return {std::nullopt, "too short (" + std::to_string(bytes.size()) + " bytes)"};
    if (std::memcmp(bytes.data(), magic.data(), magic.size()) != 0) return {std::nullopt, "not a flow snapshot (bad magic)"};
    Reader r(bytes.subspan(magic.size()));
    auto version = r.take<std::uint32_t>();
    if (version != flow_snapshot_version)
        return {std::nullopt, "version " + std::to_string(version) + " (this gatewayd reads " +
                                  std::to_string(flow_snapshot_version) + ")"};
    FlowSnapshot snapshot;
    snapshot.saved_at_unix_ms = std::int64_t(r.take<std::uint64_t>());
    auto count = r.take<std::uint32_t>();
    if (count > flow_snapshot_max_flows) return {std::nullopt, "implausible flow count " + std::to_string(count)};
    std::size_t expected = header_bytes + std::size_t(count) * flow_snapshot_record_bytes + trailer_bytes;
    if (bytes.size() != expected)
        return {std::nullopt, std::to_string(bytes.size()) + " bytes for " + std::to_string(count) + " flows (expected " +
                                  std::to_string(expected) + "): truncated or padded"};
    Reader trailer(bytes.subspan(expected - trailer_bytes));
    if (trailer.take<std::uint64_t>() != fnv1a(bytes.first(expected - trailer_bytes)))
        return {std::nullopt, "checksum mismatch"};
    Reader records(bytes.subspan(header_bytes, expected - header_bytes - trailer_bytes));
    snapshot.flows.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string error;
        auto flow = read_record(records, error);
        if (!flow) return {std::nullopt, "flow " + std::to_string(i) + ": " + error};
        snapshot.flows.push_back(*flow);
    }
    // A hairpin link must name another flow that names this one back.
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint32_t peer = snapshot.flows[i].peer;
        if (peer == 0) continue;
        if (peer > count || peer == i + 1 || snapshot.flows[peer - 1].peer != i + 1)
            return {std::nullopt, "flow " + std::to_string(i) + ": its hairpin link does not point back"};
    }
    return {std::move(snapshot), {}};
}

namespace {

constexpr std::string_view ipv6_magic = "GWFLOW6\n";

void write_ipv6_record(Writer& w, const SavedIpv6Flow& f) {
    w.put(f.key.protocol);
    w.put(std::uint8_t(f.origin));
    w.put(std::uint8_t(f.timeout_class));
    w.put(std::uint8_t(f.reply_seen ? reply_seen_bit : 0));
    w.ipv6_address(f.key.lan_address);
    w.put(f.key.lan_port);
    w.ipv6_address(f.key.remote_address);
    w.put(f.key.remote_port);
    w.put(f.pinhole);
    w.put(f.idle_left_ms);
    write_tcp(w, f.tcp);
}

Expected<SavedIpv6Flow, Error> read_ipv6_record(Reader& r) {
    SavedIpv6Flow f;
    f.key.protocol = r.take<std::uint8_t>();
    auto origin = r.take<std::uint8_t>();
    auto timeout_class = r.take<std::uint8_t>();
    auto bits = r.take<std::uint8_t>();
    f.key.lan_address = r.ipv6_address();
    f.key.lan_port = r.take<std::uint16_t>();
    f.key.remote_address = r.ipv6_address();
    f.key.remote_port = r.take<std::uint16_t>();
    f.pinhole = r.take<std::uint16_t>();
    f.idle_left_ms = r.take<std::uint32_t>();
    f.tcp = read_tcp(r);
    if (origin > std::uint8_t(Ipv6FlowOrigin::to_gateway)) return unexpected(Error{"unknown origin " + std::to_string(origin)});
    if (timeout_class >= std::uint8_t(TimeoutClass::count_))
        return unexpected(Error{"unknown timeout class " + std::to_string(timeout_class)});
    if ((bits & ~reply_seen_bit) != 0) return unexpected(Error{"unknown flag bits"});
    if (f.key.protocol == 6 && !TcpTracker::restored(f.tcp)) return unexpected(Error{"impossible TCP tracker state"});
    f.origin = Ipv6FlowOrigin(origin);
    f.timeout_class = TimeoutClass(timeout_class);
    f.reply_seen = bits & reply_seen_bit;
    return f;
}

}  // namespace

std::vector<std::uint8_t> encode_ipv6_flow_snapshot(const Ipv6FlowSnapshot& snapshot) {
    std::vector<std::uint8_t> out;
    out.reserve(header_bytes + snapshot.flows.size() * ipv6_flow_snapshot_record_bytes + trailer_bytes);
    out.insert(out.end(), ipv6_magic.begin(), ipv6_magic.end());
    Writer w(out);
    w.put(ipv6_flow_snapshot_version);
    w.put(std::uint64_t(snapshot.saved_at_unix_ms));
    w.put(std::uint32_t(snapshot.flows.size()));
    for (const auto& f : snapshot.flows) write_ipv6_record(w, f);
    w.put(fnv1a(out));
    return out;
}

Expected<Ipv6FlowSnapshot, Error> decode_ipv6_flow_snapshot(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < header_bytes + trailer_bytes)
        return unexpected(Error{"too short (" + std::to_string(bytes.size()) + " bytes)"});
    if (std::memcmp(bytes.data(), ipv6_magic.data(), ipv6_magic.size()) != 0)
        return unexpected(Error{"not an IPv6 flow snapshot (bad magic)"});
    Reader r(bytes.subspan(ipv6_magic.size()));
    auto version = r.take<std::uint32_t>();
    if (version != ipv6_flow_snapshot_version)
        return unexpected(Error{"version " + std::to_string(version) + " (this gatewayd reads " +
                                std::to_string(ipv6_flow_snapshot_version) + ")"});
    Ipv6FlowSnapshot snapshot;
    snapshot.saved_at_unix_ms = std::int64_t(r.take<std::uint64_t>());
    auto count = r.take<std::uint32_t>();
    if (count > flow_snapshot_max_flows) return unexpected(Error{"implausible flow count " + std::to_string(count)});
    std::size_t expected = header_bytes + std::size_t(count) * ipv6_flow_snapshot_record_bytes + trailer_bytes;
    if (bytes.size() != expected)
        return unexpected(Error{std::to_string(bytes.size()) + " bytes for " + std::to_string(count) +
                                " flows (expected " + std::to_string(expected) + "): truncated or padded"});
    Reader trailer(bytes.subspan(expected - trailer_bytes));
    if (trailer.take<std::uint64_t>() != fnv1a(bytes.first(expected - trailer_bytes)))
        return unexpected(Error{"checksum mismatch"});
    Reader records(bytes.subspan(header_bytes, expected - header_bytes - trailer_bytes));
    snapshot.flows.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        auto flow = read_ipv6_record(records);
        if (!flow) return unexpected(Error{"flow " + std::to_string(i) + ": " + flow.error().message});
        snapshot.flows.push_back(std::move(*flow));
    }
    return snapshot;
}

}  // namespace gw

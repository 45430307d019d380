#include "daemon/control_flow_snapshot.hpp"

#include <algorithm>
#include <charconv>

namespace gw {
namespace {

std::optional<std::uint16_t> port_number(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        return std::nullopt;
    return std::uint16_t(value);
}

std::optional<Endpoint> ipv4_endpoint(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto address = Ipv4Address::parse(text.substr(0, colon));
    auto port = port_number(text.substr(colon + 1));
    if (!address || !port) return std::nullopt;
    return Endpoint{*address, Port{*port}};
}

// "[2001:db8::10]:443"
std::optional<std::pair<Ipv6Address, std::uint16_t>> ipv6_endpoint(std::string_view text) {
    auto close = text.rfind("]:");
    if (text.empty() || text.front() != '[' || close == std::string_view::npos) return std::nullopt;
    auto address = Ipv6Address::parse(text.substr(1, close - 1));
    auto port = port_number(text.substr(close + 2));
    if (!address || !port) return std::nullopt;
    return std::pair{*address, *port};
}

Error not_understood(const std::vector<std::string>& words, std::size_t i, std::string_view forms) {
    bool has_value = i + 1 < words.size();
    return Error{std::string(forms) + "; '" + words[i] + (has_value ? " " + words[i + 1] : std::string()) +
                 "' is not understood"};
}

constexpr std::string_view ipv4_forms =
    "[--proto tcp|udp|icmp] [--host ADDRESS] [--port N] [--internal ADDRESS:PORT] [--remote ADDRESS:PORT]";
constexpr std::string_view ipv6_forms =
    "[--proto tcp|udp|icmpv6] [--host ADDRESS] [--port N] [--internal [ADDRESS]:PORT] [--remote [ADDRESS]:PORT]";

}  // namespace

bool FlowFilter::matches(const Flow& f) const {
    if (protocol && f.protocol != *protocol) return false;
    if (host && f.internal.address != *host && f.remote.address != *host) return false;
    if (port && f.internal.port.value != *port && f.external.value != *port && f.remote.port.value != *port)
        return false;
    if (internal && f.internal != *internal) return false;
    if (remote && f.remote != *remote) return false;
    return true;
}

bool Ipv6FlowFilter::matches(const Ipv6Flow& f) const {
    const Ipv6FlowKey& k = f.key;
    if (protocol && k.protocol != *protocol) return false;
    if (host && k.lan_address != *host && k.remote_address != *host) return false;
    if (port && k.lan_port != *port && k.remote_port != *port) return false;
    if (internal && (k.lan_address != internal->first || k.lan_port != internal->second)) return false;
    if (remote && (k.remote_address != remote->first || k.remote_port != remote->second)) return false;
    return true;
}

Expected<FlowFilter, Error> parse_flow_filter(const std::vector<std::string>& words, std::size_t first) {
    FlowFilter filter;
    for (std::size_t i = first; i < words.size(); i += 2) {
        const bool has_value = i + 1 < words.size();
        const std::string value = has_value ? words[i + 1] : "";
        if (words[i] == "--proto" && has_value) {
            if (value == "tcp") filter.protocol = Protocol::tcp;
            if (value == "udp") filter.protocol = Protocol::udp;
            if (value == "icmp") filter.protocol = Protocol::icmp;
            if (filter.protocol) continue;
        }
        if (words[i] == "--host" && has_value && (filter.host = Ipv4Address::parse(value))) continue;
        if (words[i] == "--port" && has_value && (filter.port = port_number(value))) continue;
        if (words[i] == "--internal" && has_value && (filter.internal = ipv4_endpoint(value))) continue;
        if (words[i] == "--remote" && has_value && (filter.remote = ipv4_endpoint(value))) continue;
        return unexpected(not_understood(words, i, ipv4_forms));
    }
    return filter;
}

Expected<Ipv6FlowFilter, Error> parse_ipv6_flow_filter(const std::vector<std::string>& words, std::size_t first) {
    Ipv6FlowFilter filter;
    for (std::size_t i = first; i < words.size(); i += 2) {
        const bool has_value = i + 1 < words.size();
        const std::string value = has_value ? words[i + 1] : "";
        if (words[i] == "--proto" && has_value) {
            if (value == "tcp") filter.protocol = 6;
            if (value == "udp") filter.protocol = 17;
            if (value == "icmpv6") filter.protocol = 58;
            if (filter.protocol) continue;
        }
        if (words[i] == "--host" && has_value && (filter.host = Ipv6Address::parse(value))) continue;
        if (words[i] == "--port" && has_value && (filter.port = port_number(value))) continue;
        if (words[i] == "--internal" && has_value && (filter.internal = ipv6_endpoint(value))) continue;
        if (words[i] == "--remote" && has_value && (filter.remote = ipv6_endpoint(value))) continue;
        return unexpected(not_understood(words, i, ipv6_forms));
    }
    return filter;
}

std::vector<FlowCopy> snapshot_flows(const LockedEngine& engine, const FlowFilter& filter, Instant now,
                                     std::size_t per_hold) {
    std::vector<FlowCopy> copied;
    FlowId next = 1;
    do {
        // Room made outside the hold (doubling, so the whole copy stays linear): a part
        // never allocates with the lock held.
        if (copied.capacity() < copied.size() + per_hold)
            copied.reserve(std::max(2 * copied.capacity(), copied.size() + per_hold));
        next = engine.with([&](const PacketEngine& e) {
            return e.flows().for_each_from(next, per_hold, [&](const Flow& f) {
                if (filter.matches(f)) copied.push_back({f, e.flows().idle_left(f, now)});
            });
        });
    } while (next != 0);
    return copied;
}

// Records looked at per hold: as many as the copy's parts look at at most (8 per flow).
std::size_t end_flows(LockedEngine& engine, const FlowFilter& filter, std::size_t per_hold) {
    std::size_t ended = 0;
    FlowId next = 1;
    do {
        next = engine.with([&](PacketEngine& e) {
            return e.end_flows_from(next, 8 * per_hold, [&](const Flow& f) { return filter.matches(f); }, ended);
        });
    } while (next != 0);
    return ended;
}

std::size_t end_ipv6_flows(LockedEngine& engine, const Ipv6FlowFilter& filter, std::size_t per_hold) {
    std::size_t ended = 0;
    Ipv6FlowId next = 1;
    do {
        next = engine.with([&](PacketEngine& e) {
            return e.end_ipv6_flows_from(next, 8 * per_hold, [&](const Ipv6Flow& f) { return filter.matches(f); },
                                         ended);
        });
    } while (next != 0);
    return ended;
}

}  // namespace gw

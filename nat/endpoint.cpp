#include "endpoint.hpp"

#include <charconv>

namespace gw {
namespace {

// Parses a decimal number with no sign, no spaces and no leading '+'; nullopt otherwise.
std::optional<std::uint32_t> parse_decimal(std::string_view text, std::uint32_t max) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
    std::uint32_t value = 0;
    for (int octet = 0; octet < 4; ++octet) {
        auto dot = text.find('.');
        bool last = octet == 3;
        if (last != (dot == std::string_view::npos)) return std::nullopt;
        auto part = last ? text : text.substr(0, dot);
        // Leading zeros are refused: "010" means 8 to inet_aton and 10 to humans.
        if (part.size() > 1 && part[0] == '0') return std::nullopt;
        auto n = parse_decimal(part, 255);
        if (!n) return std::nullopt;
        value = (value << 8) | *n;
        if (!last) text.remove_prefix(dot + 1);
    }
    return Ipv4Address(value);
}

std::string Ipv4Address::to_string() const {
    return std::to_string(value_ >> 24) + '.' + std::to_string((value_ >> 16) & 0xff) + '.' +
           std::to_string((value_ >> 8) & 0xff) + '.' + std::to_string(value_ & 0xff);
}

std::optional<Ipv4Network> Ipv4Network::parse(std::string_view text) {
    auto slash = text.find('/');
    auto address = Ipv4Address::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    std::uint32_t prefix = 32;
    if (slash != std::string_view::npos) {
        auto n = parse_decimal(text.substr(slash + 1), 32);
        if (!n) return std::nullopt;
        prefix = *n;
    }
    return Ipv4Network{*address, std::uint8_t(prefix)};
}

std::string Ipv4Network::to_string() const {
    return base.to_string() + '/' + std::to_string(prefix_length);
}

std::optional<PortRange> PortRange::parse(std::string_view text) {
    auto dash = text.find('-');
    auto first = parse_decimal(text.substr(0, dash), 65535);
    if (!first) return std::nullopt;
    auto last = first;
    if (dash != std::string_view::npos) last = parse_decimal(text.substr(dash + 1), 65535);
    if (!last || *last < *first) return std::nullopt;
    return PortRange{std::uint16_t(*first), std::uint16_t(*last)};
}

std::string PortRange::to_string() const {
    if (first == last) return std::to_string(first);
    return std::to_string(first) + '-' + std::to_string(last);
}

std::string_view protocol_name(Protocol p) {
    switch (p) {
        case Protocol::icmp: return "icmp";
        case Protocol::tcp: return "tcp";
        case Protocol::udp: return "udp";
    }
    return "unknown";
}

std::string to_string(const Endpoint& e) {
    return e.address.to_string() + ':' + std::to_string(e.port.value);
}

}  // namespace gw

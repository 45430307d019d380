#include "ipv6_address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace gw {

// inet_pton/inet_ntop are pure conversions (no I/O); they follow RFC 4291 parsing and
// RFC 5952 output, which a hand-written parser would only get subtly wrong.
std::optional<Ipv6Address> Ipv6Address::parse(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    std::string nul_terminated(text);
    Bytes bytes{};
    if (inet_pton(AF_INET6, nul_terminated.c_str(), bytes.data()) != 1) return std::nullopt;
    return Ipv6Address(bytes);
}

std::string Ipv6Address::to_string() const {
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, bytes_.data(), text, sizeof text)) return "?";
    return text;
}

std::optional<Ipv6Network> Ipv6Network::parse(std::string_view text) {
    auto slash = text.find('/');
    auto address = Ipv6Address::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    unsigned prefix = 128;
    if (slash != std::string_view::npos) {
        std::string_view digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3) return std::nullopt;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (ec != std::errc() || end != digits.data() + digits.size() || prefix > 128) return std::nullopt;
    }
    return Ipv6Network{*address, std::uint8_t(prefix)};
}

bool Ipv6Network::contains(const Ipv6Address& a) const {
    const auto& x = a.bytes();
    const auto& b = base.bytes();
    unsigned full = prefix_length / 8, rest = prefix_length % 8;
    for (unsigned i = 0; i < full; ++i)
        if (x[i] != b[i]) return false;
    if (rest == 0) return true;
    auto mask = std::uint8_t(0xff << (8 - rest));
    return (x[full] & mask) == (b[full] & mask);
}

std::string Ipv6Network::to_string() const { return base.to_string() + '/' + std::to_string(prefix_length); }

}  // namespace gw

// IPv6 addresses and prefixes (issue 8): the IPv6 firewall, its pinholes and the front
// ends that open them (UPnP WANIPv6FirewallControl, PCP) speak these. No NAT for IPv6:
// nothing here is rewritten, only matched.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

class Ipv6Address {
public:
    using Bytes = std::array<std::uint8_t, 16>;  // network order, as on the wire

    constexpr Ipv6Address() = default;
    constexpr explicit Ipv6Address(const Bytes& bytes) : bytes_(bytes) {}
    // RFC 4291 text ("2001:db8::1", "::ffff:192.0.2.1"), no zone index, no brackets;
    // nullopt for anything else.
    static std::optional<Ipv6Address> parse(std::string_view text);

    constexpr const Bytes& bytes() const { return bytes_; }
    // RFC 5952 canonical text: lower case, longest zero run as "::".
    std::string to_string() const;

    constexpr bool is_unspecified() const { return *this == Ipv6Address(); }
    constexpr bool is_multicast() const { return bytes_[0] == 0xff; }
    constexpr bool is_link_local() const { return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80; }
    // ::ffff:a.b.c.d (PCP carries IPv4 addresses this way, RFC 6887 section 5).
    constexpr bool is_v4_mapped() const {
        for (int i = 0; i < 10; ++i)
            if (bytes_[i] != 0) return false;
        return bytes_[10] == 0xff && bytes_[11] == 0xff;
    }

    constexpr auto operator<=>(const Ipv6Address&) const = default;

private:
    Bytes bytes_{};
};

// A prefix such as 2001:db8:1::/48.
struct Ipv6Network {
    Ipv6Address base;
    std::uint8_t prefix_length = 128;

    // "2001:db8::/32"; a bare address is a /128. nullopt when malformed or over /128.
    static std::optional<Ipv6Network> parse(std::string_view text);
    bool contains(const Ipv6Address& a) const;
    std::string to_string() const;
    constexpr bool operator==(const Ipv6Network&) const = default;
};

}  // namespace gw

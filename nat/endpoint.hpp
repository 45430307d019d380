// The addressing vocabulary of the packet path: addresses, ports, protocols and
// endpoints in host byte order. Byte order is converted once, in wire_headers.hpp;
// everything above the parser works with these types, never with raw integers.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

class Ipv4Address {
public:
    constexpr Ipv4Address() = default;
    constexpr explicit Ipv4Address(std::uint32_t host_order) : value_(host_order) {}
    static constexpr Ipv4Address from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
        return Ipv4Address((std::uint32_t(a) << 24) | (std::uint32_t(b) << 16) | (std::uint32_t(c) << 8) | d);
    }
    // Strict dotted quad ("10.0.0.1"); nullopt for anything else.
    static std::optional<Ipv4Address> parse(std::string_view text);

    constexpr std::uint32_t host_order() const { return value_; }
    std::string to_string() const;

    constexpr auto operator<=>(const Ipv4Address&) const = default;

private:
    std::uint32_t value_ = 0;
};

// An address block such as 192.168.1.0/24.
struct Ipv4Network {
    Ipv4Address base;
    std::uint8_t prefix_length = 32;

    static std::optional<Ipv4Network> parse(std::string_view text);
    constexpr std::uint32_t mask() const {
        return prefix_length == 0 ? 0 : ~std::uint32_t(0) << (32 - prefix_length);
    }
    constexpr bool contains(Ipv4Address a) const {
        return (a.host_order() & mask()) == (base.host_order() & mask());
    }
    std::string to_string() const;
    constexpr bool operator==(const Ipv4Network&) const = default;
};

// A TCP/UDP port or an ICMP echo identifier: the 16-bit field that NAPT rewrites.
struct Port {
    std::uint16_t value = 0;
    constexpr auto operator<=>(const Port&) const = default;
};

// Inclusive range of ports, e.g. the external ports the NAT may hand out.
struct PortRange {
    std::uint16_t first = 1024;
    std::uint16_t last = 65535;

    // "1024-65535" or a single "5004"; nullopt when malformed, out of 0..65535 or reversed.
    static std::optional<PortRange> parse(std::string_view text);
    constexpr bool contains(Port p) const { return p.value >= first && p.value <= last; }
    constexpr std::uint32_t size() const { return std::uint32_t(last) - first + 1; }
    std::string to_string() const;
    constexpr bool operator==(const PortRange&) const = default;
};

enum class Protocol : std::uint8_t { icmp = 1, tcp = 6, udp = 17 };

std::string_view protocol_name(Protocol p);

struct Endpoint {
    Ipv4Address address;
    Port port;
    constexpr auto operator<=>(const Endpoint&) const = default;
};

std::string to_string(const Endpoint& e);

}  // namespace gw

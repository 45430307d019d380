// Builds IPv6 test packets as plain bytes (issue 8): the fixed header, extension
// headers in any order (well-formed or not), TCP/UDP/ICMPv6 upper layers, and ICMPv6
// errors quoting another packet. Checksums are filled with the RFC 8200 §8.1 pseudo
// header; the firewall does not verify them, but captures and the lab should see
// real packets. Header-only, like packet_builder.hpp.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "nat/ipv6_address.hpp"
#include "packet_builder.hpp"

namespace gw::test::v6 {

inline Ipv6Address address(std::string_view text) { return Ipv6Address::parse(text).value(); }
inline Ipv6Network prefix(std::string_view text) { return Ipv6Network::parse(text).value(); }

// The addressing plan: LAN 2001:db8:1::/64, hosts on the Internet in 2001:db8:ff::/64.
inline const Ipv6Address lan_host = address("2001:db8:1::10");
inline const Ipv6Address lan_host_2 = address("2001:db8:1::11");
inline const Ipv6Address remote_host = address("2001:db8:ff::2");
inline const Ipv6Address other_remote_host = address("2001:db8:ff::3");
inline const Ipv6Address path_router = address("2001:db8:ff::1");
inline const Ipv6Address link_local = address("fe80::1");

inline constexpr std::uint8_t hop_by_hop = 0, tcp_proto = 6, udp_proto = 17, routing = 43, fragment = 44,
                              icmpv6 = 58, no_next = 59, destination_options = 60;

namespace icmp6 {
inline constexpr std::uint8_t destination_unreachable = 1, packet_too_big = 2, time_exceeded = 3,
                              parameter_problem = 4, echo_request = 128, echo_reply = 129, router_solicitation = 133,
                              router_advertisement = 134, neighbor_solicitation = 135, redirect = 137,
                              node_information_query = 139, mld_report = 143;
}

// One extension header: its type and its bytes after the next-header byte. The builder
// fills in the next-header byte; the length byte is the caller's (so it can lie).
struct Extension {
    std::uint8_t type;
    Bytes body;  // from the length byte on
};

// Hop-by-hop / destination options of 8 bytes: length 0, a PadN option.
inline Extension options_header(std::uint8_t type) { return {type, {0, 1, 4, 0, 0, 0, 0}}; }
inline Extension routing_header(std::uint8_t routing_type, std::uint8_t segments_left) {
    Bytes body{0, routing_type, segments_left, 0, 0, 0, 0};  // length 0: no addresses, for the walk only
    return {routing, body};
}
inline Extension fragment_header(std::uint16_t offset_units, bool more, std::uint32_t identification) {
    Bytes body(7);
    body[0] = 0;  // reserved
    std::uint16_t field = std::uint16_t((offset_units << 3) | (more ? 1 : 0));
    body[1] = std::uint8_t(field >> 8);
    body[2] = std::uint8_t(field);
    body[3] = std::uint8_t(identification >> 24);
    body[4] = std::uint8_t(identification >> 16);
    body[5] = std::uint8_t(identification >> 8);
    body[6] = std::uint8_t(identification);
    return {fragment, body};
}

inline std::uint16_t checksum_of(Ipv6Address source, Ipv6Address destination, std::uint8_t protocol,
                                 const Bytes& upper) {
    Bytes pseudo;
    pseudo.insert(pseudo.end(), source.bytes().begin(), source.bytes().end());
    pseudo.insert(pseudo.end(), destination.bytes().begin(), destination.bytes().end());
    std::uint32_t length = std::uint32_t(upper.size());
    for (int shift : {24, 16, 8, 0}) pseudo.push_back(std::uint8_t(length >> shift));
    pseudo.insert(pseudo.end(), {0, 0, 0, protocol});
    pseudo.insert(pseudo.end(), upper.begin(), upper.end());
    return std::uint16_t(~ones_sum(pseudo));
}

// The fixed header, the extension headers in order, then `upper` with `protocol`.
inline Packet ipv6(Ipv6Address source, Ipv6Address destination, std::uint8_t protocol, Bytes upper,
                   const std::vector<Extension>& extensions = {}) {
    const std::size_t checksum_at = protocol == tcp_proto ? 16 : protocol == udp_proto ? 6 : protocol == icmpv6 ? 2 : 0;
    if (checksum_at != 0 && upper.size() >= checksum_at + 2) {
        put16(upper, checksum_at, 0);
        put16(upper, checksum_at, checksum_of(source, destination, protocol, upper));
    }
    Bytes chain;
    for (std::size_t i = 0; i < extensions.size(); ++i) {
        chain.push_back(i + 1 < extensions.size() ? extensions[i + 1].type : protocol);
        chain.insert(chain.end(), extensions[i].body.begin(), extensions[i].body.end());
    }
    Packet p(40);
    p[0] = 0x60;
    put16(p, 4, std::uint16_t(chain.size() + upper.size()));
    p[6] = extensions.empty() ? protocol : extensions.front().type;
    p[7] = 64;
    std::copy(source.bytes().begin(), source.bytes().end(), p.begin() + 8);
    std::copy(destination.bytes().begin(), destination.bytes().end(), p.begin() + 24);
    p.insert(p.end(), chain.begin(), chain.end());
    p.insert(p.end(), upper.begin(), upper.end());
    return p;
}

inline Packet tcp(Ipv6Address source, std::uint16_t sport, Ipv6Address destination, std::uint16_t dport,
                  std::uint8_t flags, TcpNumbers numbers = {}, const Bytes& payload = {},
                  const std::vector<Extension>& extensions = {}) {
    Bytes l4(20);
    put16(l4, 0, sport);
    put16(l4, 2, dport);
    put32(l4, 4, numbers.sequence);
    put32(l4, 8, (flags & tcp_flag::ack) ? numbers.acknowledgment : 0);
    l4[12] = 5 << 4;
    l4[13] = flags;
    put16(l4, 14, numbers.window);
    l4.insert(l4.end(), payload.begin(), payload.end());
    return ipv6(source, destination, tcp_proto, l4, extensions);
}

inline Packet udp(Ipv6Address source, std::uint16_t sport, Ipv6Address destination, std::uint16_t dport,
                  const Bytes& payload = {}, const std::vector<Extension>& extensions = {}) {
    Bytes l4(8);
    put16(l4, 0, sport);
    put16(l4, 2, dport);
    put16(l4, 4, std::uint16_t(8 + payload.size()));
    l4.insert(l4.end(), payload.begin(), payload.end());
    return ipv6(source, destination, udp_proto, l4, extensions);
}

inline Packet icmp(Ipv6Address source, Ipv6Address destination, std::uint8_t type, std::uint8_t code = 0,
                   std::uint16_t identifier = 0, std::uint16_t sequence = 0) {
    Bytes l4(8);
    l4[0] = type;
    l4[1] = code;
    put16(l4, 4, identifier);
    put16(l4, 6, sequence);
    return ipv6(source, destination, icmpv6, l4);
}

inline Packet echo(Ipv6Address source, Ipv6Address destination, std::uint8_t type, std::uint16_t identifier,
                   std::uint16_t sequence = 1) {
    return icmp(source, destination, type, 0, identifier, sequence);
}

// An ICMPv6 error from `from` to `to` quoting `quoted` (RFC 4443 §2.4: as much as fits
// in the minimum MTU; here `quote_length` bytes). For Packet Too Big the MTU goes in
// the 32-bit field after the checksum.
inline Packet icmp_error(std::uint8_t type, std::uint8_t code, Ipv6Address from, Ipv6Address to, const Packet& quoted,
                         std::size_t quote_length = 1232, std::uint32_t mtu = 0) {
    Bytes l4(8);
    l4[0] = type;
    l4[1] = code;
    put32(l4, 4, mtu);
    l4.insert(l4.end(), quoted.begin(), quoted.begin() + std::ptrdiff_t(std::min(quote_length, quoted.size())));
    return ipv6(from, to, icmpv6, l4);
}

}  // namespace gw::test::v6

// Builds IPv4 test packets as plain bytes, reads their fields back, and checks their
// checksums by full recomputation.
//
// The checksum oracle here is deliberately independent of nat/checksum.hpp: the engine
// keeps checksums right by incremental update (RFC 1624), and an oracle sharing its
// arithmetic would share its mistakes. Everything below recomputes from scratch with
// the plain RFC 1071 sum, word by word.
//
// Header-only so that every *_test.cpp can use it without a change to the build.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nat/drop_reason.hpp"
#include "nat/endpoint.hpp"
#include "nat/mapping.hpp"

namespace gw::test {

using Packet = std::vector<std::uint8_t>;
using Bytes = std::vector<std::uint8_t>;

// The engine time tests start at: far enough from 0 that "earlier" is representable.
inline constexpr Instant t0 = std::chrono::milliseconds(1'000'000);

// Wire numbers, spelled out here rather than taken from the engine's headers.
inline constexpr std::uint8_t ip_icmp = 1, ip_tcp = 6, ip_udp = 17, ip_gre = 47;
namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}
namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0, destination_unreachable = 3, echo_request = 8, time_exceeded = 11,
                              parameter_problem = 12;
}
namespace icmp_code {
inline constexpr std::uint8_t port_unreachable = 3, fragmentation_needed = 4, ttl_exceeded_in_transit = 0;
}

// The addressing plan of every test: the gateway's WAN address, LAN hosts (all in
// 192.168.0.0/16), and hosts on the Internet (TEST-NET-2, RFC 5737: never martian,
// never LAN, so anti-spoofing lets them in).
inline constexpr Ipv4Address wan_address = Ipv4Address::from_octets(203, 0, 113, 1);
inline constexpr Ipv4Address host_a = Ipv4Address::from_octets(192, 168, 1, 10);
inline constexpr Ipv4Address host_b = Ipv4Address::from_octets(192, 168, 1, 11);
inline constexpr Ipv4Address server = Ipv4Address::from_octets(198, 51, 100, 7);
inline constexpr Ipv4Address other_server = Ipv4Address::from_octets(198, 51, 100, 8);
inline constexpr Ipv4Address router = Ipv4Address::from_octets(198, 51, 100, 1);

constexpr Endpoint at(Ipv4Address address, std::uint16_t port) { return {address, Port{port}}; }

// ---- Byte access (big-endian, as on the wire) -------------------------------------

inline std::uint16_t get16(const Packet& p, std::size_t offset) {
    return std::uint16_t((p.at(offset) << 8) | p.at(offset + 1));
}
inline void put16(Packet& p, std::size_t offset, std::uint16_t v) {
    p.at(offset) = std::uint8_t(v >> 8);
    p.at(offset + 1) = std::uint8_t(v);
}
inline std::uint32_t get32(const Packet& p, std::size_t offset) {
    return (std::uint32_t(get16(p, offset)) << 16) | get16(p, offset + 2);
}
inline void put32(Packet& p, std::size_t offset, std::uint32_t v) {
    put16(p, offset, std::uint16_t(v >> 16));
    put16(p, offset + 2, std::uint16_t(v));
}

inline std::size_t ip_header_length(const Packet& p) { return std::size_t(p.at(0) & 0x0f) * 4; }
inline std::uint16_t total_length(const Packet& p) { return get16(p, 2); }
inline std::uint8_t protocol_of(const Packet& p) { return p.at(9); }
inline Ipv4Address source_address(const Packet& p) { return Ipv4Address(get32(p, 12)); }
inline Ipv4Address destination_address(const Packet& p) { return Ipv4Address(get32(p, 16)); }
inline bool more_fragments(const Packet& p) { return get16(p, 6) & 0x2000; }
inline std::uint16_t fragment_offset_units(const Packet& p) { return get16(p, 6) & 0x1fff; }
inline bool is_fragment(const Packet& p) { return more_fragments(p) || fragment_offset_units(p) != 0; }

// ---- The checksum oracle ------------------------------------------------------------

// RFC 1071: the ones-complement sum of big-endian 16-bit words (an odd last byte is
// padded with zero), folded to 16 bits, not complemented.
inline std::uint16_t ones_sum(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) {
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        std::uint32_t high = bytes[i];
        std::uint32_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += (high << 8) | low;
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return std::uint16_t(sum);
}

// The TCP/UDP pseudo-header (source, destination, zero, protocol, length), summed.
inline std::uint16_t pseudo_header_partial_sum(Ipv4Address source, Ipv4Address destination, std::uint8_t protocol,
                                               std::uint16_t l4_length) {
    Packet words(12);
    put32(words, 0, source.host_order());
    put32(words, 4, destination.host_order());
    words[9] = protocol;
    put16(words, 10, l4_length);
    return ones_sum(words);
}

inline std::size_t l4_checksum_offset(std::uint8_t protocol) {
    return protocol == ip_tcp ? 16 : protocol == ip_udp ? 6 : 2;
}

inline std::span<const std::uint8_t> l4_of(const Packet& p) {
    std::size_t end = std::min<std::size_t>(total_length(p), p.size());
    return {p.data() + ip_header_length(p), end - ip_header_length(p)};
}

inline std::uint16_t l4_checksum_field(const Packet& p) {
    return get16(p, ip_header_length(p) + l4_checksum_offset(protocol_of(p)));
}

// The transport checksum of the packet as a full computation gives it, with the field
// taken as zero, before RFC 768's "0 is sent as all ones" for UDP.
inline std::uint16_t raw_l4_checksum(const Packet& p) {
    Packet l4(l4_of(p).begin(), l4_of(p).end());
    put16(l4, l4_checksum_offset(protocol_of(p)), 0);
    std::uint32_t initial = 0;
    if (protocol_of(p) != ip_icmp)
        initial = pseudo_header_partial_sum(source_address(p), destination_address(p), protocol_of(p),
                                            std::uint16_t(l4.size()));
    return std::uint16_t(~ones_sum(l4, initial));
}

inline void refresh_ip_checksum(Packet& p) {
    put16(p, 10, 0);
    std::size_t length = std::min(ip_header_length(p), p.size());
    put16(p, 10, std::uint16_t(~ones_sum({p.data(), length})));
}

inline void refresh_l4_checksum(Packet& p) {
    std::uint16_t checksum = raw_l4_checksum(p);
    if (checksum == 0 && protocol_of(p) == ip_udp) checksum = 0xffff;  // RFC 768
    put16(p, ip_header_length(p) + l4_checksum_offset(protocol_of(p)), checksum);
}

// What is wrong with the packet's checksums, recomputed in full: the IP header; the
// TCP/UDP checksum with its pseudo-header (a UDP 0 means "none"); the ICMP checksum;
// and for an ICMP error, the quoted datagram's IP header and, when the quote holds the
// whole datagram, its transport checksum too. Empty when all are right. Fragments
// only have their IP header checked: their transport checksum covers the reassembly.
inline std::string checksum_errors(const Packet& p, const std::string& prefix = "") {
    if (p.size() < 20 || (p[0] >> 4) != 4 || ip_header_length(p) < 20 || ip_header_length(p) > p.size())
        return prefix + "not an IPv4 packet; ";
    std::string errors;
    if (ones_sum({p.data(), ip_header_length(p)}) != 0xffff) errors += prefix + "IP header checksum; ";
    if (is_fragment(p)) return errors;
    if (total_length(p) > p.size() || total_length(p) < ip_header_length(p)) {
        // A quoted datagram is usually cut short: its transport checksum cannot be checked.
        if (prefix.empty()) errors += "total length beyond the packet; ";
        return errors;
    }
    auto l4 = l4_of(p);
    std::uint32_t pseudo = pseudo_header_partial_sum(source_address(p), destination_address(p), protocol_of(p),
                                                     std::uint16_t(l4.size()));
    switch (protocol_of(p)) {
        case ip_tcp:
            if (l4.size() < 20) return errors + prefix + "TCP header cut short; ";
            if (ones_sum(l4, pseudo) != 0xffff) errors += prefix + "TCP checksum; ";
            break;
        case ip_udp:
            if (l4.size() < 8) return errors + prefix + "UDP header cut short; ";
            if (l4_checksum_field(p) != 0 && ones_sum(l4, pseudo) != 0xffff) errors += prefix + "UDP checksum; ";
            break;
        case ip_icmp: {
            if (l4.size() < 8) return errors + prefix + "ICMP header cut short; ";
            if (ones_sum(l4) != 0xffff) errors += prefix + "ICMP checksum; ";
            std::uint8_t type = l4[0];
            bool error = type == icmp_type::destination_unreachable || type == icmp_type::time_exceeded ||
                         type == icmp_type::parameter_problem;
            if (error && l4.size() >= 8 + 20) errors += checksum_errors(Packet(l4.begin() + 8, l4.end()), prefix + "quoted ");
            break;
        }
        default: break;
    }
    return errors;
}

inline bool checksums_valid(const Packet& p) { return checksum_errors(p).empty(); }

// ---- Building packets -----------------------------------------------------------------

// An IPv4 header (no options, TTL 64, fixed identification, DF set as Linux sets it on
// every socket by default: an atomic datagram, whose identification the NAT keeps) in front of `l4`.
inline Packet ipv4(Ipv4Address source, Ipv4Address destination, std::uint8_t protocol, const Bytes& l4) {
    Packet p(20);
    p[0] = 0x45;
    put16(p, 2, std::uint16_t(20 + l4.size()));
    put16(p, 4, 0x1c46);
    put16(p, 6, 0x4000);
    p[8] = 64;
    p[9] = protocol;
    put32(p, 12, source.host_order());
    put32(p, 16, destination.host_order());
    p.insert(p.end(), l4.begin(), l4.end());
    refresh_ip_checksum(p);
    return p;
}

// The numbers of a TCP segment; the acknowledgment goes on the wire only with the ACK flag.
struct TcpNumbers {
    std::uint32_t sequence = 0x01020304;
    std::uint32_t acknowledgment = 0x0a0b0c0d;
    std::uint16_t window = 64240;
};

inline Packet tcp(Endpoint source, Endpoint destination, std::uint8_t flags, TcpNumbers numbers,
                  const Bytes& payload = {}) {
    Bytes l4(20);
    put16(l4, 0, source.port.value);
    put16(l4, 2, destination.port.value);
    put32(l4, 4, numbers.sequence);
    put32(l4, 8, (flags & tcp_flag::ack) ? numbers.acknowledgment : 0);
    l4[12] = 5 << 4;  // data offset: 20 bytes
    l4[13] = flags;
    put16(l4, 14, numbers.window);
    l4.insert(l4.end(), payload.begin(), payload.end());
    Packet p = ipv4(source.address, destination.address, ip_tcp, l4);
    refresh_l4_checksum(p);
    return p;
}

// A segment with fixed numbers, for tests where no state machine judges them.
inline Packet tcp(Endpoint source, Endpoint destination, std::uint8_t flags, const Bytes& payload = {}) {
    return tcp(source, destination, flags, TcpNumbers{}, payload);
}

inline Packet udp(Endpoint source, Endpoint destination, const Bytes& payload = {}, bool with_checksum = true) {
    Bytes l4(8);
    put16(l4, 0, source.port.value);
    put16(l4, 2, destination.port.value);
    put16(l4, 4, std::uint16_t(8 + payload.size()));
    l4.insert(l4.end(), payload.begin(), payload.end());
    Packet p = ipv4(source.address, destination.address, ip_udp, l4);
    if (with_checksum) refresh_l4_checksum(p);
    return p;
}

inline Packet icmp_echo(Ipv4Address source, Ipv4Address destination, std::uint8_t type, std::uint16_t identifier,
                        std::uint16_t sequence, const Bytes& payload = {}) {
    Bytes l4(8);
    l4[0] = type;
    put16(l4, 4, identifier);
    put16(l4, 6, sequence);
    l4.insert(l4.end(), payload.begin(), payload.end());
    Packet p = ipv4(source, destination, ip_icmp, l4);
    refresh_l4_checksum(p);
    return p;
}

// An ICMP error from `from` to `to` quoting the first `quote_length` bytes of `quoted`
// (RFC 792: at least the IP header and 8 bytes). For "fragmentation needed" the
// next-hop MTU goes in the low half of the rest-of-header (RFC 1191).
inline Packet icmp_error(std::uint8_t type, std::uint8_t code, Ipv4Address from, Ipv4Address to, const Packet& quoted,
                         std::size_t quote_length, std::uint16_t next_hop_mtu = 0) {
    Bytes l4(8);
    l4[0] = type;
    l4[1] = code;
    put16(l4, 6, next_hop_mtu);
    l4.insert(l4.end(), quoted.begin(), quoted.begin() + std::ptrdiff_t(std::min(quote_length, quoted.size())));
    Packet p = ipv4(from, to, ip_icmp, l4);
    refresh_l4_checksum(p);
    return p;
}

inline Bytes payload_of_size(std::size_t n, std::uint8_t seed = 0x30) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = std::uint8_t(seed + i * 7);
    return b;
}

// ---- Editing packets (each returns a copy; the IP header checksum is kept right) ------

inline Packet with_identification(Packet p, std::uint16_t id) {
    put16(p, 4, id);
    refresh_ip_checksum(p);
    return p;
}

// DF clear: a datagram a router may fragment (non-atomic, RFC 6864 §4), whose
// identification the NAT rewrites (RFC 7857 §10).
inline Packet may_fragment(Packet p) {
    put16(p, 6, std::uint16_t(get16(p, 6) & ~0x4000));
    refresh_ip_checksum(p);
    return p;
}

inline Packet with_fragment_fields(Packet p, bool more_fragments, std::uint16_t offset_units) {
    put16(p, 6, std::uint16_t((get16(p, 6) & 0xc000) | (more_fragments ? 0x2000 : 0) | (offset_units & 0x1fff)));
    refresh_ip_checksum(p);
    return p;
}

// Splits a whole datagram as a router would: every fragment but the last carries
// `l4_bytes_per_fragment` transport bytes (a multiple of 8) and the MF flag. DF is
// cleared first: a router fragments only a datagram that allows it.
inline std::vector<Packet> fragments_of(const Packet& whole, std::size_t l4_bytes_per_fragment) {
    const Packet datagram = may_fragment(whole);
    std::size_t header = ip_header_length(datagram);
    auto l4 = l4_of(datagram);
    std::vector<Packet> fragments;
    for (std::size_t start = 0; start < l4.size(); start += l4_bytes_per_fragment) {
        std::size_t end = std::min(l4.size(), start + l4_bytes_per_fragment);
        Packet f(datagram.begin(), datagram.begin() + std::ptrdiff_t(header));
        f.insert(f.end(), l4.begin() + std::ptrdiff_t(start), l4.begin() + std::ptrdiff_t(end));
        put16(f, 2, std::uint16_t(f.size()));
        fragments.push_back(with_fragment_fields(f, end < l4.size(), std::uint16_t(start / 8)));
    }
    return fragments;
}

// Joins fragments (in any order) back into the datagram (DF clear, as it must have been).
inline Packet reassembled(std::vector<Packet> fragments) {
    std::sort(fragments.begin(), fragments.end(),
              [](const Packet& a, const Packet& b) { return fragment_offset_units(a) < fragment_offset_units(b); });
    Packet p(fragments.front().begin(), fragments.front().begin() + std::ptrdiff_t(ip_header_length(fragments.front())));
    for (const Packet& f : fragments) {
        auto l4 = l4_of(f);
        p.insert(p.end(), l4.begin(), l4.end());
    }
    put16(p, 2, std::uint16_t(p.size()));
    return with_fragment_fields(p, false, 0);
}

// Inserts IP options after the fixed header (a multiple of 4 bytes).
inline Packet with_ip_options(const Packet& p, const Bytes& options) {
    Packet q(p.begin(), p.begin() + 20);
    q.insert(q.end(), options.begin(), options.end());
    q.insert(q.end(), p.begin() + 20, p.end());
    q[0] = std::uint8_t(0x40 | ((20 + options.size()) / 4));
    put16(q, 2, std::uint16_t(total_length(p) + options.size()));
    refresh_ip_checksum(q);
    return q;
}

inline Packet with_ip_version(Packet p, std::uint8_t version) {
    p[0] = std::uint8_t((version << 4) | (p[0] & 0x0f));
    refresh_ip_checksum(p);
    return p;
}

// The IHL field, in 32-bit words, whatever the packet really holds.
inline Packet with_ip_header_length_field(Packet p, std::uint8_t words) {
    p[0] = std::uint8_t((p[0] & 0xf0) | (words & 0x0f));
    refresh_ip_checksum(p);
    return p;
}

inline Packet with_total_length_field(Packet p, std::uint16_t length) {
    put16(p, 2, length);
    refresh_ip_checksum(p);
    return p;
}

inline Packet with_protocol(Packet p, std::uint8_t protocol) {
    p[9] = protocol;
    refresh_ip_checksum(p);
    return p;
}

inline Packet with_broken_ip_checksum(Packet p) {
    p[10] ^= 0x5a;
    return p;
}

inline Packet with_tcp_data_offset_field(Packet p, std::uint8_t words) {
    std::size_t at = ip_header_length(p) + 12;
    p[at] = std::uint8_t((words << 4) | (p[at] & 0x0f));
    return p;
}

// The datagram cut to `length` bytes, its total length saying so (a well-formed
// packet whose transport part is short).
inline Packet cut_to(Packet p, std::size_t length) {
    p.resize(length);
    put16(p, 2, std::uint16_t(length));
    refresh_ip_checksum(p);
    return p;
}

// Only the first `length` bytes of the buffer; nothing else changed.
inline Packet first_bytes(Packet p, std::size_t length) {
    p.resize(length);
    return p;
}

// CHECKSUM_PARTIAL, as Linux hands a locally generated or GSO packet to NFQUEUE: the
// TCP/UDP checksum field holds only the pseudo-header sum, not complemented; the
// device (or skb_checksum_help) adds the transport bytes later.
inline Packet with_checksum_partial(Packet p) {
    put16(p, ip_header_length(p) + l4_checksum_offset(protocol_of(p)),
          pseudo_header_partial_sum(source_address(p), destination_address(p), protocol_of(p),
                                    std::uint16_t(l4_of(p).size())));
    return p;
}

// What the kernel does to a CHECKSUM_PARTIAL packet before it leaves: sum the transport
// bytes with the field as it stands, complement, store (0 goes out as all ones).
inline Packet finish_checksum_partial(Packet p) {
    std::uint16_t checksum = std::uint16_t(~ones_sum(l4_of(p)));
    put16(p, ip_header_length(p) + l4_checksum_offset(protocol_of(p)), checksum == 0 ? 0xffff : checksum);
    return p;
}

// ---- Reading packets back -------------------------------------------------------------

inline bool is_echo(const Packet& p) {
    std::uint8_t type = p.at(ip_header_length(p));
    return protocol_of(p) == ip_icmp && (type == icmp_type::echo_request || type == icmp_type::echo_reply);
}

// Address and port (or ICMP echo identifier, which serves both sides).
inline Endpoint source_of(const Packet& p) {
    std::size_t l4 = ip_header_length(p);
    if (protocol_of(p) == ip_tcp || protocol_of(p) == ip_udp) return at(source_address(p), get16(p, l4));
    if (is_echo(p)) return at(source_address(p), get16(p, l4 + 4));
    return at(source_address(p), 0);
}

inline Endpoint destination_of(const Packet& p) {
    std::size_t l4 = ip_header_length(p);
    if (protocol_of(p) == ip_tcp || protocol_of(p) == ip_udp) return at(destination_address(p), get16(p, l4 + 2));
    if (is_echo(p)) return at(destination_address(p), get16(p, l4 + 4));
    return at(destination_address(p), 0);
}

inline std::uint16_t icmp_next_hop_mtu(const Packet& p) { return get16(p, ip_header_length(p) + 6); }

// The datagram an ICMP error quotes.
inline Packet quoted_datagram(const Packet& icmp_error) {
    auto l4 = l4_of(icmp_error);
    return Packet(l4.begin() + 8, l4.end());
}

inline std::string hex_dump(const Packet& p) {
    static const char digits[] = "0123456789abcdef";
    std::string text = "[" + std::to_string(p.size()) + " bytes]";
    for (std::size_t i = 0; i < p.size(); ++i) {
        text += (i % 4 == 0) ? "  " : " ";
        text += digits[p[i] >> 4];
        text += digits[p[i] & 0x0f];
    }
    return text;
}

}  // namespace gw::test

// How packets and addressing values print when a check fails.
namespace Catch {
template <>
struct StringMaker<std::vector<std::uint8_t>> {
    static std::string convert(const std::vector<std::uint8_t>& p) { return gw::test::hex_dump(p); }
};
template <>
struct StringMaker<gw::Ipv4Address> {
    static std::string convert(gw::Ipv4Address a) { return a.to_string(); }
};
template <>
struct StringMaker<gw::Endpoint> {
    static std::string convert(const gw::Endpoint& e) { return gw::to_string(e); }
};
template <>
struct StringMaker<gw::Port> {
    static std::string convert(gw::Port p) { return std::to_string(p.value); }
};
template <>
struct StringMaker<gw::DropReason> {
    static std::string convert(gw::DropReason r) { return std::string(gw::drop_reason_name(r)); }
};
}  // namespace Catch

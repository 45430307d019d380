// A parsed IPv4 packet: typed views into the caller's buffer, bounds checked once
// here so that every later stage may read and rewrite in place without checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "drop_reason.hpp"
#include "wire_headers.hpp"

namespace gw {

struct PacketView {
    std::span<std::uint8_t> datagram;  // exactly total_length bytes (padding excluded)
    wire::Ipv4Header* ip = nullptr;
    std::uint8_t protocol = 0;         // raw IP protocol number
    // Transport bytes present in this packet (for a fragment: this fragment's share).
    std::uint8_t* l4 = nullptr;
    std::size_t l4_length = 0;
    // Exactly one of these is set when the packet carries a transport header we
    // understand: not for non-first fragments, not for unknown protocols.
    wire::TcpHeader* tcp = nullptr;
    wire::UdpHeader* udp = nullptr;
    wire::IcmpHeader* icmp = nullptr;

    bool is_fragment() const { return ip->is_fragment(); }
    bool is_first_fragment() const { return ip->is_fragment() && ip->fragment_offset_units() == 0; }
    bool is_later_fragment() const { return ip->fragment_offset_units() != 0; }
};

struct ParseResult {
    PacketView view;
    DropReason reason = DropReason::none;  // none: view is valid
    bool ok() const { return reason == DropReason::none; }
};

// Validates the IPv4 header (version, IHL, total length, header checksum) and the
// transport header of an unfragmented packet or first fragment.
ParseResult parse_ipv4(std::span<std::uint8_t> buffer) noexcept;

// Like parse_ipv4, for the first bytes of a packet (a log snapshot, the head a reject
// answer quotes): the datagram may run past `head`; the view covers what is there.
ParseResult parse_ipv4_head(std::span<std::uint8_t> head) noexcept;

// Validates a datagram quoted inside an ICMP error: the IP header must be whole and
// at least the first 8 bytes of its transport header present (RFC 792); the quoted
// total length may exceed what was quoted, so it is not checked, nor its checksum.
ParseResult parse_quoted_ipv4(std::span<std::uint8_t> quoted) noexcept;

}  // namespace gw

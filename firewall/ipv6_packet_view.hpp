// An IPv6 packet parsed for the firewall (issue 8): the fixed header, the extension
// header chain walked to the upper-layer header, and what the firewall matches on
// (addresses, protocol, ports or ICMPv6 type). No NAT for IPv6, so nothing is rewritten
// and the view only reads. Bounds are checked once, here; a malformed packet comes back
// as a DropReason, never as a view.
//
// Pure and noexcept: no I/O, no allocation. The view points into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "nat/drop_reason.hpp"
#include "nat/ipv6_address.hpp"

namespace gw {

namespace ipv6_protocol {
// IANA protocol numbers the chain walk and the firewall name.
inline constexpr std::uint8_t hop_by_hop = 0, tcp = 6, udp = 17, routing = 43, fragment = 44, esp = 50, ah = 51,
                              icmpv6 = 58, no_next_header = 59, destination_options = 60;
}  // namespace ipv6_protocol

struct Ipv6Fragment {
    std::uint32_t identification = 0;
    std::uint16_t offset_units = 0;  // in 8-byte units
    bool more = false;
    // Where the fragment header starts (the unfragmentable part ends) and how many bytes
    // of the fragmentable part follow it in this packet.
    std::uint16_t header_offset = 0;
    std::uint16_t data_length = 0;
    // RFC 6946: a fragment header with offset 0 and M clear is a whole packet.
    bool is_atomic() const noexcept { return offset_units == 0 && !more; }
    bool is_later() const noexcept { return offset_units != 0; }
};

struct Ipv6PacketView {
    static constexpr std::size_t fixed_header_length = 40;

    Ipv6Address source, destination;
    // The packet's bytes as its payload length gives them, the fixed header on (what the
    // rule and flow byte counters add; link-layer padding beyond it is not the packet's).
    // A quoted datagram: the bytes quoted.
    std::size_t length = 0;
    std::uint8_t protocol = ipv6_protocol::no_next_header;  // the upper-layer header's
    std::size_t extension_headers = 0;                       // how many the walk crossed
    std::optional<Ipv6Fragment> fragment;                    // a fragment header was present
    // The upper-layer header and what follows, within the payload length; empty for a
    // later fragment (its bytes are the middle of some datagram) and for no-next-header.
    std::span<const std::uint8_t> upper_layer;
    // TCP/UDP ports, or the ICMPv6 echo identifier in source_port (destination_port 0).
    bool has_ports = false;
    std::uint16_t source_port = 0, destination_port = 0;
    bool has_icmp_header = false;
    std::uint8_t icmp_type = 0, icmp_code = 0;
};

struct Ipv6Parse {
    std::optional<Ipv6PacketView> view;
    DropReason reason = DropReason::none;  // set when view is empty
};

// Walks the chain as RFC 8200 §4 orders it: hop-by-hop only first; routing, fragment,
// destination options and AH each at most twice (destination options may come before
// routing and again before the upper layer), a second fragment header refused. A
// routing header of type 0 with segments left is refused (RFC 5095), and a first
// fragment must hold the whole chain and the upper-layer header (RFC 7112).
// The payload length must fit the buffer (a shorter buffer is refused, longer is trimmed);
// jumbograms (payload length 0) are refused.
Ipv6Parse parse_ipv6(std::span<const std::uint8_t> packet) noexcept;

// The same walk over a datagram quoted in an ICMPv6 error, which may be cut short after
// the first 8 bytes of its upper-layer header (RFC 4443 §2.4 (c)): the payload length
// is not checked against the bytes present, and what is missing after the ports is fine.
Ipv6Parse parse_quoted_ipv6(std::span<const std::uint8_t> quoted) noexcept;

}  // namespace gw

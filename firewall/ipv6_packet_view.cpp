#include "firewall/ipv6_packet_view.hpp"

#include <algorithm>

namespace gw {
namespace {

namespace proto = ipv6_protocol;

// More than this many extension headers is no real stack's doing; Linux and the RFC 7112
// first-fragment rule leave no room for a longer chain of any use, and a bound keeps the
// walk's cost fixed.
constexpr std::size_t max_extension_headers = 8;

std::uint16_t read16(std::span<const std::uint8_t> b, std::size_t at) noexcept {
    return std::uint16_t((b[at] << 8) | b[at + 1]);
}

std::uint32_t read32(std::span<const std::uint8_t> b, std::size_t at) noexcept {
    return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) | (std::uint32_t(b[at + 2]) << 8) | b[at + 3];
}

Ipv6Address address_at(std::span<const std::uint8_t> b, std::size_t at) noexcept {
    Ipv6Address::Bytes bytes;
    std::copy_n(b.begin() + std::ptrdiff_t(at), 16, bytes.begin());
    return Ipv6Address(bytes);
}

Ipv6Parse refused(DropReason reason) noexcept { return {std::nullopt, reason}; }

// Counts of each extension header seen, for the order rules.
struct ChainSeen {
    int hop_by_hop = 0, routing = 0, fragment = 0, destination_options = 0, ah = 0;
};

// Reads the ports or ICMPv6 header at the start of the upper layer. `quoted`: only the
// first 8 bytes of a TCP header need be there.
bool read_upper_layer(Ipv6PacketView& v, bool quoted) noexcept {
    auto l4 = v.upper_layer;
    switch (v.protocol) {
        case proto::tcp:
            if (l4.size() < (quoted ? 8u : 20u)) return false;
            v.has_ports = true;
            v.source_port = read16(l4, 0);
            v.destination_port = read16(l4, 2);
            return true;
        case proto::udp:
            if (l4.size() < 8) return false;
            v.has_ports = true;
            v.source_port = read16(l4, 0);
            v.destination_port = read16(l4, 2);
            return true;
        case proto::icmpv6:
            if (l4.size() < (quoted ? 4u : 8u)) return false;
            v.has_icmp_header = true;
            v.icmp_type = l4[0];
            v.icmp_code = l4[1];
            // RFC 4443 §4: echo request (128) and reply (129) carry the identifier; it
            // plays the part of the port for the flow.
            if ((v.icmp_type == 128 || v.icmp_type == 129) && l4.size() >= 8) {
                v.has_ports = true;
                v.source_port = read16(l4, 4);
            }
            return true;
        default: return true;  // other protocols are matched without ports
    }
}

Ipv6Parse walk(std::span<const std::uint8_t> packet, bool quoted) noexcept {
    if (packet.size() < Ipv6PacketView::fixed_header_length) return refused(DropReason::truncated_ipv6_header);
    if ((packet[0] >> 4) != 6) return refused(DropReason::truncated_ipv6_header);
    const std::size_t payload_length = read16(packet, 4);
    if (!quoted) {
        if (payload_length == 0 || Ipv6PacketView::fixed_header_length + payload_length > packet.size())
            return refused(DropReason::bad_ipv6_payload_length);
        packet = packet.first(Ipv6PacketView::fixed_header_length + payload_length);
    }
    Ipv6PacketView v;
    v.length = packet.size();
    v.source = address_at(packet, 8);
    v.destination = address_at(packet, 24);
    std::uint8_t next = packet[6];
    std::size_t at = Ipv6PacketView::fixed_header_length;
    ChainSeen seen;
    const DropReason malformed = quoted ? DropReason::malformed_icmp_error : DropReason::malformed_ipv6_extension_headers;
    for (;;) {
        if (next != proto::hop_by_hop && next != proto::routing && next != proto::fragment &&
            next != proto::destination_options && next != proto::ah)
            break;
        if (++v.extension_headers > max_extension_headers) return refused(malformed);
        if (packet.size() < at + 8) return refused(malformed);
        std::size_t length = 0;
        switch (next) {
            case proto::hop_by_hop:
                // RFC 8200 §4.1: only immediately after the IPv6 header.
                if (v.extension_headers != 1) return refused(malformed);
                length = (std::size_t(packet[at + 1]) + 1) * 8;
                break;
            case proto::destination_options:
                if (++seen.destination_options > 2) return refused(malformed);
                length = (std::size_t(packet[at + 1]) + 1) * 8;
                break;
            case proto::routing:
                if (++seen.routing > 1) return refused(malformed);
                // RFC 5095: RH0 (source routing amplification) is deprecated; a node must
                // not process one with segments left.
                if (packet[at + 2] == 0 && packet[at + 3] != 0) return refused(malformed);
                length = (std::size_t(packet[at + 1]) + 1) * 8;
                break;
            case proto::ah:
                if (++seen.ah > 1) return refused(malformed);
                length = (std::size_t(packet[at + 1]) + 2) * 4;  // RFC 4302 §2.2: in 4-byte units, minus 2
                break;
            case proto::fragment: {
                if (++seen.fragment > 1) return refused(malformed);
                length = 8;
                std::uint16_t field = read16(packet, at + 2);
                v.fragment = Ipv6Fragment{read32(packet, at + 4), std::uint16_t(field >> 3), (field & 1) != 0,
                                          std::uint16_t(at), std::uint16_t(packet.size() - (at + 8))};
                break;
            }
        }
        if (packet.size() < at + length) return refused(malformed);
        next = packet[at];
        at += length;
        // A later fragment's bytes after its fragment header are the middle of a datagram.
        if (v.fragment && v.fragment->is_later()) {
            v.protocol = next;
            return {v, DropReason::none};
        }
    }
    v.protocol = next;
    v.upper_layer = packet.subspan(at);
    if (next == proto::no_next_header) return {v, DropReason::none};
    if (!read_upper_layer(v, quoted)) {
        // RFC 7112: the first fragment holds the whole chain and the upper-layer header.
        if (quoted) return refused(malformed);
        return refused(v.fragment ? DropReason::malformed_ipv6_extension_headers : DropReason::truncated_l4_header);
    }
    return {v, DropReason::none};
}

}  // namespace

Ipv6Parse parse_ipv6(std::span<const std::uint8_t> packet) noexcept { return walk(packet, false); }

Ipv6Parse parse_quoted_ipv6(std::span<const std::uint8_t> quoted) noexcept {
    Ipv6Parse parsed = walk(quoted, true);
    if (!parsed.view && parsed.reason == DropReason::truncated_ipv6_header) parsed.reason = DropReason::malformed_icmp_error;
    return parsed;
}

}  // namespace gw

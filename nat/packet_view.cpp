#include "packet_view.hpp"

#include <algorithm>

#include "checksum.hpp"

namespace gw {
namespace {

// Sets the typed transport pointer when the header is whole; min_length is the
// length the protocol needs to be translated at all.
DropReason attach_transport(PacketView& v, std::size_t tcp_minimum) {
    switch (Protocol(v.protocol)) {
        case Protocol::tcp: {
            if (v.l4_length < tcp_minimum) return DropReason::truncated_l4_header;
            v.tcp = reinterpret_cast<wire::TcpHeader*>(v.l4);
            if (tcp_minimum == sizeof(wire::TcpHeader) &&
                (v.tcp->header_length() < sizeof(wire::TcpHeader) || v.tcp->header_length() > v.l4_length))
                return DropReason::truncated_l4_header;
            return DropReason::none;
        }
        case Protocol::udp:
            if (v.l4_length < sizeof(wire::UdpHeader)) return DropReason::truncated_l4_header;
            v.udp = reinterpret_cast<wire::UdpHeader*>(v.l4);
            return DropReason::none;
        case Protocol::icmp:
            if (v.l4_length < sizeof(wire::IcmpHeader)) return DropReason::truncated_l4_header;
            v.icmp = reinterpret_cast<wire::IcmpHeader*>(v.l4);
            return DropReason::none;
    }
    return DropReason::none;  // unknown protocols: the caller decides
}

ParseResult fail(DropReason reason) {
    ParseResult r;
    r.reason = reason;
    return r;
}

// Header checks shared by packets and quoted datagrams; sets ip, protocol and l4.
DropReason parse_ip_header(std::span<std::uint8_t> bytes, PacketView& v) {
    if (bytes.size() < sizeof(wire::Ipv4Header)) return DropReason::truncated_ip_header;
    v.ip = reinterpret_cast<wire::Ipv4Header*>(bytes.data());
    if (v.ip->version() != 4) return DropReason::not_ipv4;
    std::size_t header_length = v.ip->header_length();
    if (header_length < sizeof(wire::Ipv4Header) || header_length > bytes.size())
        return DropReason::bad_header_length;
    v.protocol = v.ip->protocol;
    v.l4 = bytes.data() + header_length;
    v.l4_length = bytes.size() - header_length;
    return DropReason::none;
}

}  // namespace

namespace {

ParseResult parse_ipv4_bounded(std::span<std::uint8_t> buffer, bool head_only) {
    ParseResult r;
    if (auto reason = parse_ip_header(buffer, r.view); reason != DropReason::none) return fail(reason);
    const auto& ip = *r.view.ip;
    std::size_t total = ip.total_length();
    if (head_only) total = std::min(total, buffer.size());
    if (total < ip.header_length() || total > buffer.size()) return fail(DropReason::bad_total_length);
    if (internet_checksum({buffer.data(), ip.header_length()}) != 0) return fail(DropReason::bad_ip_checksum);

    r.view.datagram = buffer.first(total);
    r.view.l4_length = total - ip.header_length();
    if (r.view.is_later_fragment()) return r;  // no transport header here
    // RFC 1858: a first fragment too short for the ports is a known filter-evasion trick.
    if (auto reason = attach_transport(r.view, sizeof(wire::TcpHeader)); reason != DropReason::none)
        return fail(r.view.is_first_fragment() ? DropReason::tiny_first_fragment : reason);
    return r;
}

}  // namespace

ParseResult parse_ipv4(std::span<std::uint8_t> buffer) noexcept { return parse_ipv4_bounded(buffer, false); }

ParseResult parse_ipv4_head(std::span<std::uint8_t> head) noexcept { return parse_ipv4_bounded(head, true); }

ParseResult parse_quoted_ipv4(std::span<std::uint8_t> quoted) noexcept {
    ParseResult r;
    if (auto reason = parse_ip_header(quoted, r.view); reason != DropReason::none) return fail(reason);
    r.view.datagram = quoted;
    if (r.view.is_later_fragment()) return fail(DropReason::malformed_icmp_error);
    // Only the first 8 transport bytes are guaranteed: enough for ports or the echo id.
    if (auto reason = attach_transport(r.view, 8); reason != DropReason::none) return fail(reason);
    return r;
}

}  // namespace gw

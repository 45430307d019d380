#include "firewall/ipv6_reject_builder.hpp"

#include <algorithm>
#include <cstring>

#include "firewall/ipv6_packet_view.hpp"
#include "firewall/tcp_reset.hpp"
#include "nat/checksum.hpp"
#include "nat/wire_headers.hpp"

namespace gw {
namespace {

namespace proto = ipv6_protocol;

constexpr std::size_t ipv6_header = 40;
constexpr std::uint8_t answer_hop_limit = 64;

void write_ipv6_header(std::span<std::uint8_t> out, std::size_t payload, std::uint8_t next, const Ipv6Address& from,
                       const Ipv6Address& to) {
    std::memset(out.data(), 0, ipv6_header);
    out[0] = 0x60;
    out[4] = std::uint8_t(payload >> 8);
    out[5] = std::uint8_t(payload);
    out[6] = next;
    out[7] = answer_hop_limit;
    std::memcpy(out.data() + 8, from.bytes().data(), 16);
    std::memcpy(out.data() + 24, to.bytes().data(), 16);
}

// RFC 8200 §8.1: the upper-layer checksum covers a pseudo header of both addresses, the
// upper-layer length and the next header value.
std::uint16_t upper_layer_checksum(std::span<const std::uint8_t> packet, std::uint8_t next) {
    const std::size_t length = packet.size() - ipv6_header;
    std::uint8_t tail[8] = {std::uint8_t(length >> 24), std::uint8_t(length >> 16), std::uint8_t(length >> 8),
                            std::uint8_t(length), 0, 0, 0, next};
    std::uint32_t sum = ones_complement_sum(packet.subspan(8, 32));
    sum = ones_complement_sum(tail, sum);
    sum = ones_complement_sum(packet.subspan(ipv6_header), sum);
    return std::uint16_t(~sum);
}

std::size_t build_reset(const Ipv6PacketView& v, std::span<std::uint8_t> out) {
    const auto& in = *reinterpret_cast<const wire::TcpHeader*>(v.upper_layer.data());
    const std::size_t total = ipv6_header + sizeof(wire::TcpHeader);
    std::size_t header = std::max<std::size_t>(in.header_length(), sizeof(wire::TcpHeader));
    auto payload = std::uint32_t(v.upper_layer.size() > header ? v.upper_layer.size() - header : 0);
    auto* tcp = reinterpret_cast<wire::TcpHeader*>(out.data() + ipv6_header);
    if (!write_tcp_reset(in, payload, *tcp)) return 0;
    write_ipv6_header(out, sizeof(wire::TcpHeader), proto::tcp, v.destination, v.source);
    tcp->checksum.set(upper_layer_checksum(out.first(total), proto::tcp));
    return total;
}

std::size_t build_unreachable(const Ipv6PacketView& v, std::span<const std::uint8_t> offending,
                              std::span<std::uint8_t> out) {
    constexpr std::uint8_t destination_unreachable = 1, administratively_prohibited = 1, port_unreachable = 4;
    const std::size_t quoted = std::min(offending.size(), max_ipv6_reject_size - ipv6_header - 8);
    const std::size_t total = ipv6_header + 8 + quoted;
    write_ipv6_header(out, 8 + quoted, proto::icmpv6, v.destination, v.source);
    std::memset(out.data() + ipv6_header, 0, 8);
    out[ipv6_header] = destination_unreachable;
    out[ipv6_header + 1] = v.protocol == proto::udp ? port_unreachable : administratively_prohibited;
    std::memcpy(out.data() + ipv6_header + 8, offending.data(), quoted);
    std::uint16_t checksum = upper_layer_checksum(out.first(total), proto::icmpv6);
    out[ipv6_header + 2] = std::uint8_t(checksum >> 8);
    out[ipv6_header + 3] = std::uint8_t(checksum);
    return total;
}

}  // namespace

std::size_t build_ipv6_reject(std::span<const std::uint8_t> offending, std::span<std::uint8_t> out) noexcept {
    if (out.size() < max_ipv6_reject_size) return 0;
    Ipv6Parse parsed = parse_ipv6(offending);
    if (!parsed.view) return 0;
    const Ipv6PacketView& v = *parsed.view;
    if (v.source.is_multicast() || v.source.is_unspecified() || v.destination.is_multicast()) return 0;
    if (v.fragment && !v.fragment->is_atomic()) return 0;
    // The offending packet as far as its payload length says (not link-layer padding).
    offending = offending.first(std::min(offending.size(), ipv6_header + std::size_t((offending[4] << 8) | offending[5])));
    if (v.protocol == proto::tcp) return build_reset(v, out);
    // Never an error about an error or a reply (RFC 4443 §2.4 (e)): only echo requests.
    if (v.protocol == proto::icmpv6 && v.icmp_type != 128) return 0;
    return build_unreachable(v, offending, out);
}

}  // namespace gw

#include "captured_checksum.hpp"

#include "firewall/ipv6_packet_view.hpp"
#include "nat/checksum.hpp"
#include "nat/endpoint_rewrite.hpp"
#include "nat/packet_view.hpp"

namespace gw {
namespace {

constexpr std::uint8_t tcp = 6, udp = 17;

// Where a packet's TCP/UDP checksum lives, and what it covers.
struct TransportSum {
    std::span<std::uint8_t> transport;  // header and payload
    std::size_t field = 0;              // the checksum's offset in `transport`
    std::uint16_t pseudo = 0;           // the pseudo-header sum, folded, not complemented
    bool udp_over_ipv4 = false;         // 0 means "no checksum" (RFC 768)
};

std::optional<TransportSum> transport_sum_of(std::span<std::uint8_t> packet) noexcept {
    if (packet.empty()) return std::nullopt;
    if ((packet[0] >> 4) == 6) {
        Ipv6Parse parsed = parse_ipv6(packet);
        if (!parsed.view) return std::nullopt;
        const Ipv6PacketView& v = *parsed.view;
        if (v.fragment && !v.fragment->is_atomic()) return std::nullopt;
        const std::size_t header = v.protocol == tcp ? 20 : v.protocol == udp ? 8 : 0;
        if (header == 0 || v.upper_layer.size() < header) return std::nullopt;
        const auto offset = std::size_t(v.upper_layer.data() - packet.data());
        return TransportSum{packet.subspan(offset, v.upper_layer.size()), v.protocol == tcp ? 16u : 6u,
                            pseudo_header_sum(v.source, v.destination, v.protocol, std::uint32_t(v.upper_layer.size())),
                            false};
    }
    ParseResult parsed = parse_ipv4(packet);
    if (!parsed.ok() || parsed.view.is_fragment() || !(parsed.view.tcp || parsed.view.udp)) return std::nullopt;
    const PacketView& p = parsed.view;
    const Protocol protocol = p.tcp ? Protocol::tcp : Protocol::udp;
    return TransportSum{{p.l4, p.l4_length}, p.tcp ? 16u : 6u,
                        pseudo_header_sum(p.ip->source(), p.ip->destination(), protocol, std::uint16_t(p.l4_length)),
                        bool(p.udp)};
}

std::uint16_t field_of(const TransportSum& s) {
    return std::uint16_t((s.transport[s.field] << 8) | s.transport[s.field + 1]);
}

void set_field(TransportSum& s, std::uint16_t value) {
    s.transport[s.field] = std::uint8_t(value >> 8);
    s.transport[s.field + 1] = std::uint8_t(value);
}

// Ones-complement arithmetic has two zeros.
std::uint16_t canonical(std::uint16_t v) { return v == 0xffff ? 0 : v; }

}  // namespace

CapturedChecksum judge_captured_checksum(std::span<std::uint8_t> packet) noexcept {
    auto sum = transport_sum_of(packet);
    if (!sum) return CapturedChecksum::complete;
    const std::uint16_t field = field_of(*sum);
    if (sum->udp_over_ipv4 && field == 0) return CapturedChecksum::complete;
    if (ChecksumDelta::fold(ones_complement_sum(sum->transport, sum->pseudo)) == 0xffff)
        return CapturedChecksum::complete;
    // Linux stores ~csum_tcpudp_magic(..., 0): the folded pseudo-header sum itself, not
    // its complement (checked on a veth capture: tests/integration/replay_matches_live.sh).
    return canonical(field) == canonical(sum->pseudo) ? CapturedChecksum::partial : CapturedChecksum::failed;
}

bool make_checksum_partial(std::span<std::uint8_t> packet) noexcept {
    auto sum = transport_sum_of(packet);
    if (!sum) return false;
    set_field(*sum, sum->pseudo);
    return true;
}

bool finish_captured_checksum(std::span<std::uint8_t> packet) noexcept {
    if (!packet.empty() && (packet[0] >> 4) == 4) return finish_partial_checksum(packet);
    auto sum = transport_sum_of(packet);
    if (!sum) return false;
    std::uint16_t checksum = std::uint16_t(~ones_complement_sum(sum->transport));
    // RFC 8200 §8.1: a UDP checksum computed as 0 is sent as all ones (0 is not allowed).
    if (sum->field == 6 && checksum == 0) checksum = 0xffff;
    set_field(*sum, checksum);
    return true;
}

}  // namespace gw

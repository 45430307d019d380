#include "reject_builder.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "firewall/tcp_reset.hpp"
#include "nat/checksum.hpp"
#include "nat/packet_view.hpp"

namespace gw {
namespace {

constexpr std::uint8_t answer_ttl = 64;

void write_ip_header(std::span<std::uint8_t> out, std::size_t total, std::uint8_t protocol, Ipv4Address from,
                     Ipv4Address to) {
    auto* ip = reinterpret_cast<wire::Ipv4Header*>(out.data());
    std::memset(ip, 0, sizeof *ip);
    ip->version_ihl = 0x45;
    ip->total_length_field.set(std::uint16_t(total));
    ip->ttl = answer_ttl;
    ip->protocol = protocol;
    ip->set_source(from);
    ip->set_destination(to);
    ip->checksum.set(internet_checksum({out.data(), sizeof *ip}));
}

// `payload_length`: of the whole offending segment (the view may hold only its head).
std::size_t build_tcp_reset(const PacketView& p, std::uint32_t payload_length, std::span<std::uint8_t> out) {
    std::size_t total = sizeof(wire::Ipv4Header) + sizeof(wire::TcpHeader);
    auto* tcp = reinterpret_cast<wire::TcpHeader*>(out.data() + sizeof(wire::Ipv4Header));
    if (!write_tcp_reset(*p.tcp, payload_length, *tcp)) return 0;
    std::uint32_t sum = pseudo_header_sum(p.ip->destination(), p.ip->source(), Protocol::tcp,
                                          std::uint16_t(sizeof(wire::TcpHeader)));
    sum = ones_complement_sum({reinterpret_cast<std::uint8_t*>(tcp), sizeof(wire::TcpHeader)}, sum);
    tcp->checksum.set(std::uint16_t(~sum));
    write_ip_header(out, total, std::uint8_t(Protocol::tcp), p.ip->destination(), p.ip->source());
    return total;
}

constexpr std::uint8_t port_unreachable = 3, administratively_prohibited = 13;

std::size_t build_unreachable(const PacketView& p, std::uint8_t code, Ipv4Address from, std::span<std::uint8_t> out) {
    if (p.icmp && !(p.icmp->type == wire::IcmpHeader::echo_request)) return 0;  // never about errors/replies
    // RFC 792: the quoted datagram is its IP header and the first 8 bytes of data.
    std::size_t quoted = std::min(p.datagram.size(), p.ip->header_length() + 8);
    std::size_t total = sizeof(wire::Ipv4Header) + sizeof(wire::IcmpHeader) + quoted;
    std::memset(out.data(), 0, total);
    auto* icmp = reinterpret_cast<wire::IcmpHeader*>(out.data() + sizeof(wire::Ipv4Header));
    icmp->type = wire::IcmpHeader::destination_unreachable;
    icmp->code = code;
    std::memcpy(out.data() + sizeof(wire::Ipv4Header) + sizeof(wire::IcmpHeader), p.datagram.data(), quoted);
    icmp->checksum.set(internet_checksum({reinterpret_cast<std::uint8_t*>(icmp), total - sizeof(wire::Ipv4Header)}));
    write_ip_header(out, total, std::uint8_t(Protocol::icmp), from, p.ip->source());
    return total;
}

// The offending packet's head, parsed from a copy (the parser only reads; the copy keeps
// the callers' input const); nullopt when it is no whole first fragment or datagram.
struct OffendingHead {
    std::uint8_t copy[max_reject_size + 40];
    std::size_t original_total = 0;
    PacketView view;
};

bool parse_offending(std::span<const std::uint8_t> offending, OffendingHead& head) {
    std::size_t length = std::min(offending.size(), sizeof head.copy);
    std::memcpy(head.copy, offending.data(), length);
    auto* ip = reinterpret_cast<wire::Ipv4Header*>(head.copy);
    if (length < sizeof(wire::Ipv4Header)) return false;
    // Parse the head only: the answer needs headers, not the payload.
    head.original_total = std::min<std::size_t>(ip->total_length(), offending.size());
    ParseResult parsed = parse_ipv4_head({head.copy, length});
    if (!parsed.ok() || parsed.view.is_fragment()) return false;
    head.view = parsed.view;
    return true;
}

}  // namespace

std::size_t build_reject(std::span<const std::uint8_t> offending, std::span<std::uint8_t> out) noexcept {
    if (out.size() < max_reject_size) return 0;
    OffendingHead head;
    if (!parse_offending(offending, head)) return 0;
    const PacketView& p = head.view;
    if (p.tcp) {
        std::size_t headers = p.ip->header_length() + p.tcp->header_length();
        auto payload = std::uint32_t(head.original_total > headers ? head.original_total - headers : 0);
        return build_tcp_reset(p, payload, out);
    }
    return build_unreachable(p, p.udp ? port_unreachable : administratively_prohibited, p.ip->destination(), out);
}

std::size_t build_no_mapping_unreachable(std::span<const std::uint8_t> offending, std::span<std::uint8_t> out) noexcept {
    if (out.size() < max_reject_size) return 0;
    OffendingHead head;
    if (!parse_offending(offending, head)) return 0;
    return build_unreachable(head.view, administratively_prohibited, Ipv4Address{}, out);
}

}  // namespace gw

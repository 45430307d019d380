#include "endpoint_rewrite.hpp"

namespace gw {
namespace {

// Writes a checksum field and records the write for any enclosing checksum.
void store_checksum(wire::Be16& field, std::uint16_t value, ChecksumDelta& changed) {
    changed.replace16(field.get(), value);
    field.set(value);
}

wire::Be16* port_field(PacketView& p, Side side) {
    if (p.tcp) return side == Side::source ? &p.tcp->source_port : &p.tcp->destination_port;
    if (p.udp) return side == Side::source ? &p.udp->source_port : &p.udp->destination_port;
    if (p.icmp && is_icmp_echo(p)) return &p.icmp->identifier;
    return nullptr;
}

// The transport checksum field if this packet holds it: a quoted TCP header may be
// cut after its first 8 bytes.
wire::Be16* transport_checksum_field(PacketView& p) {
    if (p.tcp) return p.l4_length >= wire::TcpHeader::checksum_offset + 2 ? &p.tcp->checksum : nullptr;
    if (p.udp) return &p.udp->checksum;
    if (p.icmp) return &p.icmp->checksum;
    return nullptr;
}

std::uint16_t updated_transport_checksum(const PacketView& p, std::uint16_t old_checksum,
                                         const ChecksumDelta& address, const ChecksumDelta& port,
                                         L4Checksum state) {
    if (p.icmp) return port.apply_to_checksum(old_checksum);  // ICMP has no pseudo-header
    if (state == L4Checksum::pseudo_header_only) return address.apply_to_partial_sum(old_checksum);
    // RFC 768: a UDP checksum of 0 means the sender computed none; keep it that way.
    if (p.udp && old_checksum == 0) return 0;
    ChecksumDelta both = address;
    both.add(port);
    std::uint16_t updated = both.apply_to_checksum(old_checksum);
    // RFC 768: a computed 0 is sent as all ones, since 0 means "no checksum".
    if (p.udp && updated == 0) return 0xffff;
    return updated;
}

}  // namespace

bool is_icmp_echo(const PacketView& p) noexcept {
    return p.icmp && (p.icmp->type == wire::IcmpHeader::echo_request || p.icmp->type == wire::IcmpHeader::echo_reply);
}

bool is_icmp_error(const PacketView& p) noexcept {
    if (!p.icmp) return false;
    auto type = p.icmp->type;
    return type == wire::IcmpHeader::destination_unreachable || type == wire::IcmpHeader::time_exceeded ||
           type == wire::IcmpHeader::parameter_problem;
}

bool read_port(const PacketView& p, Side side, Port& port) noexcept {
    auto* field = port_field(const_cast<PacketView&>(p), side);
    if (!field) return false;
    port = Port{field->get()};
    return true;
}

ChecksumDelta rewrite_address(PacketView& p, Side side, Ipv4Address to) noexcept {
    ChecksumDelta changed;
    Ipv4Address from = side == Side::source ? p.ip->source() : p.ip->destination();
    changed.replace_address(from, to);
    if (side == Side::source) p.ip->set_source(to);
    else p.ip->set_destination(to);
    ChecksumDelta address = changed;
    store_checksum(p.ip->checksum, address.apply_to_checksum(p.ip->checksum.get()), changed);
    return changed;
}

ChecksumDelta rewrite_endpoint(PacketView& p, Side side, Endpoint to, L4Checksum state) noexcept {
    Ipv4Address from = side == Side::source ? p.ip->source() : p.ip->destination();
    ChecksumDelta address;
    if (!p.icmp) address.replace_address(from, to.address);
    ChecksumDelta changed = rewrite_address(p, side, to.address);

    wire::Be16* port = port_field(p, side);
    if (!port) return changed;
    ChecksumDelta port_change;
    port_change.replace16(port->get(), to.port.value);
    port->set(to.port.value);
    changed.add(port_change);

    if (wire::Be16* checksum = transport_checksum_field(p)) {
        auto updated = updated_transport_checksum(p, checksum->get(), address, port_change, state);
        store_checksum(*checksum, updated, changed);
    }
    return changed;
}

}  // namespace gw

namespace gw {

bool finish_partial_checksum(std::span<std::uint8_t> datagram) noexcept {
    ParseResult parsed = parse_ipv4(datagram);
    if (!parsed.ok() || parsed.view.is_fragment() || !(parsed.view.tcp || parsed.view.udp)) return false;
    PacketView& p = parsed.view;
    std::uint16_t sum = std::uint16_t(ones_complement_sum({p.l4, p.l4_length}));
    std::uint16_t checksum = std::uint16_t(~sum);
    // RFC 768: a computed 0 is sent as all ones.
    if (p.udp && checksum == 0) checksum = 0xffff;
    (p.tcp ? p.tcp->checksum : p.udp->checksum).set(checksum);
    return true;
}

}  // namespace gw

// The two ends of a parsed packet as the flow table keys them: TCP/UDP ports, or for
// an ICMP echo the identifier on the LAN side and port 0 on the remote side (the
// identifier belongs to whoever sent the request, and that is what NAT maps).
#pragma once

#include "nat/endpoint_rewrite.hpp"
#include "nat/packet_view.hpp"

namespace gw {

// For a packet leaving the LAN side: (internal, remote).
inline void lan_side_ends(const PacketView& p, Endpoint& internal, Endpoint& remote) {
    internal = {p.ip->source(), {}};
    remote = {p.ip->destination(), {}};
    read_port(p, Side::source, internal.port);
    if (!p.icmp) read_port(p, Side::destination, remote.port);
}

// For a packet arriving from the remote side: (remote, port on our address).
inline void wan_side_ends(const PacketView& p, Endpoint& remote, Port& local_port) {
    remote = {p.ip->source(), {}};
    if (!p.icmp) read_port(p, Side::source, remote.port);
    read_port(p, Side::destination, local_port);
}

// An ICMP error whose quoted datagram or outer header was rewritten: its own checksum,
// which covers the quote, follows the same change.
inline void update_icmp_checksum(PacketView& outer, const ChecksumDelta& changed) {
    outer.icmp->checksum.set(changed.apply_to_checksum(outer.icmp->checksum.get()));
}

}  // namespace gw

// The IP identification of the non-atomic datagrams the gateway sends from its WAN
// address (RFC 7857 §10, RFC 6864 §4). Every LAN host numbers its datagrams on its own,
// so after translation two hosts' datagrams to one remote can carry the same
// (source, destination, protocol, identification) — the remote's reassembly key — and
// their fragments be spliced into one datagram (issue 18 finding 4: lan1 and lan2 both
// sent ID 0x4242, the WAN host reassembled one datagram). The gateway therefore numbers
// them itself, as Linux numbers its own (net/ipv4/route.c, ip_idents_reserve): a counter
// per bucket of destinations, plus a keyed-hash offset per destination. Two datagrams to
// one destination get consecutive counter values, so they differ until 65536 more went
// there; the offset keeps the values unpredictable to anyone but that destination, and
// no global sequence tells an observer the gateway's packet rate.
//
// Atomic datagrams (DF set, not a fragment) keep their identification: RFC 6864 §4.1
// lets it be anything, and nothing reassembles them.
//
// Pure: the key comes from the caller (the daemon's port selection key, drawn from
// getrandom; tests pass a fixed one). Not thread safe: owned by one engine.
#pragma once

#include <array>
#include <cstdint>

#include "endpoint.hpp"
#include "packet_view.hpp"
#include "port_selection.hpp"

namespace gw {

class IpIdentification {
public:
    // Linux's IP_IDENTS_SZ: a destination shares its counter with 1/2048 of the others.
    static constexpr std::size_t buckets = 2048;

    explicit IpIdentification(const PortSelectionKey& key) : key_(key) {}
    // The identification of the next datagram to `destination` with `protocol`.
    std::uint16_t next(Ipv4Address destination, std::uint8_t protocol) noexcept;

private:
    PortSelectionKey key_;
    std::array<std::uint16_t, buckets> counters_{};
};

// RFC 6864 §4: DF set, MF clear, offset zero.
inline bool is_atomic(const wire::Ipv4Header& ip) noexcept { return ip.dont_fragment() && !ip.is_fragment(); }

// Writes `identification` into the header, updating its checksum incrementally (RFC 1624).
void rewrite_identification(PacketView& packet, std::uint16_t identification) noexcept;

}  // namespace gw

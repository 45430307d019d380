// The IPv6 pinholes the control plane has opened (UPnP WANIPv6FirewallControl, later
// PCP), as the packet path matches them: which inbound IPv6 packet a pinhole lets
// through the default-deny firewall, and how many packets each has let in
// (GetPinholePackets). Ids, leases and who may open what are the control plane's.
//
// A handful of entries (a client opens a few): matched by a linear walk. Owned by the
// engine's worker; changed only between batches, through the engine command queue.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "firewall/pinhole.hpp"

namespace gw {

// What an inbound packet offers a pinhole to match.
struct PinholeProbe {
    std::uint8_t protocol = 0;
    Ipv6Address remote;    // the packet's source
    Ipv6Address internal;  // its destination, a LAN host
    bool has_ports = false;
    std::uint16_t remote_port = 0, internal_port = 0;
};

class PinholeTable {
public:
    // Opens the pinhole, or replaces the one with its id (its packet count starts again
    // only if what it matches changed). False for id 0.
    bool open(const Pinhole& pinhole);
    // False when no pinhole has the id.
    bool close(std::uint16_t id);

    // The id of the first pinhole the packet matches, or 0. Wildcards: no remote host,
    // port 0, protocol 65535. A port condition needs a packet with ports.
    std::uint16_t match(const PinholeProbe& probe) const noexcept;
    // Counts a packet let in by pinhole `id` (no-op for an id no longer open).
    void count_packet(std::uint16_t id) noexcept;

    std::optional<std::uint64_t> packets(std::uint16_t id) const noexcept;
    struct Entry {
        Pinhole pinhole;
        std::uint64_t packets = 0;
    };
    const std::vector<Entry>& entries() const noexcept { return entries_; }
    std::size_t size() const noexcept { return entries_.size(); }

private:
    static bool matches(const Pinhole& p, const PinholeProbe& probe) noexcept;
    Entry* find(std::uint16_t id) noexcept;

    std::vector<Entry> entries_;  // in opening order
};

}  // namespace gw

// Where unsolicited inbound traffic to the WAN address goes: enabled static forwards
// (an external port or range to a LAN endpoint, one to one) and, failing those, the
// DMZ host. Prepared once from the config; lookups are O(1).
#pragma once

#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "firewall/firewall_config.hpp"

namespace gw {

struct ForwardTarget {
    Endpoint internal;
    const PortForward* forward = nullptr;  // null: a dynamic mapping or the DMZ host
    std::optional<Ipv4Address> remote_host;  // dynamic mappings: the only sender admitted
    bool dmz = false;                        // the DMZ fallback, not a forward of this port
};

// A port mapping a LAN client asked for (UPnP IGD, later NAT-PMP/PCP), granted by the
// mapping policy and opened here until its lease ends.
struct DynamicForward {
    Protocol protocol = Protocol::tcp;
    Port external;
    Endpoint internal;
    std::optional<Ipv4Address> remote_host;  // nullopt: any sender (UPnP wildcard "")
};

// Packets and bytes (IP header on) of both directions of the flows a forward or a
// mapping let in from the WAN (issue 16: gatewayctl mappings, forwards list, metrics).
struct TrafficCount {
    std::uint64_t packets = 0, bytes = 0;
    bool operator==(const TrafficCount&) const = default;
};

// The external ports the enabled static forwards own, per protocol: what dynamic NAT
// mappings must never take and what the UPnP policy must refuse (729).
std::vector<std::pair<Protocol, PortRange>> static_forward_ports(const FirewallConfig& config);

class ForwardTable {
public:
    explicit ForwardTable(const FirewallConfig& config);

    // The enabled static forward covering this external port, else a dynamic mapping,
    // else the DMZ host (same port), else nothing.
    std::optional<ForwardTarget> target_of(Protocol protocol, Port external) const;

    // Dynamic mappings: the mapping policy has already refused conflicts with static
    // forwards, so opening over one is a caller bug and is refused (false).
    bool open(const DynamicForward& mapping);
    bool close(Protocol protocol, Port external);
    std::size_t dynamic_count() const { return dynamic_.size(); }
    bool has_dynamic(Protocol protocol, Port external) const;
    // The open dynamic mappings, in no particular order (reload carries them over).
    std::vector<DynamicForward> dynamic_forwards() const;
    // Does the forward admit this source (its allowed_sources; empty = anyone)?
    static bool admits(const PortForward& forward, Ipv4Address source);
    const std::vector<PortForward>& forwards() const { return forwards_; }

    // A packet of a flow let in from the WAN on this external port (the engine does not
    // pass those a NAT mapping's filter let in): counted on the static forward or the
    // dynamic mapping that owns the port now, if any (DMZ traffic is nobody's). An array
    // index or one hash lookup, for such flows' packets only.
    void count_packet(Protocol protocol, Port external, std::size_t length) noexcept;
    // What went through forwards()[i], and through the dynamic mapping on a port (zero
    // when none is open there).
    const std::vector<TrafficCount>& static_counts() const { return static_counts_; }
    TrafficCount dynamic_count(Protocol protocol, Port external) const;
    // Reload (STYLE 14, as RuleTable::keep_counters_of): a forward the same as before
    // (name, protocol, ports, LAN endpoint) and a mapping still open to the same LAN
    // endpoint keep their counts; anything else starts from zero.
    void keep_counters_of(const ForwardTable& old);

private:
    struct DynamicEntry {
        DynamicForward mapping;
        TrafficCount count;
    };
    std::vector<PortForward> forwards_;
    std::vector<TrafficCount> static_counts_;  // one per forwards_ entry
    // Index by (tcp|udp, external port) into forwards_, +1; 0 = none.
    std::vector<std::uint16_t> by_port_;
    std::optional<Ipv4Address> dmz_;
    std::unordered_map<std::uint32_t, DynamicEntry> dynamic_;  // key: port_index()
};

}  // namespace gw

// Where unsolicited inbound traffic to the WAN address goes: enabled static forwards
// (an external port or range to a LAN endpoint, one to one) and, failing those, the
// DMZ host. Prepared once from the config; lookups are O(1).
#pragma once

#include <optional>
#include <vector>

#include "firewall/firewall_config.hpp"

namespace gw {

struct ForwardTarget {
    Endpoint internal;
    const PortForward* forward = nullptr;  // null: the DMZ host
};

class ForwardTable {
public:
    explicit ForwardTable(const FirewallConfig& config);

    // The enabled forward covering this external port, else the DMZ host (same port), else nothing.
    std::optional<ForwardTarget> target_of(Protocol protocol, Port external) const;
    // Does the forward admit this source (its allowed_sources; empty = anyone)?
    static bool admits(const PortForward& forward, Ipv4Address source);
    const std::vector<PortForward>& forwards() const { return forwards_; }

private:
    std::vector<PortForward> forwards_;
    // Index by (tcp|udp, external port) into forwards_, +1; 0 = none.
    std::vector<std::uint16_t> by_port_;
    std::optional<Ipv4Address> dmz_;
};

}  // namespace gw

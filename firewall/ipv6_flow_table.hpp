// The IPv6 firewall's connection table (issue 8): one record per IPv6 flow between a
// LAN host (or the gateway) and a remote host, with its TCP tracking state.
//
// No NAT for IPv6, so a flow has one tuple, the same on both sides of the gateway: the
// record is indexed once, under its key with the LAN end first (STYLE 13's two keys
// collapse into one), and a packet of either direction finds it by putting its LAN end
// first. Everything else is IPv4's machinery (flow_table_core.hpp, issue 15): records
// taken up front, idle lists per timeout class with O(expired) expiry, a per-LAN-host
// limit (nat.limits.flows_per_host, per IPv6 address), the embryonic cap
// (nat.limits.embryonic_inbound) and fair eviction when the table is full.
//
// Pure: time comes in as a parameter. Not thread safe: owned by the engine's worker.
#pragma once

#include <cstdint>

#include "firewall/flow_table_core.hpp"
#include "firewall/tcp_tracker.hpp"
#include "nat/ipv6_address.hpp"
#include "nat/record_index.hpp"

namespace gw {

struct Ipv6FlowKey {
    std::uint8_t protocol = 0;
    Ipv6Address lan_address;
    std::uint16_t lan_port = 0;     // TCP/UDP port; the echo identifier for ICMPv6; 0 otherwise
    Ipv6Address remote_address;
    std::uint16_t remote_port = 0;  // 0 for ICMPv6 echo and port-less protocols

    bool operator==(const Ipv6FlowKey&) const = default;
    std::uint64_t hash() const noexcept;
};

// lan / wan: a forwarded flow a LAN host / a WAN host started. gateway / to_gateway: the
// gateway's own (issue 13): one it started, one a remote host started to it (admitted by
// the input rules). The gateway's own flows put the gateway's address at the LAN end.
enum class Ipv6FlowOrigin : std::uint8_t { lan, wan, gateway, to_gateway };

struct Ipv6Flow {
    Ipv6FlowKey key;
    Ipv6FlowOrigin origin = Ipv6FlowOrigin::lan;
    TimeoutClass timeout_class = TimeoutClass::udp;
    bool reply_seen = false;
    bool in_use = false;
    // Started from outside and not answered yet (Ipv6FlowTable::is_embryonic).
    bool embryonic = false;
    std::uint16_t pinhole = 0;  // the pinhole that let it in; 0 = none
    TcpTracker tcp;             // TCP only
    Instant last_activity{0};
    // Packets and bytes (IP header on) of both directions, as IPv4's (flow.hpp).
    std::uint64_t packets = 0, bytes = 0;
    // Links of the idle list of its timeout class (slot numbers; flow_table_core.hpp).
    std::uint32_t idle_prev = 0;
    std::uint32_t idle_next = 0;
};

using Ipv6FlowId = std::uint32_t;  // slot number; 0 = none

// The IPv6 flow's timeout class, as PacketEngine::timeout_class_of gives IPv4's: RFC 5382
// REQ-5, only an established connection earns the long timeout; port-less protocols
// (ESP, say) are under UDP's.
TimeoutClass ipv6_timeout_class(const Ipv6Flow& flow) noexcept;

class Ipv6FlowTable : public FlowTableCore<Ipv6FlowTable, Ipv6Flow, Ipv6Address> {
public:
    Ipv6FlowTable(std::uint32_t max_flows, const NatTimeouts& timeouts, const FlowLimits& limits);

    // The live flow with this key at `now`, or null (a flow past its time is not found,
    // and is reclaimed).
    Ipv6Flow* find(const Ipv6FlowKey& key, Instant now) noexcept;

    std::size_t memory_bytes() const { return records_memory_bytes() + index_.memory_bytes(); }

private:
    friend class FlowTableCore<Ipv6FlowTable, Ipv6Flow, Ipv6Address>;
    static bool is_embryonic(const Ipv6Flow& f) noexcept;
    static bool started_by_lan(const Ipv6Flow& f) noexcept { return f.origin == Ipv6FlowOrigin::lan; }
    static const Ipv6Address& host_of(const Ipv6Flow& f) noexcept { return f.key.lan_address; }
    void index(Ipv6FlowId id) noexcept;
    void unindex(Ipv6FlowId id) noexcept;
    std::size_t end_links(Ipv6FlowId) noexcept { return 0; }  // an IPv6 flow holds nothing else

    RecordIndex index_;
};

}  // namespace gw

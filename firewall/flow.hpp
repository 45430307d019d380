// A flow: one session between an endpoint on the LAN side (or the gateway itself)
// and one remote endpoint, and the single truth about it — its translation (the
// external port on the WAN address) and its tracking state (TCP state machine, whether
// the remote side has answered). The NAT and the firewall read and write this record;
// there is no second table (pf's state, Linux's conntrack entry).
#pragma once

#include <cstdint>

#include "firewall/tcp_tracker.hpp"
#include "firewall/timeout_class.hpp"
#include "nat/endpoint.hpp"
#include "nat/mapping.hpp"
#include "nat/mapping_table.hpp"

namespace gw {

enum class FlowOrigin : std::uint8_t {
    lan,      // a LAN host started it: translated through its mapping
    wan,         // started from the WAN and let in (static forward, DMZ, mapping filter)
    gateway,     // started by the gateway itself: never translated
    to_gateway,  // started by someone else towards the gateway (input): never translated
    // Hairpinning (RFC 4787 REQ-9): a LAN client reaching a LAN server through the WAN
    // address is two linked flows, one per LAN host, each keyed by what its host sees:
    hairpin_client,  // internal = client, remote = (WAN address, forwarded port)
    hairpin_server,  // internal = server, remote = (WAN address, client's external port)
    // A hairpinned packet the receiver's mapping filtered: the sender's outbound flow
    // towards (WAN address, receiver's external port), unlinked, which the receiver's
    // packets back find; it becomes the client of their pair (engine_hairpin.cpp).
    hairpin_punch,
};

// Field order packs the record into 112 bytes: a million flows must fit in a router's
// memory (bench/flow_memory). The two counters cost 16 of them (issue 16: gatewayctl
// flows shows them); they count both directions together, which keeps the per-packet
// work to two increments with no branch on the direction.
struct Flow {
    Endpoint internal;      // LAN side (for gateway flows: the gateway's own endpoint)
    Endpoint remote;        // the WAN-side peer (port 0 for ICMP)
    Port external;          // on the WAN address; the echo identifier for ICMP
    Protocol protocol = Protocol::udp;
    FlowOrigin origin = FlowOrigin::lan;
    TimeoutClass timeout_class = TimeoutClass::udp;
    bool reply_seen = false;  // the side that did not start it has sent something
    bool in_use = false;
    // Started from the WAN and not answered yet (TCP: handshake not complete); kept by
    // the table (FlowTable::is_embryonic), which evicts these first when it is full.
    bool embryonic = false;
    MappingId mapping = 0;    // the mapping this flow holds a reference on; 0 = none
    std::uint32_t peer = 0;   // hairpin pairs: the linked flow (FlowId); they live and die together
    TcpTracker tcp;           // TCP only; a hairpin pair tracks on its client flow
    Instant last_activity{0};
    // Packets and bytes (IP header on) of both directions that the engine passed on this
    // flow: whole packets and first fragments (later fragments follow their first one
    // without a flow lookup, and are not counted here).
    std::uint64_t packets = 0, bytes = 0;
    // Links of the idle list of this timeout class, as slot numbers (intrusive list);
    // a free slot links the free list through idle_next.
    std::uint32_t idle_prev = 0;
    std::uint32_t idle_next = 0;
    // Links of the list of flows with the same (protocol, external port, remote address),
    // which answers address-dependent filtering (FlowTable::has_sent_to_address).
    std::uint32_t same_address_prev = 0;
    std::uint32_t same_address_next = 0;
};

static_assert(sizeof(Flow) <= 112, "a flow record is paid for a million times over");

using FlowId = std::uint32_t;  // slot number; 0 = none

}  // namespace gw

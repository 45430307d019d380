// Finding the port-control service of the NAT upstream of the WAN (issue 19, item 1):
// PCP and NAT-PMP at the WAN default gateway, a UPnP IGD by SSDP M-SEARCH on the WAN
// interface only (a control point: our own SSDP never announces or answers there).
// Blocking, bounded (PCP and NAT-PMP about 3 s each when nothing answers, UPnP's search
// 2 s plus its HTTP): run on the upstream worker, never on the main or packet threads.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "igd/upstream_client.hpp"

namespace gw {

// The WAN side the clients speak from.
struct UpstreamWanSide {
    std::string interface;               // the WAN interface: UPnP's M-SEARCH leaves by it alone
    Ipv4Address address;                 // our WAN address: every request's source and internal address
    std::optional<Ipv4Address> gateway;  // the WAN default gateway (PCP and NAT-PMP server); nullopt: none
};

// How long the clients wait. PCP (RFC 6887 §8.1.1) and NAT-PMP (RFC 6886 §3.1) would
// retransmit for minutes; an answer from the next hop takes a millisecond, so the
// schedule is cut: 250 ms doubling, given up at `udp_budget`.
struct UpstreamTimeouts {
    std::chrono::milliseconds udp_initial{250};
    std::chrono::milliseconds udp_budget{3000};
    std::chrono::milliseconds ssdp_wait{2000};  // M-SEARCH MX 2: how long answers are collected
};

// What one protocol said when it was tried.
struct UpstreamAttempt {
    UpstreamProtocol protocol = UpstreamProtocol::pcp;
    std::string where;                      // "192.0.2.1:5351", an IGD's control URL, "" when not reached
    std::optional<UpstreamFailure> failure;  // nullopt: this one answered (the last attempt)
    std::chrono::milliseconds took{0};
};

struct UpstreamDiscovery {
    std::unique_ptr<UpstreamClient> client;  // the first that answered; null when none did
    Ipv4Address external_address;            // what it said (valid when client is set)
    std::vector<UpstreamAttempt> attempts;   // in the order tried, the answering one last
};

// wan.upstream_mappings: auto = PCP, then NAT-PMP, then UPnP (the most precise first:
// PCP has nonces, epochs and error codes; UPnP needs a multicast search); one protocol
// alone otherwise.
std::vector<UpstreamProtocol> upstream_protocol_order(std::optional<UpstreamProtocol> only);

// The client for one protocol (UPnP's searches the IGD here), tried with external_address().
Expected<std::unique_ptr<UpstreamClient>, UpstreamFailure> make_upstream_client(UpstreamProtocol protocol,
                                                                                 const UpstreamWanSide& wan,
                                                                                 const UpstreamTimeouts& timeouts);

// Tries each protocol in `order` until one answers external_address().
UpstreamDiscovery discover_upstream(std::span<const UpstreamProtocol> order, const UpstreamWanSide& wan,
                                    const UpstreamTimeouts& timeouts = {});

// The IPv4 default gateway of `interface` in the kernel's main table, as /proc/net/route
// shows it (a route 0.0.0.0/0 with RTF_GATEWAY on that interface); nullopt when none.
std::optional<Ipv4Address> parse_default_gateway(std::string_view proc_net_route, std::string_view interface);
std::optional<Ipv4Address> wan_default_gateway(std::string_view interface);

}  // namespace gw

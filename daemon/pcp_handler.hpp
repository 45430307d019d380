// The PCP responder (igd/pcp_responder.hpp) as the port-control server's handler
// (daemon/port_control_server.hpp, pcp.enabled): it adds what only the daemon knows (the
// LAN address the server answers on, pcp.allow_third_party, the engine for PEER) and
// logs each decision, grants at info and refusals rate-limited (5/s, burst 20, with the
// count of those not logged). The server counts the requests and sends the response;
// the mapping service carries out the changes.
//
// Threads: the handler runs on the server's thread, inside
// PortMappingService::with_policy (the policy's lock held), so it never blocks.
#pragma once

#include <mutex>

#include "daemon/port_control_server.hpp"
#include "firewall/packet_engine.hpp"
#include "igd/pcp_responder.hpp"

namespace gw {

// `open_pinhole`: MAP for an IPv6 internal address, through the pinhole service (taken
// inside the mapping service's lock: that order, mappings then pinholes, is the only one).
PcpRequestHandler make_pcp_handler(Ipv4Address server_address, PcpConfig config,
                                   OutboundMappingLookup outbound_mapping, PinholeOpener open_pinhole = {});

// PEER's view of the NAT: the engine's endpoint-independent mapping of (protocol,
// internal), whatever the remote (RFC 4787 REQ-1). The engine's lock is only tried: a
// PCP answer never waits behind a batch of packets (and the policy's lock is held while
// it asks). A busy engine reads as no mapping, NO_RESOURCES, a short lifetime error the
// client retries.
OutboundMappingLookup engine_outbound_mapping(const PacketEngine& engine, std::mutex& engine_lock);

}  // namespace gw

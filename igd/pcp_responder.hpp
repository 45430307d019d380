// The PCP server's logic (RFC 6887): one request in, the response out, and what the
// request changed in the mapping policy. A front end only: MAP asks the same
// MappingPolicy as UPnP's AddPortMapping (miniupnpd's pcpserver.c over upnpredirect.c),
// so secure mode, the permission rules, per-client and global limits, lease caps, the
// lease file and `upnpc -l` treat a PCP mapping like any other; it is described "PCP"
// and carries its nonce (PortMapping::pcp_nonce).
//
// Pure: no sockets, no clock (`now` and the epoch come in), no logging (the answer says
// what happened and why, the caller logs and counts it). The caller opens
// `changes.granted` and closes `changes.removed` in the packet path, journals both in
// the lease file and sends `response` back to the request's source port.
//
// Decisions the RFC leaves to the server, and why:
// * THIRD_PARTY with allow_third_party off: UNSUPP_OPTION, what a server without the
//   option answers (miniupnpd does the same). With it on, the mapping still goes through
//   the policy, whose secure mode refuses another host's address (NOT_AUTHORIZED).
// * MAP for an IPv6 internal address (THIRD_PARTY naming one): the gateway is IPv6's
//   firewall, not its NAT (RFC 6887 §1, §11), so the mapping is a pinhole, asked of the
//   pinhole service through `open_pinhole` with the PCP client (its IPv4-mapped address)
//   as the requester: the pinhole policy's secure mode, limits and LAN prefixes decide,
//   and the response assigns the internal address and port themselves, for the pinhole's
//   lease. FILTER narrows it to one IPv6 /128 and port (the pinhole's remote host and
//   port). Deleting (lifetime 0) is not offered for pinholes: NOT_AUTHORIZED; the pinhole
//   ends with its lease. A PEER towards an IPv6 peer: NOT_AUTHORIZED, "the requested
//   operation is disabled for this client". UNSUPP_FAMILY is not used: it is code 14 of an
//   expired draft (draft-cheshire-pcp-unsupp-family), in neither RFC 6887 nor the IANA
//   registry, so a client would not know it.
// * "All protocols" (protocol 0) and "all ports" (internal port 0) mappings would expose
//   every service of a host: refused (UNSUPP_PROTOCOL, NOT_AUTHORIZED). Deleting with
//   them is served: every PCP mapping of the client (of that protocol) with the nonce.
// * FILTER: enforced only when it is exact for the packet path, whose one remote-host
//   field (PortMapping::remote_host) matches a whole address and every port: prefix 0
//   (no filter) or one /32 (128 in PCP's bits) with remote port 0. Anything else is
//   answered EXCESSIVE_REMOTE_PEERS ("not able to create the filters in this request",
//   §7.4) rather than enforced wider than asked. A MAP request states the whole filter:
//   one without FILTER leaves the mapping unfiltered.
// * Lifetimes: clamped to [min, max] of PcpConfig (RFC 6887 §15 recommends 120 s and
//   24 h), then to the policy's lease cap; the response gives what was granted.
// * UPnP or static mappings are not PCP's: a MAP never refreshes or takes over one (it is
//   a port held by someone else: another port, or CANNOT_PROVIDE_EXTERNAL with
//   PREFER_FAILURE), and a delete of one endpoint that finds only such a mapping is
//   NOT_AUTHORIZED (a delete of all the client's mappings leaves them alone).
// * PEER: the NAT creates its outbound mappings from traffic, which the policy cannot
//   see; `outbound_mapping` (the daemon asks the engine's MappingTable) reports the one
//   in use. None yet (or no callback): NO_RESOURCES, a short lifetime error, since the
//   flow's next packet creates it. The lifetime promised is at most 120 s, the least
//   idle timeout the NAT keeps (RFC 4787 REQ-5): traffic, not PCP, keeps the mapping,
//   and a PEER with lifetime 0 deletes nothing (SUCCESS, lifetime 0).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "igd/mapping_changes.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/pcp_message.hpp"
#include "igd/pinhole_policy.hpp"

namespace gw {

struct PcpConfig {
    bool allow_third_party = false;
    std::uint32_t min_lifetime_seconds = 120;
    std::uint32_t max_lifetime_seconds = 86400;
};

// The external port the NAT uses for (protocol, internal) towards `remote`, if a flow
// has one; nullopt when none exists.
using OutboundMappingLookup = std::function<std::optional<Port>(Protocol, Endpoint internal, Endpoint remote)>;

// Opens an IPv6 pinhole for a PCP client (the daemon's pinhole service, a test's fake):
// the pinhole as granted, or the policy's refusal.
using PinholeOpener = std::function<PinholeGrant(const PinholeRequest&, const Ipv6Address& requester)>;

struct PcpRequestContext {
    Endpoint source;                             // the request's source address and port
    Ipv4Address server_address;                  // the LAN address it was sent to
    std::optional<Ipv4Address> external_address; // the WAN address; none (or 0.0.0.0): NETWORK_FAILURE
    std::uint32_t epoch_seconds = 0;             // §8.5: seconds since the mapping state was last lost
    PcpConfig config;
    OutboundMappingLookup outbound_mapping;      // for PEER; may be empty
    PinholeOpener open_pinhole;                  // for MAP of an IPv6 address; empty: NOT_AUTHORIZED
};

struct PcpAnswer {
    std::vector<std::uint8_t> response;  // empty: send nothing (the request is dropped)
    MappingChanges changes;
    std::optional<PcpResult> result;     // what the response says; nullopt when dropped
    std::string reason;                  // for the log: what was asked and what was decided
};

// Mappings PCP grants are described so; UPnP listings show their origin.
inline constexpr std::string_view pcp_mapping_description = "PCP";
// How long a client may assume an error stays (§7.2: the Lifetime of an error response).
inline constexpr std::uint32_t pcp_long_error_lifetime_seconds = 1800;
inline constexpr std::uint32_t pcp_short_error_lifetime_seconds = 30;
inline constexpr std::uint32_t pcp_peer_lifetime_cap_seconds = 120;

PcpAnswer answer_pcp(std::span<const std::uint8_t> request, const PcpRequestContext& context,
                     MappingPolicy& policy, Instant now);

// Every MappingRefusal as a PCP result code. no_port_maps_available says NO_RESOURCES;
// answer_pcp makes it USER_EX_QUOTA when the client itself is at its limit.
PcpResult pcp_result_of(MappingRefusal refusal);
PcpResult pcp_result_of(PinholeRefusal refusal);

// MAP for an IPv6 internal address (pcp_pinholes.cpp): the pinhole `open_pinhole` grants,
// as the response's assigned data and lifetime, or the result code and why not.
struct PcpPinholeAnswer {
    PcpResult result = PcpResult::success;
    PcpMapData assigned;        // on success: the internal address and port, unchanged
    std::uint32_t lifetime = 0; // on success: what is left of the pinhole's lease
    std::string reason;
};
PcpPinholeAnswer map_pinhole(const PcpRequest& request, const PcpMapData& map, const Ipv6Address& internal,
                             const PcpRequestContext& context);

}  // namespace gw

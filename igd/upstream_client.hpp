// A port-control client toward the NAT upstream of the WAN (an ISP modem's UPnP IGD, a
// carrier-grade NAT's PCP server, a NAT-PMP router): what gatewayd uses to carry each
// opening it grants on its own WAN address through that second NAT (wan.upstream_mappings).
//
// An upstream mapping ties the upstream's external address and port to gatewayd's WAN
// address and the *local* mapping's external port (`internal_port` here), so a packet
// from the internet crosses both NATs: upstream external -> our WAN:internal_port -> the
// LAN host.
//
// Implementations do blocking I/O with a bounded wait (a few seconds at most: RFC 6887's
// and RFC 6886's retransmissions are cut short), and are called from one thread at a
// time: the daemon's upstream worker, never under the mapping service's or the engine's
// lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/expected.hpp"
#include "igd/port_mapping.hpp"
#include "nat/endpoint.hpp"

namespace gw {

// Which protocol speaks to the upstream (wan.upstream_mappings names them).
enum class UpstreamProtocol : std::uint8_t { pcp, natpmp, upnp };

// "pcp", "natpmp", "upnp"
std::string_view upstream_protocol_name(UpstreamProtocol protocol);

struct UpstreamRequest {
    Protocol protocol = Protocol::udp;  // tcp or udp
    Port internal_port;                 // our WAN-side port: the local mapping's external port
    Port suggested_external;            // asked for; usually internal_port ("the same port where possible")
    std::chrono::seconds lifetime{0};   // wanted; the upstream may shorten it
    // PCP: the mapping nonce (RFC 6887 §11.1) that owns the upstream mapping. A renewal
    // or a re-claim after a restart must send the same one; nullopt = pick a new one.
    std::optional<PcpNonce> nonce;
};

struct UpstreamGrant {
    UpstreamProtocol via = UpstreamProtocol::pcp;
    Ipv4Address external_address;  // the upstream's public address
    Port external_port;            // may differ from the suggested one
    // What the upstream granted; 0 = no expiry (a UPnP mapping with lease 0). Renew
    // before half of it has gone (RFC 6887 §11.2.1).
    std::chrono::seconds lifetime{0};
    std::optional<PcpNonce> nonce;  // PCP: the nonce used, for renewals and the lease file
    // PCP and NAT-PMP: the server's epoch in the answer. One that went back (or jumped
    // less than the time passed) means the upstream lost its mappings: re-claim them all
    // (RFC 6887 §8.5, RFC 6886 §3.6).
    std::optional<std::uint32_t> epoch_seconds;
};

struct UpstreamFailure {
    enum class Kind : std::uint8_t {
        no_answer,    // nothing came back in time: the upstream may be gone
        refused,      // it answered no (not authorized, no resources, unsupported)
        port_taken,   // the port is held by someone else there (UPnP 718, PCP CANNOT_PROVIDE_EXTERNAL)
        bad_answer,   // an answer that does not match the request or does not parse
    };
    Kind kind = Kind::no_answer;
    std::string reason;  // for the log and gatewayctl status: the upstream's own words where it gave any
};

class UpstreamClient {
public:
    virtual ~UpstreamClient() = default;
    virtual UpstreamProtocol protocol() const = 0;
    // Where the upstream service is ("192.0.2.1:5351", an IGD's control URL), for status.
    virtual std::string describe() const = 0;
    // The server's address where it may announce a restart to us unasked (PCP's ANNOUNCE,
    // NAT-PMP's address announcement, from its port 5351); nullopt for UPnP, which has none.
    virtual std::optional<Ipv4Address> announcing_server() const { return std::nullopt; }
    // The upstream's public address (GetExternalIPAddress, NAT-PMP opcode 0, a PCP MAP's
    // assigned address).
    virtual Expected<Ipv4Address, UpstreamFailure> external_address() = 0;
    // Creates or renews the upstream mapping for (protocol, internal_port).
    virtual Expected<UpstreamGrant, UpstreamFailure> map(const UpstreamRequest& request) = 0;
    // Deletes it (PCP/NAT-PMP lifetime 0 with the same nonce; UPnP DeletePortMapping).
    // nullopt when the upstream confirmed or no longer had it.
    virtual std::optional<UpstreamFailure> unmap(Protocol protocol, Port internal_port, const UpstreamGrant& grant) = 0;
};

}  // namespace gw

// Whether a datagram that reached the gateway's port 5350 on the WAN is the NAT upstream
// telling it that it restarted or changed (issue 19, RFC 7648 §5 and RFC 6887 §14.1.3:
// a PCP proxy listens for its server's ANNOUNCE and renews its mappings at once; RFC 6886
// §3.2.1: NAT-PMP's external-address announcement after a restart or an address change).
// Without this the gateway would learn of an upstream that lost its mappings only from
// the epoch of its next answer, up to half the upstream lifetime later.
//
// Only the server in use may say so: anyone on the WAN link can send to 224.0.0.1:5350,
// and a forged announcement would make the gateway re-claim every mapping (cheap, but a
// lever). Pure: bytes and addresses in, a verdict out (daemon/upstream_announcement_listener
// is the socket).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "nat/endpoint.hpp"

namespace gw {

// The group both announcements go to (RFC 6887 §14.1.3, RFC 6886 §3.2.1): all hosts.
inline constexpr Ipv4Address all_hosts_group = Ipv4Address::from_octets(224, 0, 0, 1);

struct AnnouncementDatagram {
    Endpoint source;          // the sender, as the IP and UDP headers give it
    Ipv4Address destination;  // the IP header's (IP_PKTINFO): our WAN address or the group
    std::span<const std::uint8_t> payload;
};

// The upstream in use: the PCP or NAT-PMP server the worker asks, and our WAN address.
struct AnnouncingUpstream {
    Ipv4Address server;
    Ipv4Address wan_address;
};

enum class AnnouncementVerdict : std::uint8_t {
    from_upstream,       // a PCP ANNOUNCE or a NAT-PMP announcement from the server in use
    no_upstream,         // no PCP or NAT-PMP server in use (none, or a UPnP IGD)
    not_from_upstream,   // another address than the server's (a spoofed or a second NAT)
    wrong_source_port,   // the server's address, not from its port 5351
    wrong_destination,   // neither our WAN address nor 224.0.0.1
    not_an_announcement, // anything else: a request, a MAP answer, an error, garbage
};
inline constexpr std::size_t announcement_verdict_count = 6;
// "from_upstream", "not_from_upstream"...: counter and log names.
std::string_view announcement_verdict_name(AnnouncementVerdict verdict);

struct AnnouncementJudgement {
    AnnouncementVerdict verdict = AnnouncementVerdict::not_an_announcement;
    std::uint32_t epoch_seconds = 0;  // the announcement's, when from_upstream
};
AnnouncementJudgement judge_upstream_announcement(const AnnouncementDatagram& datagram,
                                                  const std::optional<AnnouncingUpstream>& upstream);

}  // namespace gw

// The pinhole policy of the UPnP IGD: the one place that decides which IPv6 firewall
// pinholes exist (UPnP-gw-WANIPv6FirewallControl-v1-Service, "the spec" below;
// miniupnpd's upnppinhole.c plays this part there). The SOAP front end asks it, and only
// what it grants is opened in the packet path (OpenPinhole); what it ends (delete,
// expiry) the caller closes (ClosePinhole).
//
// Pure: no I/O, no clock, no threads; time comes in as `now` (engine Instant).
//
// Secure mode: InternalClient must be the requester's own address, or, for a requester
// on its link-local address (all pupnp 1.8 serves IPv6 on), an address of the LAN prefix
// with the same interface identifier (the low 64 bits), as SLAAC gives a host.
//
// Requesters are IPv6 addresses: a control point that came over IPv4 is named by its
// IPv4-mapped address (::ffff:a.b.c.d, v4_mapped()). That is how secure mode decides
// the IPv4 case: the spec RECOMMENDS that InternalClient be the control point's own
// address, an IPv4 connection cannot show which IPv6 address the host holds, and an
// IPv4-mapped address is never a valid InternalClient; so in secure mode a request made
// over IPv4 is refused 606, as miniupnpd does (it compares the client's v4-mapped
// address with InternalClient). Outside secure mode an IPv4 requester may open pinholes
// to any LAN host, and owns them.
//
// The administrator (gatewayctl pinhole add) asks as pinhole_administrator, the
// unspecified address, which no client can be: secure mode's rules (the requester's own
// address, no privileged or wildcard port) do not bind it, and it may update, delete and
// count any pinhole, as the owner may; every other check binds it too.
//
// UniqueIDs: 1..max_policy_pinhole_id (32767), one range for every front end, handed out round-robin from after the last one given, never one
// still stored (a pinhole whose lease is over keeps its id until expire() returns it and
// the caller has closed it, so a ClosePinhole can never hit a newer pinhole).
//
// Leases: 1..86400 s (A_ARG_TYPE_LeaseTime's range; anything else is 402, spec 2.4.2
// and 2.4.3). A pinhole whose lease is over (now >= expires) is invisible to every
// query (704) and counts for nothing, but stays stored until expire(now).
//
// Ownership: owned by the InternetGatewayDevice, used under its pinhole mutex (pupnp's
// pool threads and the daemon's loop); not thread safe itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "base/expected.hpp"
#include "firewall/pinhole.hpp"
#include "igd/igd_config.hpp"
#include "igd/upnp_error.hpp"
#include "nat/endpoint.hpp"
#include "nat/ipv6_address.hpp"
#include "nat/mapping.hpp"

namespace gw {

inline constexpr std::uint32_t max_pinhole_lease_seconds = 86400;  // A_ARG_TYPE_LeaseTime maximum
inline constexpr std::uint16_t ip_protocol_tcp = 6;
inline constexpr std::uint16_t ip_protocol_udp = 17;
// Secure mode keeps the privileged ports out of reach, as for port mappings (IGD:2
// recommends InternalPort >= 1024 for unauthenticated control points).
inline constexpr std::uint16_t first_unprivileged_port = 1024;

// Why a pinhole request was refused, as the spec's error codes.
enum class PinholeRefusal : std::uint8_t {
    invalid_args,                           // 402: lease out of range, an address no host can have
    action_not_authorized,                  // 606: secure mode, not the owner, not a LAN host
    pinhole_space_exhausted,                // 701: a limit, or no UniqueID free
    firewall_disabled,                      // 702: upnp.pinholes.enabled false
    inbound_pinhole_not_allowed,            // 703: upnp.pinholes.allow_inbound false
    no_such_entry,                          // 704: no live pinhole with that UniqueID
    protocol_not_supported,                 // 705: neither TCP nor UDP (nor the allowed wildcard)
    internal_port_wildcarding_not_allowed,  // 706: InternalPort 0
    protocol_wildcarding_not_allowed,       // 707: Protocol 65535
    wildcard_not_permitted_in_src_ip,       // 708: InternalClient "" or ::
    no_traffic_received,                    // 709: CheckPinholeWorking saw no packet
};

UpnpError upnp_error_of(PinholeRefusal refusal);

// Secure mode's "the requester's own address": the address itself, or for a link-local
// requester any address with its interface identifier (pinhole_policy.cpp says why).
bool is_requesters_own(const Ipv6Address& requester, const Ipv6Address& client);

// gatewayctl's requester (see above).
inline constexpr Ipv6Address pinhole_administrator{};

// ::ffff:a.b.c.d: how an IPv4 requester is named (see above).
Ipv6Address v4_mapped(Ipv4Address address);

// AddPinhole's arguments (and GetOutboundPinholeTimeout's, without the lease).
struct PinholeRequest {
    std::optional<Ipv6Address> remote_host;      // nullopt: "" = any remote host
    std::uint16_t remote_port = 0;               // 0: any
    std::optional<Ipv6Address> internal_client;  // nullopt: "" (a wildcard: 708)
    std::uint16_t internal_port = 0;             // 0: every port, if allowed (706)
    std::uint16_t protocol = ip_protocol_tcp;    // IANA number; any_ip_protocol = all, if allowed (707)
    std::uint32_t lease_seconds = 0;             // 1..86400, else 402
};

struct PinholeLease {
    Pinhole pinhole;
    Ipv6Address owner;  // who asked (v4_mapped for an IPv4 requester)
    Instant expires;
    bool operator==(const PinholeLease&) const = default;
};

// What is left of the lease, in whole seconds rounded up; 0 when it is over.
std::uint32_t remaining_seconds(const PinholeLease& lease, Instant now);

// What the policy knows of the network, from the daemon.
struct PinholeEnvironment {
    // The LAN's IPv6 prefixes: an InternalClient outside them is refused 606. Empty: no
    // IPv6 on the LAN, so no pinhole can be granted.
    std::vector<Ipv6Network> lan_prefixes;
    // The gateway's own IPv6 addresses: the spec REQUIRES that InternalClient is none of them.
    std::vector<Ipv6Address> gateway_addresses;
    // GetOutboundPinholeTimeout: how long the firewall keeps an idle outbound flow.
    std::uint32_t outbound_tcp_seconds = 7440;
    std::uint32_t outbound_udp_seconds = 300;
};

struct PinholeRestoreReport {
    std::size_t restored = 0;
    std::size_t expired = 0;  // lease over by `now`: dropped without complaint
    std::vector<std::pair<PinholeLease, PinholeRefusal>> refused;
};

using PinholeOutcome = std::variant<PinholeLease, PinholeRefusal>;
// What the pinhole service answers its front ends: the pinhole, or why not.
using PinholeGrant = Expected<PinholeLease, PinholeRefusal>;
inline PinholeGrant pinhole_grant(PinholeOutcome outcome) {
    if (const auto* refusal = std::get_if<PinholeRefusal>(&outcome)) return unexpected(*refusal);
    return std::get<PinholeLease>(std::move(outcome));
}

class PinholePolicy {
public:
    PinholePolicy(const PinholeConfig& config, bool secure_mode, PinholeEnvironment environment);

    // Reload: upnp.secure_mode is one setting for mappings and pinholes alike. Pinholes
    // held stay until their leases end; the next add or update is judged by it.
    void set_secure_mode(bool secure_mode) { secure_mode_ = secure_mode; }
    // Reload (nat.timeouts): what GetOutboundPinholeTimeout answers from now on.
    void set_outbound_timeouts(std::uint32_t tcp_seconds, std::uint32_t udp_seconds) {
        environment_.outbound_tcp_seconds = tcp_seconds;
        environment_.outbound_udp_seconds = udp_seconds;
    }

    bool firewall_enabled() const { return config_.enabled; }
    bool inbound_allowed() const { return config_.enabled && config_.allow_inbound; }

    // AddPinhole. The same requester asking again for the same five-tuple (remote host
    // and port, internal client and port, protocol) gets its existing pinhole back with
    // the new lease: the spec (2.4.2) says the device MUST extend it and return its
    // UniqueID. Refusals, in the order checked: 702, 703, 402 (lease), 708, 402
    // (link-local, multicast, loopback or IPv4-mapped InternalClient or a multicast
    // RemoteHost), 606 (the gateway's own address, off the LAN prefixes), 707, 705, 706,
    // 606 (secure mode: not the requester's own address, a privileged or wildcard
    // InternalPort; the same tuple held by another requester), 701 (per-client limit,
    // global limit, no UniqueID free).
    PinholeOutcome add(const PinholeRequest& request, const Ipv6Address& requester, Instant now);
    // UpdatePinhole: a new lease from `now`. 702, 703, 402, 704, 606 (not the owner).
    PinholeOutcome update(std::uint16_t id, std::uint32_t lease_seconds, const Ipv6Address& requester, Instant now);
    // DeletePinhole: returns the pinhole removed (the caller closes it). 702, 704, 606.
    PinholeOutcome remove(std::uint16_t id, const Ipv6Address& requester, Instant now);
    // GetPinholePackets, CheckPinholeWorking: the live pinhole, if the requester owns it.
    // 702, 704, 606.
    PinholeOutcome owned(std::uint16_t id, const Ipv6Address& requester, Instant now) const;
    // CheckPinholeWorking's answer once the packet path counted: 709 when nothing came in.
    static std::optional<PinholeRefusal> working_verdict(std::uint64_t packets_let_in);
    // GetOutboundPinholeTimeout (2.4.1): the firewall's idle timeout for outbound flows of
    // `protocol` (the shorter of TCP's and UDP's for the wildcard). 702, 705.
    std::variant<std::uint32_t, PinholeRefusal> outbound_timeout(std::uint16_t protocol) const;

    // Removes every pinhole whose lease is over and returns them (the caller closes each).
    std::vector<PinholeLease> expire(Instant now);
    std::optional<Instant> next_expiry() const;
    // Everything stored, by UniqueID.
    std::vector<PinholeLease> all() const;
    std::size_t size() const { return pinholes_.size(); }

    // After a restart: takes back saved pinholes, keeping their UniqueIDs (the clients
    // hold them), through the checks of add() under their saved owner; a lease over by
    // `now` is dropped, a duplicate UniqueID or tuple refused 402.
    PinholeRestoreReport restore(std::vector<PinholeLease> saved, Instant now);

private:
    std::optional<PinholeRefusal> check_request(const PinholeRequest& request, const Ipv6Address& requester) const;
    std::optional<PinholeRefusal> check_internal_client(const Ipv6Address& client) const;
    const PinholeLease* live(std::uint16_t id, Instant now) const;
    PinholeLease* same_tuple(const Pinhole& wanted, Instant now);
    std::optional<PinholeRefusal> check_limits(const Ipv6Address& owner, Instant now) const;
    std::optional<std::uint16_t> free_id() const;

    PinholeConfig config_;
    bool secure_mode_;
    PinholeEnvironment environment_;
    std::map<std::uint16_t, PinholeLease> pinholes_;  // by UniqueID
    std::uint16_t next_id_ = 1;                       // where free_id() starts looking
};

}  // namespace gw

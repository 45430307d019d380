// What the gateway knows about its WAN side: the address on the WAN interface, its class
// (nat/address_class.hpp), what STUN saw, and from those the verdict that matters to a
// user: is another NAT upstream (a cascade), so that no port mapping can be reached from
// the internet? Pure: built from values, rendered as the log line and gatewayctl's JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.hpp"
#include "nat/address_class.hpp"
#include "nat/endpoint.hpp"

namespace gw {

enum class Cascade : std::uint8_t { unknown, no, yes };
std::string_view cascade_name(Cascade cascade);  // "unknown", "no", "yes"

enum class StunState : std::uint8_t {
    not_configured,  // wan.stun: none
    asking,          // a query is under way
    answered,        // `stun_mapped` holds the answer
    failed,          // `stun_problem` says why (no answer, an error response...)
};
std::string_view stun_state_name(StunState state);

struct WanStatus {
    Ipv4Address wan_address;
    AddressClassification classification;
    std::optional<StunServerConfig> stun_server;
    StunState stun = StunState::not_configured;
    std::optional<Endpoint> stun_mapped;  // answered: the endpoint the STUN server saw
    std::string stun_problem;             // failed: why
    CascadeMappings cascade_mappings = CascadeMappings::warn;
    // After a WAN address change, while STUN is asked again: the public address STUN
    // found from the old WAN address. The upstream NAT's address rarely changes with
    // ours, so it stays reported meanwhile rather than flapping to the private address
    // and back (two UPnP events and NAT-PMP announcements for nothing).
    std::optional<Ipv4Address> public_before_change;
    // wan.upstream_mappings: the upstream's external address while its port-control
    // service carries our mappings (daemon/upstream_worker.hpp); nullopt otherwise.
    std::optional<Ipv4Address> upstream_address;

    // STUN decides when it answered (the same address: no NAT upstream; another: one
    // is); else a private or shared WAN address means yes and a public one no; the
    // other special blocks (documentation, benchmarking...) stay unknown.
    Cascade cascade() const;
    // What UPnP, NAT-PMP and PCP report: the upstream's address while it carries our
    // mappings; else STUN's public address when it answered (or, while it is asked
    // again after a change, the one it found before); else the WAN address.
    Ipv4Address external_address() const;
    // Port mapping grants are refused: a cascade, wan.cascade_mappings is refuse, and no
    // upstream carries them.
    bool refusing_mappings() const;
    // The one line a user reads in the log and `gatewayctl status`; nullopt when
    // nothing is wrong (no cascade, or a public address STUN has not contradicted).
    std::optional<std::string> warning() const;
    // {"address":...,"class":...,"rfc":...,"stun_server":...,"stun":...,"public_address":...,"cascade":...}
    std::string json() const;
};

// The status of a fresh WAN address: classified, STUN asking if configured.
WanStatus wan_status_for(Ipv4Address wan_address, const std::optional<StunServerConfig>& stun_server,
                         CascadeMappings cascade_mappings);
// The status after the WAN address changed from `before`'s to `wan_address`.
WanStatus wan_status_after_change(const WanStatus& before, Ipv4Address wan_address);

// RFC 4787 REQ-7: the WAN interface's network overlapping a block of the LAN's. LAN hosts
// send to addresses in the overlap on their own link, never through the gateway, so no
// NAT can reach the WAN hosts there; the cure is a LAN numbered elsewhere, which the LAN's
// DHCP server decides, not gatewayd. The warning line to log, or nothing. /0 and /1
// blocks are left to the config checker, which warns about them on their own.
std::optional<std::string> wan_lan_overlap_warning(const std::string& wan_interface, const Ipv4Network& wan_network,
                                                   const std::vector<Ipv4Network>& lan_networks);

}  // namespace gw

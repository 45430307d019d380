// The mapping policy of the UPnP IGD: the one place that decides which port mappings
// exist (miniupnpd's upnpredirect.c). Every front end (UPnP SOAP now, NAT-PMP and PCP
// later) asks it, and only what it grants is installed in the packet path.
//
// Pure: no I/O, no clock, no threads; time comes in as `now` (engine Instant).
//
// Leases: a mapping whose lease is over (now >= expires, exact to the millisecond) is
// invisible to every query and counts for nothing in grant/remove (no conflict, no
// limit), but it stays stored until expire(now) removes and returns it, so that the
// caller closes its packet path. A grant may therefore replace, on the same (protocol,
// external port), a mapping whose lease is over: installing a granted mapping always
// replaces whatever the packet path has on that port.
//
// One mapping per (protocol, external port): the packet path forwards a port to one
// LAN endpoint (ForwardTable), the remote host only narrows who may reach it. So a
// second remote host on a held port is a conflict (718), not a second row.
//
// Ownership: owned by the PortMappingService, which every front end (pupnp's pool
// threads, the port-control server's thread, the daemon's loop) reaches only under the
// service's mutex; not thread safe itself. Pointers returned by find() and at_index()
// stay valid until the next non-const call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "igd/igd_config.hpp"
#include "igd/port_mapping.hpp"
#include "igd/upnp_error.hpp"

namespace gw {

// Why a request was refused, as the UPnP error the SOAP layer returns
// (UPnP-gw-WANIPConnection v1/v2). Only what this policy can decide is here: it
// supports specific remote hosts, non-permanent leases and differing internal and
// external ports, so 715, 724, 725, 726 and 727 never happen.
enum class MappingRefusal : std::uint8_t {
    invalid_args,                        // 402
    action_not_authorized,               // 606: secure mode, permission rules, not the owner
    specified_array_index_invalid,       // 713: at_index() returned nullptr
    no_such_entry,                       // 714: remove() of an unknown mapping
    wildcard_not_permitted_in_ext_port,  // 716: AddPortMapping with external port 0
    conflict,                            // 718: ConflictInMappingEntry, another client's port
    no_port_maps_available,              // 728: per-client or global limit, or no free port
    conflict_with_other_mechanisms,      // 729: a static forward (or other reservation) holds the port
    port_mapping_not_found,              // 730: nothing to delete in a range
    wildcard_not_permitted_in_int_port,  // 732: internal port 0 (v2)
    inconsistent_parameters,             // 733: range start after end
    // 501 ActionFailed: another NAT is upstream and wan.cascade_mappings is refuse. Not
    // 606: nothing the control point may change would help, and clients read 606 as
    // "ask the user for permission"; 501 is the device failing to do what was asked,
    // which is what miniupnpd answers when it disables forwarding behind a reserved
    // external address. NAT-PMP and PCP map it to their own codes.
    upstream_nat,
    // 606 as well (NAT-PMP 2, PCP NOT_AUTHORIZED): the internal client is not a LAN host
    // (the gateway itself, a network or broadcast address, off the LAN), in or out of
    // secure mode. Its own value so that it is counted apart (internal_client_refusals).
    internal_client_not_lan_host,
};

// The UPnP error each refusal is answered with; its name comes from upnp_error.hpp.
UpnpError upnp_error_of(MappingRefusal refusal);
int upnp_error_code(MappingRefusal refusal);
std::string_view upnp_error_description(MappingRefusal refusal);

// At most max_description_bytes (cut on a UTF-8 character boundary), with '?' for
// each character that could forge or disguise a log line, a lease file line or
// `gatewayctl mappings`: C0 controls and DEL, C1 controls (U+0080-U+009F), the Unicode
// bidi and invisible format characters (U+061C, U+200B-U+200F, U+2028-U+202E,
// U+2060-U+2069, U+FEFF: Trojan Source, CVE-2021-42574), and each byte of invalid UTF-8.
// mapping_description.cpp.
std::string normalized_description(std::string_view text);

// A restored mapping the policy would not take back, and why (the caller logs it).
struct RestoreRefusal {
    PortMapping mapping;
    MappingRefusal reason;
};

struct RestoreReport {
    std::size_t restored = 0;
    std::size_t expired = 0;  // lease over before `now`: dropped without complaint
    std::vector<RestoreRefusal> refused;
};

class MappingPolicy {
public:
    // `reserved`: external ports other mechanisms hold (static forwards; the NAT's
    // dynamic port range if UPnP must stay out of it): a grant there is refused with 729.
    MappingPolicy(const IgdConfig& config, std::vector<std::pair<Protocol, PortRange>> reserved);

    // AddPortMapping. `requested` gives protocol, external port, internal endpoint,
    // remote host, description and enabled; owner and expires are ignored (the owner is
    // `requester`, the expiry comes from `lease_seconds`). The same owner asking again
    // for its own (protocol, external port, remote host) towards the same internal
    // address overwrites its mapping (new internal port, description, lease) as the
    // spec says; anything else on a held port is 718. A mapping with a `pcp_nonce` is
    // overwritten only by a request with the same internal endpoint and nonce (PCP's
    // refresh, which may change the remote host); a request with a nonce overwrites
    // nothing else. Returns the mapping as granted:
    // `expires` tells the lease actually given, which may be shorter than asked.
    std::variant<PortMapping, MappingRefusal> grant(const PortMapping& requested, Ipv4Address requester,
                                                    std::uint32_t lease_seconds, Instant now);
    // AddAnyPortMapping (v2): as grant, but when the external port is 0, taken, reserved
    // or not permitted, another one is chosen: the requested port first (the internal
    // port if 0), then the next free permitted one in 1024-65535, wrapping around.
    // 728 when every permitted port is taken; 606 when none is permitted.
    std::variant<PortMapping, MappingRefusal> grant_any(const PortMapping& requested, Ipv4Address requester,
                                                        std::uint32_t lease_seconds, Instant now);

    // DeletePortMapping: nullopt = deleted (the caller closes (protocol, external) in the
    // packet path). 714 when there is no such mapping (remote host included); 606 in
    // secure mode when the requester is not the owner.
    std::optional<MappingRefusal> remove(Protocol protocol, Port external, std::optional<Ipv4Address> remote_host,
                                         Ipv4Address requester, Instant now);
    // DeletePortMappingRange (v2): removes the requester's mappings of `protocol` in
    // `ports`; with `manage` and outside secure mode, everybody's. Returns what it
    // removed (the caller closes each in the packet path); 733 when ports.first >
    // ports.last, 730 when the range holds no mapping, 606 when it holds only others'.
    std::variant<std::vector<PortMapping>, MappingRefusal> remove_range(Protocol protocol, PortRange ports,
                                                                        Ipv4Address requester, bool manage,
                                                                        Instant now);

    // GetSpecificPortMappingEntry: the live mapping with exactly this key, or nullptr (714).
    const PortMapping* find(Protocol protocol, Port external, std::optional<Ipv4Address> remote_host,
                            Instant now) const;
    // GetGenericPortMappingEntry: live mappings in a stable order (protocol: tcp then
    // udp, then external port); nullptr past the end (713). O(1) while no stored lease
    // is over (a control point walks index 0, 1, 2...: a walk of n is O(n), not O(n^2));
    // a linear walk otherwise, until expire() collects the dead.
    const PortMapping* at_index(std::size_t index, Instant now) const;
    // GetListOfPortMappings: live mappings of `protocol` in `ports`, in port order, at
    // most `max` (0 = no limit, as NewNumberOfPorts=0). Empty: the SOAP layer says 730.
    std::vector<PortMapping> list(Protocol protocol, PortRange ports, std::size_t max, Instant now) const;
    // Live mappings towards `internal_address`, in index order (PCP finds a client's
    // mappings by internal endpoint, not by external port). O(n).
    std::vector<PortMapping> forwarding_to(Ipv4Address internal_address, Instant now) const;
    // Whether `owner` holds per_client_limit live mappings: tells a 728 that is the
    // client's own quota (PCP USER_EX_QUOTA) from one that is the gateway's (NO_RESOURCES).
    bool at_client_limit(Ipv4Address owner, Instant now) const;
    // Grants refused because the internal client was not a LAN host, by what it was
    // (index: LanAddressClass; host stays 0).
    const std::array<std::uint64_t, 5>& internal_client_refusals() const { return internal_client_refusals_; }
    // remove() refuses others' mappings in secure mode.
    bool secure_mode() const { return config_.secure_mode; }
    // Mappings stored, including any whose lease is over but that expire() has not
    // collected yet (call expire first for PortMappingNumberOfEntries).
    std::size_t size() const { return mappings_.size(); }

    // Removes every mapping whose lease is over (now >= expires) and returns them so the
    // caller closes the packet path of each.
    std::vector<PortMapping> expire(Instant now);
    // The earliest lease end among stored mappings: when to call expire() next. O(1)
    // between changes.
    std::optional<Instant> next_expiry() const;

    // The ports static and timed forwards hold changed. Mappings already held are not
    // re-checked here: the service removes those whose port a static forward now owns.
    void set_reserved(std::vector<std::pair<Protocol, PortRange>> reserved) { reserved_ = std::move(reserved); }

    // wan.cascade_mappings: refuse, with another NAT upstream: every new grant (grant,
    // grant_any) is refused with upstream_nat once the request is valid. Mappings held
    // and restored leases stay: the verdict may change back with the next WAN address.
    void set_refusing_upstream_nat(bool refusing) { refusing_upstream_nat_ = refusing; }
    bool refusing_upstream_nat() const { return refusing_upstream_nat_; }

    // Reload (mapping_policy_reload.cpp): the policy's rules and limits change in place
    // (secure_mode, max_lease_seconds, per_client_limit, max_mappings, permissions, the
    // LAN view); igd_version and the lease file are the running ones' (a restart changes
    // them). Every grant from now on is judged by the new ones. Mappings held stay until
    // their leases end, even where the new policy would refuse them (held_outside_policy
    // says how many): ending a working mapping is the administrator's call (gatewayctl
    // mappings delete). A lease that would outlive the new cap is shortened to end at
    // now + cap, as restore() does after a restart; those are returned for the journal.
    std::vector<PortMapping> reconfigure(const IgdConfig& config, Instant now);
    // Live mappings the policy would not grant now, by why.
    struct HeldOutsidePolicy {
        std::size_t denied = 0;       // by the permission rules, or secure mode: mapped to another host
        std::size_t over_limits = 0;  // beyond per_client_limit (per owner) or max_mappings
    };
    HeldOutsidePolicy held_outside_policy(Instant now) const;

    // Everything stored, in index order (for the lease file).
    std::vector<PortMapping> all() const;
    // After a restart: takes back saved mappings through the same checks as a grant
    // (the config or static forwards may have changed), under their saved owner. A
    // lease over by `now` is dropped; a lease longer than the cap allows is shortened;
    // a permanent one is capped when the policy caps leases. Mappings already held stay.
    RestoreReport restore(std::vector<PortMapping> saved, Instant now);

private:
    struct Key {
        Protocol protocol;
        Port external;
        auto operator<=>(const Key&) const = default;
    };

    std::optional<MappingRefusal> check_request(const PortMapping& requested, Ipv4Address requester);
    // Whether `address` may be a mapping's internal client: a LAN host.
    std::optional<MappingRefusal> check_internal_client(Ipv4Address address);
    std::optional<MappingRefusal> check_port(const PortMapping& requested, Port external, Ipv4Address requester,
                                             Instant now) const;
    bool permitted(Port external, Endpoint internal) const;
    bool reserved(Protocol protocol, Port external) const;
    const PortMapping* live_at(Protocol protocol, Port external, Instant now) const;
    std::optional<MappingRefusal> check_limits(Ipv4Address owner, Instant now) const;
    std::optional<Instant::rep> lease_cap_seconds() const;
    std::optional<Instant> expiry_for(std::uint32_t lease_seconds, Instant now) const;
    std::variant<PortMapping, MappingRefusal> install(const PortMapping& requested, Port external,
                                                      Ipv4Address owner, std::optional<Instant> expires, Instant now);

    IgdConfig config_;
    bool refusing_upstream_nat_ = false;
    std::array<std::uint64_t, 5> internal_client_refusals_{};
    std::vector<std::pair<Protocol, PortRange>> reserved_;
    std::map<Key, PortMapping> mappings_;  // ordered: the index order of at_index()

    // Derived from mappings_, rebuilt on first use after a change (changed()).
    struct IndexCache {
        bool stale = true;
        std::vector<const PortMapping*> by_index;  // every stored mapping, in map order
        std::optional<Instant> earliest_expiry;
    };
    const IndexCache& index_cache() const;
    void changed() { cache_.stale = true; }
    mutable IndexCache cache_;
};

}  // namespace gw

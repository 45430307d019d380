#include "igd/mapping_policy.hpp"

#include <algorithm>
#include <chrono>

#include "firewall/address_checks.hpp"

namespace gw {
namespace {

// WANIPConnection:2 gives PortMappingLeaseDuration the range 0-604800 and reads 0 as
// 604800: IGD v2 has no permanent mappings.
constexpr Instant::rep v2_max_lease_seconds = 604800;

// External ports grant_any chooses from: never the gateway's well-known service ports.
constexpr PortRange grant_any_ports{1024, 65535};

bool alive(const PortMapping& m, Instant now) { return !m.expires || now < *m.expires; }

// A LAN endpoint can be neither "this host", loopback, nor multicast/reserved.
bool usable_internal_address(Ipv4Address a) {
    auto first_octet = a.host_order() >> 24;
    return a.host_order() != 0 && first_octet != 127 && first_octet < 224;
}

}  // namespace

UpnpError upnp_error_of(MappingRefusal refusal) {
    switch (refusal) {
        case MappingRefusal::invalid_args: return UpnpError::invalid_args;
        case MappingRefusal::action_not_authorized: return UpnpError::action_not_authorized;
        case MappingRefusal::specified_array_index_invalid: return UpnpError::specified_array_index_invalid;
        case MappingRefusal::no_such_entry: return UpnpError::no_such_entry_in_array;
        case MappingRefusal::wildcard_not_permitted_in_ext_port: return UpnpError::wildcard_not_permitted_in_ext_port;
        case MappingRefusal::conflict: return UpnpError::conflict_in_mapping_entry;
        case MappingRefusal::no_port_maps_available: return UpnpError::no_port_maps_available;
        case MappingRefusal::conflict_with_other_mechanisms: return UpnpError::conflict_with_other_mechanisms;
        case MappingRefusal::port_mapping_not_found: return UpnpError::port_mapping_not_found;
        case MappingRefusal::wildcard_not_permitted_in_int_port: return UpnpError::wildcard_not_permitted_in_int_port;
        case MappingRefusal::inconsistent_parameters: return UpnpError::inconsistent_parameters;
        case MappingRefusal::upstream_nat: return UpnpError::action_failed;
        case MappingRefusal::internal_client_not_lan_host: return UpnpError::action_not_authorized;
    }
    return UpnpError::action_failed;
}

int upnp_error_code(MappingRefusal refusal) { return static_cast<int>(upnp_error_of(refusal)); }

std::string_view upnp_error_description(MappingRefusal refusal) { return upnp_error_description(upnp_error_of(refusal)); }

MappingPolicy::MappingPolicy(const IgdConfig& config, std::vector<std::pair<Protocol, PortRange>> reserved)
    : config_(config), reserved_(std::move(reserved)) {}

std::optional<MappingRefusal> MappingPolicy::check_internal_client(Ipv4Address address) {
    LanAddressClass c = classify_lan_address(address, config_.lan_networks, config_.gateway_addresses);
    // Without the LAN networks the policy cannot tell a host from a broadcast address.
    if (config_.lan_networks.empty() && c != LanAddressClass::gateway) return std::nullopt;
    if (c == LanAddressClass::host) return std::nullopt;
    ++internal_client_refusals_[std::size_t(c)];
    return MappingRefusal::internal_client_not_lan_host;
}

std::optional<MappingRefusal> MappingPolicy::check_request(const PortMapping& requested,
                                                           Ipv4Address requester) {
    if (requested.protocol != Protocol::tcp && requested.protocol != Protocol::udp)
        return MappingRefusal::invalid_args;
    // 732 exists from WANIPConnection:2 on; v1 control points only know 402.
    if (requested.internal.port.value == 0)
        return config_.igd_version >= 2 ? MappingRefusal::wildcard_not_permitted_in_int_port
                                        : MappingRefusal::invalid_args;
    if (!usable_internal_address(requested.internal.address)) return MappingRefusal::invalid_args;
    // Before secure mode: a request spoofed from the gateway's own address (accept_local)
    // would pass "maps to its own address" (issue 14).
    if (auto refusal = check_internal_client(requested.internal.address)) return refusal;
    // Secure mode (miniupnpd's secure_mode): without it any LAN host, or malware on
    // one, could expose another host's services to the WAN.
    if (config_.secure_mode && requested.internal.address != requester)
        return MappingRefusal::action_not_authorized;
    return std::nullopt;
}

bool MappingPolicy::permitted(Port external, Endpoint internal) const {
    // miniupnpd's permission rules: the first rule matching all three decides.
    for (const auto& rule : config_.permissions) {
        if (rule.external_ports.contains(external) && rule.internal_network.contains(internal.address) &&
            rule.internal_ports.contains(internal.port))
            return rule.allow;
    }
    return false;  // no match = deny
}

bool MappingPolicy::reserved(Protocol protocol, Port external) const {
    return std::any_of(reserved_.begin(), reserved_.end(),
                       [&](const auto& r) { return r.first == protocol && r.second.contains(external); });
}

const PortMapping* MappingPolicy::live_at(Protocol protocol, Port external, Instant now) const {
    auto it = mappings_.find(Key{protocol, external});
    return it != mappings_.end() && alive(it->second, now) ? &it->second : nullptr;
}

std::optional<MappingRefusal> MappingPolicy::check_port(const PortMapping& requested, Port external,
                                                        Ipv4Address requester, Instant now) const {
    if (!permitted(external, requested.internal)) return MappingRefusal::action_not_authorized;
    if (reserved(requested.protocol, external)) return MappingRefusal::conflict_with_other_mechanisms;
    if (const auto* held = live_at(requested.protocol, external, now)) {
        // The spec's "overwrite": same client, same key, same internal client.
        bool overwrite = held->owner == requester && held->internal.address == requested.internal.address &&
                         held->remote_host == requested.remote_host;
        // A PCP mapping is its internal endpoint's and its nonce's (RFC 6887 §11.2): only a
        // request naming both refreshes it (and may change its FILTER, the remote host), so
        // neither UPnP nor another nonce takes it over, and PCP takes over no UPnP mapping.
        if (held->pcp_nonce || requested.pcp_nonce)
            overwrite = held->owner == requester && held->internal == requested.internal &&
                        held->pcp_nonce == requested.pcp_nonce;
        if (!overwrite) return MappingRefusal::conflict;
    }
    return std::nullopt;
}

std::optional<MappingRefusal> MappingPolicy::check_limits(Ipv4Address owner, Instant now) const {
    std::size_t total = 0;
    std::size_t owned = 0;
    for (const auto& [key, m] : mappings_) {
        if (!alive(m, now)) continue;
        ++total;
        if (m.owner == owner) ++owned;
    }
    if (owned >= config_.per_client_limit || total >= config_.max_mappings)
        return MappingRefusal::no_port_maps_available;
    return std::nullopt;
}

std::optional<Instant::rep> MappingPolicy::lease_cap_seconds() const {
    std::optional<Instant::rep> cap;
    if (config_.max_lease_seconds != 0) cap = config_.max_lease_seconds;
    if (config_.igd_version >= 2 && (!cap || *cap > v2_max_lease_seconds)) cap = v2_max_lease_seconds;
    return cap;
}

std::optional<Instant> MappingPolicy::expiry_for(std::uint32_t lease_seconds, Instant now) const {
    auto cap = lease_cap_seconds();
    // IGD v1 reads lease 0 as "permanent". That is honoured only when no max lease is
    // configured: a permanent mapping outlives the program that asked for it and
    // whatever injected it (UPnProxy, Akamai 2018: mappings planted through exposed
    // IGDs stayed open for months), so with a cap, 0 gets the cap like any long lease.
    if (lease_seconds == 0) {
        if (!cap) return std::nullopt;
        return now + std::chrono::seconds(*cap);
    }
    Instant::rep granted = lease_seconds;
    if (cap && granted > *cap) granted = *cap;
    return now + std::chrono::seconds(granted);
}

std::variant<PortMapping, MappingRefusal> MappingPolicy::install(const PortMapping& requested, Port external,
                                                                 Ipv4Address owner,
                                                                 std::optional<Instant> expires, Instant now) {
    // An overwrite takes no new slot; a new mapping must fit the limits.
    if (!live_at(requested.protocol, external, now)) {
        if (auto refusal = check_limits(owner, now)) return *refusal;
    }
    PortMapping granted = requested;
    granted.external = external;
    granted.owner = owner;
    granted.expires = expires;
    granted.description = normalized_description(requested.description);
    mappings_.insert_or_assign(Key{requested.protocol, external}, granted);
    changed();
    return granted;
}

std::variant<PortMapping, MappingRefusal> MappingPolicy::grant(const PortMapping& requested,
                                                               Ipv4Address requester,
                                                               std::uint32_t lease_seconds, Instant now) {
    if (auto refusal = check_request(requested, requester)) return *refusal;
    if (requested.external.value == 0) return MappingRefusal::wildcard_not_permitted_in_ext_port;
    if (refusing_upstream_nat_) return MappingRefusal::upstream_nat;
    if (auto refusal = check_port(requested, requested.external, requester, now)) return *refusal;
    return install(requested, requested.external, requester, expiry_for(lease_seconds, now), now);
}

std::variant<PortMapping, MappingRefusal> MappingPolicy::grant_any(const PortMapping& requested,
                                                                   Ipv4Address requester,
                                                                   std::uint32_t lease_seconds, Instant now) {
    if (auto refusal = check_request(requested, requester)) return *refusal;
    if (refusing_upstream_nat_) return MappingRefusal::upstream_nat;
    auto expires = expiry_for(lease_seconds, now);
    std::uint16_t preferred = requested.external.value != 0 ? requested.external.value : requested.internal.port.value;
    bool any_permitted = false;
    // Only the preferred port may overwrite the requester's own mapping there; the
    // search takes free ports, never another of the requester's mappings.
    auto try_port = [&](std::uint16_t port) -> std::optional<std::variant<PortMapping, MappingRefusal>> {
        auto refusal = check_port(requested, Port{port}, requester, now);
        if (!refusal && port != preferred && live_at(requested.protocol, Port{port}, now))
            refusal = MappingRefusal::conflict;
        if (!refusal) return install(requested, Port{port}, requester, expires, now);
        if (*refusal != MappingRefusal::action_not_authorized) any_permitted = true;
        return std::nullopt;
    };

    if (auto result = try_port(preferred)) return *result;

    const std::uint32_t count = grant_any_ports.size();
    std::uint32_t start = grant_any_ports.contains(Port{preferred}) ? preferred + 1u - grant_any_ports.first : 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        auto port = std::uint16_t(grant_any_ports.first + (start + i) % count);
        if (port == preferred) continue;
        if (auto result = try_port(port)) return *result;
    }
    return any_permitted ? MappingRefusal::no_port_maps_available : MappingRefusal::action_not_authorized;
}

std::optional<MappingRefusal> MappingPolicy::remove(Protocol protocol, Port external,
                                                    std::optional<Ipv4Address> remote_host, Ipv4Address requester,
                                                    Instant now) {
    const auto* held = live_at(protocol, external, now);
    if (!held || held->remote_host != remote_host) return MappingRefusal::no_such_entry;
    if (config_.secure_mode && held->owner != requester) return MappingRefusal::action_not_authorized;
    mappings_.erase(Key{protocol, external});
    changed();
    return std::nullopt;
}

std::variant<std::vector<PortMapping>, MappingRefusal> MappingPolicy::remove_range(Protocol protocol, PortRange ports,
                                                                                   Ipv4Address requester, bool manage,
                                                                                   Instant now) {
    if (ports.first > ports.last) return MappingRefusal::inconsistent_parameters;
    std::vector<PortMapping> removed;
    bool others_held = false;
    auto it = mappings_.lower_bound(Key{protocol, Port{ports.first}});
    while (it != mappings_.end() && it->first.protocol == protocol && ports.contains(it->first.external)) {
        const auto& m = it->second;
        bool may_delete = m.owner == requester || (manage && !config_.secure_mode);
        if (!alive(m, now) || !may_delete) {
            if (alive(m, now)) others_held = true;
            ++it;
            continue;
        }
        removed.push_back(m);
        it = mappings_.erase(it);
        changed();
    }
    if (removed.empty())
        return others_held ? MappingRefusal::action_not_authorized : MappingRefusal::port_mapping_not_found;
    return removed;
}

const PortMapping* MappingPolicy::find(Protocol protocol, Port external, std::optional<Ipv4Address> remote_host,
                                       Instant now) const {
    const auto* held = live_at(protocol, external, now);
    return held && held->remote_host == remote_host ? held : nullptr;
}

const MappingPolicy::IndexCache& MappingPolicy::index_cache() const {
    if (!cache_.stale) return cache_;
    cache_.by_index.clear();
    cache_.by_index.reserve(mappings_.size());
    cache_.earliest_expiry.reset();
    for (const auto& [key, m] : mappings_) {
        cache_.by_index.push_back(&m);
        if (m.expires && (!cache_.earliest_expiry || *m.expires < *cache_.earliest_expiry))
            cache_.earliest_expiry = m.expires;
    }
    cache_.stale = false;
    return cache_;
}

const PortMapping* MappingPolicy::at_index(std::size_t index, Instant now) const {
    const IndexCache& cache = index_cache();
    // Nothing stored is over yet: stored index = live index.
    if (!cache.earliest_expiry || now < *cache.earliest_expiry)
        return index < cache.by_index.size() ? cache.by_index[index] : nullptr;
    for (const auto& [key, m] : mappings_) {
        if (!alive(m, now)) continue;
        if (index == 0) return &m;
        --index;
    }
    return nullptr;
}

std::vector<PortMapping> MappingPolicy::list(Protocol protocol, PortRange ports, std::size_t max,
                                             Instant now) const {
    std::vector<PortMapping> found;
    if (ports.first > ports.last) return found;
    for (auto it = mappings_.lower_bound(Key{protocol, Port{ports.first}});
         it != mappings_.end() && it->first.protocol == protocol && ports.contains(it->first.external); ++it) {
        if (max != 0 && found.size() == max) break;
        if (alive(it->second, now)) found.push_back(it->second);
    }
    return found;
}

std::vector<PortMapping> MappingPolicy::forwarding_to(Ipv4Address internal_address, Instant now) const {
    std::vector<PortMapping> found;
    for (const auto& [key, m] : mappings_)
        if (alive(m, now) && m.internal.address == internal_address) found.push_back(m);
    return found;
}

bool MappingPolicy::at_client_limit(Ipv4Address owner, Instant now) const {
    std::size_t owned = 0;
    for (const auto& [key, m] : mappings_)
        if (alive(m, now) && m.owner == owner) ++owned;
    return owned >= config_.per_client_limit;
}

std::vector<PortMapping> MappingPolicy::expire(Instant now) {
    std::vector<PortMapping> expired;
    for (auto it = mappings_.begin(); it != mappings_.end();) {
        if (alive(it->second, now)) {
            ++it;
            continue;
        }
        expired.push_back(std::move(it->second));
        it = mappings_.erase(it);
        changed();
    }
    return expired;
}

std::optional<Instant> MappingPolicy::next_expiry() const { return index_cache().earliest_expiry; }

std::vector<PortMapping> MappingPolicy::all() const {
    std::vector<PortMapping> out;
    out.reserve(mappings_.size());
    for (const auto& [key, m] : mappings_) out.push_back(m);
    return out;
}

RestoreReport MappingPolicy::restore(std::vector<PortMapping> saved, Instant now) {
    RestoreReport report;
    auto cap = lease_cap_seconds();
    for (auto& m : saved) {
        if (m.expires && now >= *m.expires) {
            ++report.expired;
            continue;
        }
        auto expires = m.expires;
        if (cap) {
            auto limit = now + std::chrono::seconds(*cap);
            expires = expires ? std::min(*expires, limit) : limit;
        }
        auto refusal = check_request(m, m.owner);
        if (!refusal && m.external.value == 0) refusal = MappingRefusal::wildcard_not_permitted_in_ext_port;
        if (!refusal) refusal = check_port(m, m.external, m.owner, now);
        if (!refusal) {
            auto result = install(m, m.external, m.owner, expires, now);
            if (auto* r = std::get_if<MappingRefusal>(&result)) refusal = *r;
        }
        if (refusal)
            report.refused.push_back(RestoreRefusal{std::move(m), *refusal});
        else
            ++report.restored;
    }
    return report;
}

}  // namespace gw

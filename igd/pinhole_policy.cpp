#include "igd/pinhole_policy.hpp"

#include <algorithm>
#include <chrono>

namespace gw {
namespace {

bool is_loopback(const Ipv6Address& a) {
    Ipv6Address::Bytes loopback{};
    loopback[15] = 1;
    return a.bytes() == loopback;
}

bool lease_in_range(std::uint32_t seconds) { return seconds >= 1 && seconds <= max_pinhole_lease_seconds; }

Instant lease_end(std::uint32_t seconds, Instant now) { return now + std::chrono::seconds(seconds); }

bool same_tuple_as(const Pinhole& a, const Pinhole& b) {
    return a.remote_host == b.remote_host && a.remote_port == b.remote_port && a.internal_client == b.internal_client &&
           a.internal_port == b.internal_port && a.protocol == b.protocol;
}

}  // namespace

// Secure mode's "the requester's own address". pupnp 1.8 serves IPv6 on the LAN
// interface's link-local address only, so an IPv6 request comes from the host's
// link-local address; it stands for the host's addresses with the same interface
// identifier (the last 64 bits: what SLAAC with EUI-64 or a fixed token gives every
// prefix). A host using privacy or stable-privacy addresses must ask from the address
// itself (which needs a server on the global address, pupnp >= 1.14).
bool is_requesters_own(const Ipv6Address& requester, const Ipv6Address& client) {
    if (requester == client) return true;
    if (!requester.is_link_local()) return false;
    return std::equal(requester.bytes().begin() + 8, requester.bytes().end(), client.bytes().begin() + 8);
}

UpnpError upnp_error_of(PinholeRefusal refusal) {
    switch (refusal) {
    case PinholeRefusal::invalid_args: return UpnpError::invalid_args;
    case PinholeRefusal::action_not_authorized: return UpnpError::action_not_authorized;
    case PinholeRefusal::pinhole_space_exhausted: return UpnpError::pinhole_space_exhausted;
    case PinholeRefusal::firewall_disabled: return UpnpError::firewall_disabled;
    case PinholeRefusal::inbound_pinhole_not_allowed: return UpnpError::inbound_pinhole_not_allowed;
    case PinholeRefusal::no_such_entry: return UpnpError::no_such_entry;
    case PinholeRefusal::protocol_not_supported: return UpnpError::protocol_not_supported;
    case PinholeRefusal::internal_port_wildcarding_not_allowed: return UpnpError::internal_port_wildcarding_not_allowed;
    case PinholeRefusal::protocol_wildcarding_not_allowed: return UpnpError::protocol_wildcarding_not_allowed;
    case PinholeRefusal::wildcard_not_permitted_in_src_ip: return UpnpError::pinhole_wildcard_not_permitted_in_src_ip;
    case PinholeRefusal::no_traffic_received: return UpnpError::no_traffic_received;
    }
    return UpnpError::action_failed;
}

Ipv6Address v4_mapped(Ipv4Address address) {
    Ipv6Address::Bytes bytes{};
    bytes[10] = bytes[11] = 0xff;
    std::uint32_t host = address.host_order();
    for (int i = 0; i < 4; ++i) bytes[12 + i] = std::uint8_t(host >> (24 - 8 * i));
    return Ipv6Address(bytes);
}

std::uint32_t remaining_seconds(const PinholeLease& lease, Instant now) {
    if (lease.expires <= now) return 0;
    return std::uint32_t(((lease.expires - now).count() + 999) / 1000);
}

PinholePolicy::PinholePolicy(const PinholeConfig& config, bool secure_mode, PinholeEnvironment environment)
    : config_(config), secure_mode_(secure_mode), environment_(std::move(environment)) {}

// Only a host on the LAN can be behind a pinhole; link-local and multicast addresses
// cannot be reached from the WAN at all, and the gateway's own addresses are not for
// a LAN client to open (spec 2.4.2: REQUIRED).
std::optional<PinholeRefusal> PinholePolicy::check_internal_client(const Ipv6Address& client) const {
    if (client.is_unspecified()) return PinholeRefusal::wildcard_not_permitted_in_src_ip;
    if (client.is_link_local() || client.is_multicast() || client.is_v4_mapped() || is_loopback(client))
        return PinholeRefusal::invalid_args;
    if (std::ranges::find(environment_.gateway_addresses, client) != environment_.gateway_addresses.end())
        return PinholeRefusal::action_not_authorized;
    bool on_lan = std::ranges::any_of(environment_.lan_prefixes,
                                      [&](const Ipv6Network& prefix) { return prefix.contains(client); });
    if (!on_lan) return PinholeRefusal::action_not_authorized;
    return std::nullopt;
}

std::optional<PinholeRefusal> PinholePolicy::check_request(const PinholeRequest& request,
                                                           const Ipv6Address& requester) const {
    if (!config_.enabled) return PinholeRefusal::firewall_disabled;
    if (!config_.allow_inbound) return PinholeRefusal::inbound_pinhole_not_allowed;
    if (!lease_in_range(request.lease_seconds)) return PinholeRefusal::invalid_args;
    if (!request.internal_client) return PinholeRefusal::wildcard_not_permitted_in_src_ip;
    if (request.remote_host && request.remote_host->is_multicast()) return PinholeRefusal::invalid_args;
    if (auto refused = check_internal_client(*request.internal_client)) return refused;
    if (request.protocol == any_ip_protocol) {
        if (!config_.allow_protocol_wildcard) return PinholeRefusal::protocol_wildcarding_not_allowed;
    } else if (request.protocol != ip_protocol_tcp && request.protocol != ip_protocol_udp) {
        return PinholeRefusal::protocol_not_supported;
    }
    if (request.internal_port == 0 && !config_.allow_internal_port_wildcard)
        return PinholeRefusal::internal_port_wildcarding_not_allowed;
    if (secure_mode_ && requester != pinhole_administrator) {
        if (!is_requesters_own(requester, *request.internal_client)) return PinholeRefusal::action_not_authorized;
        // A wildcard port would open the privileged ones too.
        if (request.internal_port < first_unprivileged_port) return PinholeRefusal::action_not_authorized;
    }
    return std::nullopt;
}

const PinholeLease* PinholePolicy::live(std::uint16_t id, Instant now) const {
    auto found = pinholes_.find(id);
    if (found == pinholes_.end() || found->second.expires <= now) return nullptr;
    return &found->second;
}

PinholeLease* PinholePolicy::same_tuple(const Pinhole& wanted, Instant now) {
    for (auto& [id, lease] : pinholes_)
        if (lease.expires > now && same_tuple_as(lease.pinhole, wanted)) return &lease;
    return nullptr;
}

std::optional<PinholeRefusal> PinholePolicy::check_limits(const Ipv6Address& owner, Instant now) const {
    std::size_t total = 0, owned_by = 0;
    for (const auto& [id, lease] : pinholes_) {
        if (lease.expires <= now) continue;
        ++total;
        if (lease.owner == owner) ++owned_by;
    }
    if (owned_by >= config_.per_client_limit || total >= config_.max_pinholes)
        return PinholeRefusal::pinhole_space_exhausted;
    return std::nullopt;
}

std::optional<std::uint16_t> PinholePolicy::free_id() const {
    std::uint16_t id = next_id_;
    for (std::uint32_t tried = 0; tried < max_policy_pinhole_id; ++tried) {
        if (!pinholes_.contains(id)) return id;
        id = id == max_policy_pinhole_id ? 1 : std::uint16_t(id + 1);
    }
    return std::nullopt;
}

PinholeOutcome PinholePolicy::add(const PinholeRequest& request, const Ipv6Address& requester, Instant now) {
    if (auto refused = check_request(request, requester)) return *refused;
    Pinhole wanted;
    // "::" as RemoteHost says "any" as well as "" does.
    if (request.remote_host && !request.remote_host->is_unspecified()) wanted.remote_host = request.remote_host;
    wanted.remote_port = request.remote_port;
    wanted.internal_client = *request.internal_client;
    wanted.internal_port = request.internal_port;
    wanted.protocol = request.protocol;
    if (PinholeLease* existing = same_tuple(wanted, now)) {
        if (existing->owner != requester) return PinholeRefusal::action_not_authorized;
        existing->expires = lease_end(request.lease_seconds, now);
        return *existing;
    }
    if (auto refused = check_limits(requester, now)) return *refused;
    auto id = free_id();
    if (!id) return PinholeRefusal::pinhole_space_exhausted;
    wanted.id = *id;
    next_id_ = *id == max_policy_pinhole_id ? 1 : std::uint16_t(*id + 1);
    PinholeLease lease{wanted, requester, lease_end(request.lease_seconds, now)};
    pinholes_.emplace(*id, lease);
    return lease;
}

PinholeOutcome PinholePolicy::update(std::uint16_t id, std::uint32_t lease_seconds, const Ipv6Address& requester,
                                     Instant now) {
    if (!config_.enabled) return PinholeRefusal::firewall_disabled;
    if (!config_.allow_inbound) return PinholeRefusal::inbound_pinhole_not_allowed;
    if (!lease_in_range(lease_seconds)) return PinholeRefusal::invalid_args;
    auto outcome = owned(id, requester, now);
    if (std::holds_alternative<PinholeRefusal>(outcome)) return outcome;
    PinholeLease& lease = pinholes_.at(id);
    lease.expires = lease_end(lease_seconds, now);
    return lease;
}

PinholeOutcome PinholePolicy::remove(std::uint16_t id, const Ipv6Address& requester, Instant now) {
    auto outcome = owned(id, requester, now);
    if (std::holds_alternative<PinholeLease>(outcome)) pinholes_.erase(id);
    return outcome;
}

PinholeOutcome PinholePolicy::owned(std::uint16_t id, const Ipv6Address& requester, Instant now) const {
    if (!config_.enabled) return PinholeRefusal::firewall_disabled;
    const PinholeLease* lease = live(id, now);
    if (!lease) return PinholeRefusal::no_such_entry;
    if (lease->owner != requester && requester != pinhole_administrator) return PinholeRefusal::action_not_authorized;
    return *lease;
}

std::optional<PinholeRefusal> PinholePolicy::working_verdict(std::uint64_t packets_let_in) {
    if (packets_let_in == 0) return PinholeRefusal::no_traffic_received;
    return std::nullopt;
}

std::variant<std::uint32_t, PinholeRefusal> PinholePolicy::outbound_timeout(std::uint16_t protocol) const {
    if (!config_.enabled) return PinholeRefusal::firewall_disabled;
    if (protocol == ip_protocol_tcp) return environment_.outbound_tcp_seconds;
    if (protocol == ip_protocol_udp) return environment_.outbound_udp_seconds;
    if (protocol == any_ip_protocol) return std::min(environment_.outbound_tcp_seconds, environment_.outbound_udp_seconds);
    return PinholeRefusal::protocol_not_supported;
}

std::vector<PinholeLease> PinholePolicy::expire(Instant now) {
    std::vector<PinholeLease> ended;
    for (auto it = pinholes_.begin(); it != pinholes_.end();) {
        if (it->second.expires <= now) {
            ended.push_back(it->second);
            it = pinholes_.erase(it);
        } else {
            ++it;
        }
    }
    return ended;
}

std::optional<Instant> PinholePolicy::next_expiry() const {
    std::optional<Instant> earliest;
    for (const auto& [id, lease] : pinholes_)
        if (!earliest || lease.expires < *earliest) earliest = lease.expires;
    return earliest;
}

std::vector<PinholeLease> PinholePolicy::all() const {
    std::vector<PinholeLease> out;
    out.reserve(pinholes_.size());
    for (const auto& [id, lease] : pinholes_) out.push_back(lease);
    return out;
}

PinholeRestoreReport PinholePolicy::restore(std::vector<PinholeLease> saved, Instant now) {
    PinholeRestoreReport report;
    std::ranges::sort(saved, {}, [](const PinholeLease& l) { return l.pinhole.id; });
    for (auto& lease : saved) {
        if (lease.expires <= now) {
            ++report.expired;
            continue;
        }
        const Pinhole& p = lease.pinhole;
        // The same checks as a grant, with what is left of the lease (never more than the maximum).
        auto remaining = std::min(remaining_seconds(lease, now), max_pinhole_lease_seconds);
        PinholeRequest request{p.remote_host, p.remote_port, p.internal_client, p.internal_port, p.protocol, remaining};
        std::optional<PinholeRefusal> refused = check_request(request, lease.owner);
        if (!refused && (p.id == 0 || pinholes_.contains(p.id) || same_tuple(p, now)))
            refused = PinholeRefusal::invalid_args;
        if (!refused) refused = check_limits(lease.owner, now);
        if (refused) {
            report.refused.emplace_back(lease, *refused);
            continue;
        }
        lease.expires = std::min(lease.expires, lease_end(max_pinhole_lease_seconds, now));
        pinholes_.emplace(p.id, lease);
        next_id_ = p.id >= max_policy_pinhole_id ? 1 : std::uint16_t(p.id + 1);
        ++report.restored;
    }
    return report;
}

}  // namespace gw

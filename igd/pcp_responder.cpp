#include "igd/pcp_responder.hpp"

#include <algorithm>
#include <variant>

namespace gw {
namespace {

struct Refusal {
    PcpResult result;
    std::string reason;
};

// What an opcode's handler decided: a success response and its changes, or a refusal.
struct Granted {
    PcpResponse response;
    MappingChanges changes;
    std::string reason;
};
using Outcome = std::variant<Granted, Refusal>;

constexpr std::uint8_t natpmp_version = 0;
constexpr std::uint8_t natpmp_unsupported_version = 1;

std::string protocol_text(std::uint8_t protocol) {
    if (protocol == std::uint8_t(Protocol::tcp)) return "tcp";
    if (protocol == std::uint8_t(Protocol::udp)) return "udp";
    return "protocol " + std::to_string(protocol);
}

std::string nonce_text(const PcpNonce& nonce) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (auto byte : nonce) {
        out += hex[byte >> 4];
        out += hex[byte & 0xf];
    }
    return out;
}

// 0.0.0.0 is what an interface without its DHCP lease yet reports.
bool has_external_address(const PcpRequestContext& context) {
    return context.external_address && *context.external_address != Ipv4Address();
}

std::uint32_t error_lifetime(PcpResult result) {
    return is_short_lifetime_error(result) ? pcp_short_error_lifetime_seconds : pcp_long_error_lifetime_seconds;
}

std::uint32_t clamped_lifetime(std::uint32_t requested, const PcpConfig& config) {
    return std::clamp(requested, config.min_lifetime_seconds, std::max(config.min_lifetime_seconds,
                                                                       config.max_lifetime_seconds));
}

// RFC 6886 §3.5 (with erratum 3618): the answer a NAT-PMP client understands, for a
// version 0 request reaching a PCP-only responder (the daemon gives version 0 to its
// NAT-PMP responder first).
std::vector<std::uint8_t> natpmp_unsupported_version_answer(std::uint8_t opcode, std::uint32_t epoch) {
    return {natpmp_version, std::uint8_t(0x80 | opcode), 0, natpmp_unsupported_version,
            std::uint8_t(epoch >> 24), std::uint8_t(epoch >> 16), std::uint8_t(epoch >> 8), std::uint8_t(epoch)};
}

// The internal host the request is about: the client, or THIRD_PARTY's host (§13.1).
std::variant<Ipv4Address, Refusal> internal_address_of(const PcpRequest& request, const PcpRequestContext& context) {
    Ipv4Address internal = context.source.address;
    if (request.options.third_party) {
        if (!context.config.allow_third_party) return Refusal{PcpResult::unsupp_option, "THIRD_PARTY is not enabled"};
        auto v4 = ipv4_of_pcp_address(*request.options.third_party);
        if (!v4)
            return Refusal{PcpResult::not_authorized, "THIRD_PARTY " + request.options.third_party->to_string() +
                                                          " is IPv6: IPv6 is served by MAP only, as pinholes"};
        if (*v4 == Ipv4Address())
            return Refusal{PcpResult::malformed_option, "THIRD_PARTY names the unspecified address"};
        internal = *v4;
    }
    if (internal == context.server_address)
        return Refusal{PcpResult::not_authorized, "internal address " + internal.to_string() + " is the gateway's own"};
    return internal;
}

// The remote host FILTER leaves in (nullopt: any), when the packet path can enforce it.
std::variant<std::optional<Ipv4Address>, Refusal> remote_host_of(const std::vector<PcpFilter>& filters) {
    std::vector<PcpFilter> effective;
    for (const PcpFilter& filter : filters) {
        if (filter.prefix_length == 0)
            effective.clear();  // §13.3: prefix 0 removes the filters before it
        else
            effective.push_back(filter);
    }
    if (effective.empty()) return std::optional<Ipv4Address>();
    const PcpFilter& only = effective.front();
    auto v4 = ipv4_of_pcp_address(only.remote_address);
    if (effective.size() > 1 || only.prefix_length != 128 || only.remote_port.value != 0 || !v4)
        return Refusal{PcpResult::excessive_remote_peers,
                       "FILTER can only be one IPv4 /32 with remote port 0 here (" +
                           std::to_string(effective.size()) + " filter(s), first " +
                           only.remote_address.to_string() + "/" + std::to_string(only.prefix_length) + " port " +
                           std::to_string(only.remote_port.value) + ")"};
    return std::optional<Ipv4Address>(*v4);
}

Refusal refusal_of(MappingRefusal refusal, const MappingPolicy& policy, Ipv4Address requester, Instant now) {
    PcpResult result = pcp_result_of(refusal);
    if (refusal == MappingRefusal::no_port_maps_available && policy.at_client_limit(requester, now))
        result = PcpResult::user_ex_quota;
    return Refusal{result, "mapping policy: " + std::string(upnp_error_description(refusal)) + " (" +
                               std::to_string(upnp_error_code(refusal)) + ")"};
}

PcpResponse success_response(const PcpRequest& request, const PcpRequestContext& context, std::uint32_t lifetime,
                             PcpOpcodeData data) {
    return PcpResponse{request.opcode, PcpResult::success, lifetime, context.epoch_seconds, std::move(data),
                       request.options};
}

// MAP with lifetime 0 (§15): the client's PCP mappings that match, if its nonce is theirs.
Outcome delete_mappings(const PcpRequest& request, const PcpMapData& map, Ipv4Address internal,
                        const PcpRequestContext& context, MappingPolicy& policy, Instant now) {
    bool every_protocol = map.protocol == 0;  // §11.1: the internal port is then ignored
    bool every_port = every_protocol || map.internal_port.value == 0;
    auto matches = [&](const PortMapping& m) {
        return (every_protocol || std::uint8_t(m.protocol) == map.protocol) &&
               (every_port || m.internal.port == map.internal_port);
    };
    std::vector<PortMapping> pcp, others;
    for (auto& m : policy.forwarding_to(internal, now)) {
        if (!matches(m)) continue;
        (m.pcp_nonce ? pcp : others).push_back(std::move(m));
    }
    std::string what = "delete " + (every_protocol ? std::string("every protocol") : protocol_text(map.protocol)) +
                       " " + internal.to_string() + ":" + (every_port ? "*" : std::to_string(map.internal_port.value));
    // A delete of one endpoint that only another mechanism mapped is refused; "all my
    // mappings" simply leaves those alone.
    if (pcp.empty() && !others.empty() && !every_port)
        return Refusal{PcpResult::not_authorized, what + ": mapped by UPnP or another mechanism, not by PCP"};
    std::vector<PortMapping> ours;
    for (auto& m : pcp)
        if (m.pcp_nonce == map.nonce) ours.push_back(std::move(m));
    if (!pcp.empty() && ours.empty())
        return Refusal{PcpResult::not_authorized, what + ": the mapping's nonce is not " + nonce_text(map.nonce)};
    // Checked before anything is removed: a refused request changes nothing (§7.3).
    for (const auto& m : ours)
        if (policy.secure_mode() && m.owner != context.source.address)
            return Refusal{PcpResult::not_authorized, what + ": owned by " + m.owner.to_string() + " (secure mode)"};

    Granted granted{success_response(request, context, 0, map), {}, what};
    for (const auto& m : ours) {
        if (auto refused = policy.remove(m.protocol, m.external, m.remote_host, context.source.address, now))
            return refusal_of(*refused, policy, context.source.address, now);  // not reached: checked above
        granted.changes.removed.push_back(m);
    }
    if (ours.size() == 1 && !every_port && has_external_address(context)) {
        auto& data = std::get<PcpMapData>(granted.response.data);
        data.external_port = ours.front().external;
        data.external_address = pcp_address_of(*context.external_address);
    }
    granted.reason += ours.empty() ? ": nothing mapped" : ": removed " + std::to_string(ours.size());
    return granted;
}

Outcome create_mapping(const PcpRequest& request, const PcpMapData& map, Protocol protocol, Ipv4Address internal,
                       const PcpRequestContext& context, MappingPolicy& policy, Instant now) {
    std::string what = "MAP " + protocol_text(map.protocol) + " " + internal.to_string() + ":" +
                       std::to_string(map.internal_port.value);
    if (map.internal_port.value == 0)
        return Refusal{PcpResult::not_authorized, what + ": all-ports mappings are not offered"};
    if (!has_external_address(context)) return Refusal{PcpResult::network_failure, what + ": no WAN address yet"};
    auto remote = remote_host_of(request.options.filters);
    if (auto* refused = std::get_if<Refusal>(&remote)) return Refusal{refused->result, what + ": " + refused->reason};
    bool prefer_failure = request.options.prefer_failure;
    if (prefer_failure && map.external_port.value == 0 && is_pcp_unspecified(map.external_address))
        return Refusal{PcpResult::malformed_option, what + ": PREFER_FAILURE without a suggested port or address"};
    Ipv6Address ours = pcp_address_of(*context.external_address);
    if (!is_pcp_unspecified(map.external_address) && map.external_address != ours && prefer_failure)
        return Refusal{PcpResult::cannot_provide_external,
                       what + ": suggested address " + map.external_address.to_string() + " is not ours"};

    // §11.2: a mapping of this internal endpoint is the nonce holder's to refresh.
    std::optional<PortMapping> existing;
    for (auto& m : policy.forwarding_to(internal, now))
        if (m.pcp_nonce && m.protocol == protocol && m.internal.port == map.internal_port) existing = std::move(m);
    if (existing && existing->pcp_nonce != map.nonce)
        return Refusal{PcpResult::not_authorized, what + ": mapped already, under another nonce"};

    PortMapping wanted;
    wanted.protocol = protocol;
    wanted.external = existing ? existing->external : map.external_port;
    wanted.internal = Endpoint{internal, map.internal_port};
    wanted.remote_host = std::get<std::optional<Ipv4Address>>(remote);
    wanted.description = std::string(pcp_mapping_description);
    wanted.pcp_nonce = map.nonce;
    std::uint32_t lifetime = clamped_lifetime(request.requested_lifetime, context.config);
    Ipv4Address requester = context.source.address;

    std::variant<PortMapping, MappingRefusal> result;
    bool exact = existing || prefer_failure;  // the one port, or failure
    if (existing && prefer_failure && map.external_port.value != 0 && map.external_port != existing->external)
        return Refusal{PcpResult::cannot_provide_external,
                       what + ": mapped already to external port " + std::to_string(existing->external.value)};
    if (exact && wanted.external.value != 0)
        result = policy.grant(wanted, requester, lifetime, now);
    else
        result = policy.grant_any(wanted, requester, lifetime, now);
    if (auto* refused = std::get_if<MappingRefusal>(&result)) {
        Refusal refusal = refusal_of(*refused, policy, requester, now);
        refusal.reason = what + ": " + refusal.reason;
        return refusal;
    }
    const PortMapping& granted = std::get<PortMapping>(result);
    PcpMapData assigned = map;
    assigned.external_port = granted.external;
    assigned.external_address = ours;
    std::uint32_t granted_lifetime = remaining_lease_seconds(granted, now);
    Granted outcome{success_response(request, context, granted_lifetime, assigned), {}, {}};
    outcome.changes.granted.push_back(granted);
    outcome.reason = what + " -> external port " + std::to_string(granted.external.value) + " for " +
                     std::to_string(granted_lifetime) + " s" + (existing ? " (refreshed)" : "");
    return outcome;
}

Outcome answer_map(const PcpRequest& request, const PcpRequestContext& context, MappingPolicy& policy,
                   Instant now) {
    const auto& map = std::get<PcpMapData>(request.data);
    // An IPv6 host behind THIRD_PARTY: a pinhole, not a NAT mapping.
    if (context.config.allow_third_party && request.options.third_party &&
        !ipv4_of_pcp_address(*request.options.third_party)) {
        PcpPinholeAnswer pinhole = map_pinhole(request, map, *request.options.third_party, context);
        if (pinhole.result != PcpResult::success) return Refusal{pinhole.result, std::move(pinhole.reason)};
        return Granted{success_response(request, context, pinhole.lifetime, pinhole.assigned), {},
                       std::move(pinhole.reason)};
    }
    auto internal = internal_address_of(request, context);
    if (auto* refused = std::get_if<Refusal>(&internal)) return *refused;
    Ipv4Address internal_address = std::get<Ipv4Address>(internal);
    if (request.requested_lifetime == 0) return delete_mappings(request, map, internal_address, context, policy, now);
    if (map.protocol != std::uint8_t(Protocol::tcp) && map.protocol != std::uint8_t(Protocol::udp))
        return Refusal{PcpResult::unsupp_protocol,
                       "MAP " + protocol_text(map.protocol) + ": only tcp and udp mappings are offered"};
    return create_mapping(request, map, Protocol(map.protocol), internal_address, context, policy, now);
}

Outcome answer_peer(const PcpRequest& request, const PcpRequestContext& context) {
    const auto& peer = std::get<PcpPeerData>(request.data);
    const PcpMapData& map = peer.map;
    if (map.protocol != std::uint8_t(Protocol::tcp) && map.protocol != std::uint8_t(Protocol::udp))
        return Refusal{PcpResult::unsupp_protocol, "PEER " + protocol_text(map.protocol) + ": only tcp and udp"};
    auto internal = internal_address_of(request, context);
    if (auto* refused = std::get_if<Refusal>(&internal)) return *refused;
    if (map.internal_port.value == 0 || peer.remote_port.value == 0)
        return Refusal{PcpResult::malformed_request, "PEER names no internal or remote port"};
    auto remote = ipv4_of_pcp_address(peer.remote_address);
    if (!remote)
        return Refusal{PcpResult::not_authorized,
                       "PEER to " + peer.remote_address.to_string() + ": IPv6 peers are not served over PCP"};
    if (*remote == Ipv4Address()) return Refusal{PcpResult::malformed_request, "PEER to the unspecified address"};
    Endpoint inside{std::get<Ipv4Address>(internal), map.internal_port};
    Endpoint outside{*remote, peer.remote_port};
    std::string what = "PEER " + protocol_text(map.protocol) + " " + to_string(inside) + " -> " + to_string(outside);
    if (!has_external_address(context)) return Refusal{PcpResult::network_failure, what + ": no WAN address yet"};
    if (request.requested_lifetime == 0)
        return Granted{success_response(request, context, 0, peer), {}, what + ": delete (the NAT's, kept by traffic)"};
    std::optional<Port> external;
    if (context.outbound_mapping) external = context.outbound_mapping(Protocol(map.protocol), inside, outside);
    if (!external)
        return Refusal{PcpResult::no_resources, what + ": no outbound mapping yet (the flow's first packet makes one)"};
    PcpPeerData assigned = peer;
    assigned.map.external_port = *external;
    assigned.map.external_address = pcp_address_of(*context.external_address);
    std::uint32_t lifetime =
        std::min(clamped_lifetime(request.requested_lifetime, context.config), pcp_peer_lifetime_cap_seconds);
    return Granted{success_response(request, context, lifetime, assigned), {},
                   what + ": external port " + std::to_string(external->value) + " for " + std::to_string(lifetime) +
                       " s"};
}

}  // namespace

PcpResult pcp_result_of(MappingRefusal refusal) {
    switch (refusal) {
        case MappingRefusal::action_not_authorized: return PcpResult::not_authorized;
        case MappingRefusal::internal_client_not_lan_host: return PcpResult::not_authorized;
        case MappingRefusal::conflict: return PcpResult::cannot_provide_external;
        case MappingRefusal::conflict_with_other_mechanisms: return PcpResult::cannot_provide_external;
        case MappingRefusal::no_port_maps_available: return PcpResult::no_resources;
        // wan.cascade_mappings: refuse: another NAT upstream keeps any mapping from working
        // (NETWORK_FAILURE: a short-lived error, asked again once the WAN changes).
        case MappingRefusal::upstream_nat: return PcpResult::network_failure;
        case MappingRefusal::wildcard_not_permitted_in_int_port: return PcpResult::not_authorized;
        // An unusable internal address (loopback, multicast...) or a request no PCP
        // message can express (the answer_pcp checks make these unreachable).
        case MappingRefusal::invalid_args: return PcpResult::malformed_request;
        case MappingRefusal::wildcard_not_permitted_in_ext_port: return PcpResult::malformed_request;
        case MappingRefusal::specified_array_index_invalid: return PcpResult::malformed_request;
        case MappingRefusal::no_such_entry: return PcpResult::malformed_request;
        case MappingRefusal::port_mapping_not_found: return PcpResult::malformed_request;
        case MappingRefusal::inconsistent_parameters: return PcpResult::malformed_request;
    }
    return PcpResult::malformed_request;
}

PcpAnswer answer_pcp(std::span<const std::uint8_t> request, const PcpRequestContext& context,
                     MappingPolicy& policy, Instant now) {
    PcpAnswer answer;
    if (request.size() >= 2 && request[0] == natpmp_version && !(request[1] & pcp_response_bit)) {
        answer.response = natpmp_unsupported_version_answer(request[1], context.epoch_seconds);
        answer.result = PcpResult::unsupp_version;
        answer.reason = "NAT-PMP request (version 0)";
        return answer;
    }
    auto refuse = [&](PcpResult result, std::string reason) {
        answer.response = encode_pcp_error_response(request, result, error_lifetime(result), context.epoch_seconds);
        answer.result = result;
        answer.reason = std::move(reason);
        return std::move(answer);
    };
    auto decoded = decode_pcp_request(request);
    if (!decoded) {
        const PcpDecodeError& error = decoded.error();
        if (!error.result) {
            answer.reason = "dropped: " + error.reason;
            return answer;
        }
        return refuse(*error.result, error.reason);
    }
    const PcpRequest& message = *decoded;
    // §8.2: a NAT between client and server (which would map the wrong address) shows here.
    if (message.client_address != pcp_address_of(context.source.address))
        return refuse(PcpResult::address_mismatch, "client address field " + message.client_address.to_string() +
                                                       " is not the source " + context.source.address.to_string());
    Outcome outcome;
    switch (message.opcode) {
        case PcpOpcode::announce:
            outcome = Granted{success_response(message, context, 0, std::monostate{}), {}, "ANNOUNCE"};
            break;
        case PcpOpcode::map: outcome = answer_map(message, context, policy, now); break;
        case PcpOpcode::peer: outcome = answer_peer(message, context); break;
    }
    if (auto* refused = std::get_if<Refusal>(&outcome)) return refuse(refused->result, std::move(refused->reason));
    auto& granted = std::get<Granted>(outcome);
    answer.response = encode_pcp_response(granted.response);
    answer.changes = std::move(granted.changes);
    answer.result = PcpResult::success;
    answer.reason = std::move(granted.reason);
    return answer;
}

}  // namespace gw

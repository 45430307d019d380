#include "igd/natpmp_responder.hpp"

#include <variant>

namespace gw {
namespace {

std::string protocol_word(Protocol p) { return p == Protocol::udp ? "udp" : "tcp"; }

std::string natpmp_description(Protocol protocol, Port internal) {
    return std::string(natpmp_description_prefix) + std::to_string(internal.value) + " " + protocol_word(protocol);
}

bool usable(const std::optional<Ipv4Address>& address) { return address && address->host_order() != 0; }

std::string asked(const NatPmpMappingRequest& r, Ipv4Address client) {
    return protocol_word(r.protocol) + " " + client.to_string() + ":" + std::to_string(r.internal.value) +
           " suggested " + std::to_string(r.suggested_external.value) + " lifetime " +
           std::to_string(r.lifetime_seconds) + " s";
}

// The client's live NAT-PMP mappings of `protocol`; of one internal port unless it is 0.
std::vector<PortMapping> natpmp_mappings_of(const MappingPolicy& policy, Ipv4Address client, Protocol protocol,
                                            Port internal, Instant now) {
    std::vector<PortMapping> found;
    for (auto& m : policy.list(protocol, PortRange{1, 65535}, 0, now)) {
        if (m.owner != client || m.internal.address != client || !is_natpmp_mapping(m)) continue;
        if (internal.value != 0 && m.internal.port != internal) continue;
        found.push_back(std::move(m));
    }
    return found;
}

NatPmpAnswer refuse(const NatPmpMappingRequest& r, const PortControlContext& context, NatPmpResult result,
                    std::string decision) {
    NatPmpAnswer answer;
    answer.response = encode_natpmp_mapping_response(r.protocol, result, context.epoch_seconds, r.internal, Port{}, 0);
    answer.result = result;
    answer.decision = std::move(decision);
    return answer;
}

NatPmpAnswer delete_mappings(const NatPmpMappingRequest& r, Ipv4Address client, const PortControlContext& context,
                             MappingPolicy& policy, Instant now) {
    NatPmpAnswer answer;
    for (const auto& m : natpmp_mappings_of(policy, client, r.protocol, r.internal, now)) {
        if (!policy.remove(m.protocol, m.external, m.remote_host, client, now)) answer.changes.removed.push_back(m);
    }
    // §3.4: a deletion is answered with the internal port asked about, external port 0
    // and lifetime 0; deleting what does not exist is not an error.
    answer.response =
        encode_natpmp_mapping_response(r.protocol, NatPmpResult::success, context.epoch_seconds, r.internal, Port{}, 0);
    answer.decision = "deletion of " + asked(r, client) + ": " + std::to_string(answer.changes.removed.size()) +
                      " mappings deleted";
    return answer;
}

NatPmpAnswer map(const NatPmpMappingRequest& r, Ipv4Address client, const PortControlContext& context,
                 MappingPolicy& policy, Instant now) {
    if (r.internal.value == 0)
        return refuse(r, context, NatPmpResult::not_authorized, asked(r, client) + ": internal port 0 is only for deletion");
    PortMapping requested;
    requested.protocol = r.protocol;
    requested.internal = Endpoint{client, r.internal};
    requested.description = natpmp_description(r.protocol, r.internal);
    std::variant<PortMapping, MappingRefusal> granted = MappingRefusal::no_port_maps_available;
    // A repeat request renews the mapping the client holds and keeps its external port
    // (§3.3: the client may have told peers about it).
    auto held = natpmp_mappings_of(policy, client, r.protocol, r.internal, now);
    bool renewal = !held.empty();
    if (renewal) {
        requested.external = held.front().external;
        granted = policy.grant(requested, client, r.lifetime_seconds, now);
    }
    if (!std::holds_alternative<PortMapping>(granted)) {
        requested.external = r.suggested_external;  // 0: the internal port first
        granted = policy.grant_any(requested, client, r.lifetime_seconds, now);
    }
    if (auto* refusal = std::get_if<MappingRefusal>(&granted)) {
        NatPmpResult result = natpmp_result_of(*refusal);
        NatPmpAnswer answer = refuse(r, context, result,
                                     asked(r, client) + ": " + std::string(upnp_error_description(*refusal)));
        answer.refusal = *refusal;
        return answer;
    }
    const PortMapping& m = std::get<PortMapping>(granted);
    NatPmpAnswer answer;
    std::uint32_t lifetime = remaining_lease_seconds(m, now);
    answer.response = encode_natpmp_mapping_response(r.protocol, NatPmpResult::success, context.epoch_seconds,
                                                     r.internal, m.external, lifetime);
    answer.changes.granted.push_back(m);
    // A renewal that moved to another port (its old one reserved meanwhile) frees the old.
    if (renewal && held.front().external != m.external) {
        if (!policy.remove(r.protocol, held.front().external, held.front().remote_host, client, now))
            answer.changes.removed.push_back(held.front());
    }
    answer.decision = std::string(renewal ? "renewed " : "granted ") + protocol_word(r.protocol) + " " +
                      std::to_string(m.external.value) + " -> " + to_string(m.internal) + " for " +
                      std::to_string(lifetime) + " s (asked: " + asked(r, client) + ")";
    return answer;
}

}  // namespace

bool is_natpmp_mapping(const PortMapping& mapping) { return mapping.description.starts_with(natpmp_description_prefix); }

NatPmpResult natpmp_result_of(MappingRefusal refusal) {
    switch (refusal) {
        // wan.cascade_mappings: refuse: the WAN address is behind another NAT, which the
        // RFC's "not connected to the internet" result tells the client best.
        case MappingRefusal::upstream_nat: return NatPmpResult::network_failure;
        case MappingRefusal::no_port_maps_available:
        case MappingRefusal::conflict:
            return NatPmpResult::out_of_resources;
        case MappingRefusal::action_not_authorized:
        case MappingRefusal::internal_client_not_lan_host:
        case MappingRefusal::conflict_with_other_mechanisms:
        case MappingRefusal::invalid_args:
        case MappingRefusal::wildcard_not_permitted_in_int_port:
        case MappingRefusal::wildcard_not_permitted_in_ext_port:
        case MappingRefusal::specified_array_index_invalid:
        case MappingRefusal::no_such_entry:
        case MappingRefusal::port_mapping_not_found:
        case MappingRefusal::inconsistent_parameters:
            return NatPmpResult::not_authorized;
    }
    return NatPmpResult::not_authorized;
}

NatPmpAnswer answer_natpmp(std::span<const std::uint8_t> request, Ipv4Address client,
                           const PortControlContext& context, MappingPolicy& policy, Instant now) {
    NatPmpDecoded decoded = decode_natpmp_request(request);
    if (!decoded) {
        const NatPmpDecodeError* error = &decoded.error();
        NatPmpAnswer answer;
        answer.ignored_or_malformed = error->problem;
        switch (error->problem) {
            case NatPmpProblem::unsupported_version: answer.result = NatPmpResult::unsupported_version; break;
            case NatPmpProblem::unsupported_opcode: answer.result = NatPmpResult::unsupported_opcode; break;
            default: answer.decision = "ignored: " + std::string(natpmp_problem_name(error->problem)); return answer;
        }
        answer.response = encode_natpmp_header_response(error->opcode, answer.result, context.epoch_seconds);
        answer.decision = "opcode " + std::to_string(error->opcode) + ": " +
                          std::string(natpmp_problem_name(error->problem));
        return answer;
    }
    // §3.5 result 3: without a usable external address no mapping could be reached.
    const bool connected = usable(context.external_address);
    if (std::holds_alternative<NatPmpExternalAddressRequest>(*decoded)) {
        NatPmpAnswer answer;
        answer.result = connected ? NatPmpResult::success : NatPmpResult::network_failure;
        answer.response = encode_natpmp_external_address_response(
            answer.result, context.epoch_seconds, connected ? *context.external_address : Ipv4Address());
        answer.decision = "external address: " + (connected ? context.external_address->to_string() : "none");
        return answer;
    }
    const auto& mapping = std::get<NatPmpMappingRequest>(*decoded);
    if (!connected)
        return refuse(mapping, context, NatPmpResult::network_failure,
                      asked(mapping, client) + ": no usable external address");
    if (mapping.lifetime_seconds == 0) return delete_mappings(mapping, client, context, policy, now);
    return map(mapping, client, context, policy, now);
}

}  // namespace gw

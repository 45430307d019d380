#include "igd/refusal_reasons.hpp"

#include <algorithm>

namespace gw {
namespace {

std::string pinhole_protocol_text(std::uint16_t protocol) {
    if (protocol == ip_protocol_tcp) return "TCP";
    if (protocol == ip_protocol_udp) return "UDP";
    if (protocol == any_ip_protocol) return "any protocol";
    return "protocol " + std::to_string(protocol);
}

}  // namespace

std::string mapping_request_text(const PortMapping& requested) {
    // Upper case as UPnP's NewProtocol has it.
    return std::string(requested.protocol == Protocol::udp ? "UDP" : "TCP") + " " +
           std::to_string(requested.external.value) + " -> " +
           to_string(requested.internal);
}

std::string pinhole_request_text(const PinholeRequest& request) {
    std::string text = pinhole_protocol_text(request.protocol) + " [" +
                       (request.internal_client ? request.internal_client->to_string() : std::string("none")) +
                       "]:" + std::to_string(request.internal_port) + " from ";
    const bool any_host = !request.remote_host || request.remote_host->is_unspecified();
    if (any_host && request.remote_port == 0) return text + "any";
    return text + (any_host ? std::string("any") : "[" + request.remote_host->to_string() + "]") + ":" +
           (request.remote_port == 0 ? std::string("any") : std::to_string(request.remote_port));
}

std::string mapping_refusal_reason(MappingRefusal refusal, const PortMapping& requested, Ipv4Address requester,
                                   bool secure_mode, bool at_client_limit) {
    switch (refusal) {
        case MappingRefusal::invalid_args:
            return "neither TCP nor UDP, internal port 0, or an internal address no host has";
        case MappingRefusal::action_not_authorized:
            // check_request's secure mode comes before check_port's permission rules.
            if (secure_mode && requested.internal.address != requester)
                return "secure mode: a client may map only to its own address";
            return "no upnp.permissions rule allows this external port, internal address and port";
        case MappingRefusal::internal_client_not_lan_host:
            return "the internal client is not a LAN host (the gateway, a network or broadcast address, or outside "
                   "lan.networks)";
        case MappingRefusal::wildcard_not_permitted_in_ext_port: return "external port 0";
        case MappingRefusal::wildcard_not_permitted_in_int_port: return "internal port 0";
        case MappingRefusal::conflict: return "another client holds this external port";
        case MappingRefusal::no_port_maps_available:
            return at_client_limit ? "the client holds upnp.per_client_limit mappings already"
                                   : "upnp.max_mappings reached, or no permitted external port is free";
        case MappingRefusal::conflict_with_other_mechanisms:
            return "a static forward (or the NAT's own port range) holds this external port";
        case MappingRefusal::upstream_nat:
            return "another NAT is upstream and wan.cascade_mappings is refuse";
        case MappingRefusal::specified_array_index_invalid:
        case MappingRefusal::no_such_entry:
        case MappingRefusal::port_mapping_not_found:
        case MappingRefusal::inconsistent_parameters: break;
    }
    return std::string(upnp_error_description(refusal));
}

std::string pinhole_refusal_reason(PinholeRefusal refusal, const PinholeRequest& request,
                                   const Ipv6Address& requester, bool secure_mode,
                                   std::span<const Ipv6Network> lan_prefixes,
                                   std::span<const Ipv6Address> gateway_addresses) {
    switch (refusal) {
        case PinholeRefusal::invalid_args:
            return "a lease outside 1-86400 s, or an address no LAN host can have (link-local, multicast, loopback)";
        case PinholeRefusal::action_not_authorized: {
            if (!request.internal_client) break;
            const Ipv6Address& client = *request.internal_client;
            if (std::ranges::find(gateway_addresses, client) != gateway_addresses.end())
                return "the internal client is the gateway's own address";
            if (std::ranges::none_of(lan_prefixes, [&](const Ipv6Network& p) { return p.contains(client); }))
                return "the internal client is outside the LAN's IPv6 prefixes";
            if (secure_mode && requester != pinhole_administrator) {
                if (!is_requesters_own(requester, client))
                    return "secure mode: a host may open pinholes only to its own address";
                if (request.internal_port < first_unprivileged_port)
                    return "secure mode: an internal port below 1024 (0 included)";
            }
            return "another host holds the same pinhole";
        }
        case PinholeRefusal::pinhole_space_exhausted:
            return "upnp.pinholes.per_client_limit or max_pinholes reached, or no UniqueID free";
        case PinholeRefusal::firewall_disabled: return "upnp.pinholes.enabled is false";
        case PinholeRefusal::inbound_pinhole_not_allowed: return "upnp.pinholes.allow_inbound is false";
        case PinholeRefusal::protocol_not_supported: return "neither TCP nor UDP";
        case PinholeRefusal::internal_port_wildcarding_not_allowed:
            return "internal port 0 and upnp.pinholes.allow_internal_port_wildcard is false";
        case PinholeRefusal::protocol_wildcarding_not_allowed:
            return "protocol 65535 (any) and upnp.pinholes.allow_protocol_wildcard is false";
        case PinholeRefusal::wildcard_not_permitted_in_src_ip: return "no internal client";
        case PinholeRefusal::no_such_entry:
        case PinholeRefusal::no_traffic_received: break;
    }
    return std::string(upnp_error_description(upnp_error_of(refusal)));
}

std::string refusal_line(std::string_view what, std::string_view request, const SoapFault& fault,
                         std::string_view reason) {
    std::string line = "UPnP: " + std::string(what) + " refused: ";
    if (!request.empty()) line += std::string(request) + ": ";
    line += std::to_string(fault.code()) + " " + std::string(fault.description());
    if (!reason.empty()) line += " (" + std::string(reason) + ")";
    return line;
}

}  // namespace gw

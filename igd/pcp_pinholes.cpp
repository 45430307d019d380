// PCP MAP for an IPv6 internal address (RFC 6887 §11 on an IPv6 firewall): the mapping is
// a pinhole, opened by the pinhole service like UPnP's AddPinhole, so secure mode, the
// LAN prefixes the packet path forwards, the limits and the pinhole journal apply alike.
// Pure: the pinhole service is reached through the context's opener.
#include <algorithm>

#include "igd/pcp_responder.hpp"

namespace gw {
namespace {

std::string protocol_text(std::uint8_t protocol) {
    if (protocol == ip_protocol_tcp) return "tcp";
    if (protocol == ip_protocol_udp) return "udp";
    return "protocol " + std::to_string(protocol);
}

PcpPinholeAnswer refused(PcpResult result, std::string reason) {
    PcpPinholeAnswer answer;
    answer.result = result;
    answer.reason = std::move(reason);
    return answer;
}

}  // namespace

PcpResult pcp_result_of(PinholeRefusal refusal) {
    switch (refusal) {
        case PinholeRefusal::action_not_authorized: return PcpResult::not_authorized;
        case PinholeRefusal::firewall_disabled: return PcpResult::not_authorized;
        case PinholeRefusal::inbound_pinhole_not_allowed: return PcpResult::not_authorized;
        case PinholeRefusal::internal_port_wildcarding_not_allowed: return PcpResult::not_authorized;
        case PinholeRefusal::pinhole_space_exhausted: return PcpResult::no_resources;
        case PinholeRefusal::protocol_not_supported: return PcpResult::unsupp_protocol;
        case PinholeRefusal::protocol_wildcarding_not_allowed: return PcpResult::unsupp_protocol;
        // An internal address no host can have (link-local, multicast...), or a refusal
        // no MAP request can meet.
        case PinholeRefusal::invalid_args: return PcpResult::malformed_request;
        case PinholeRefusal::wildcard_not_permitted_in_src_ip: return PcpResult::malformed_request;
        case PinholeRefusal::no_such_entry: return PcpResult::malformed_request;
        case PinholeRefusal::no_traffic_received: return PcpResult::malformed_request;
    }
    return PcpResult::malformed_request;
}

PcpPinholeAnswer map_pinhole(const PcpRequest& request, const PcpMapData& map, const Ipv6Address& internal,
                             const PcpRequestContext& context) {
    std::string what = "MAP " + protocol_text(map.protocol) + " [" + internal.to_string() + "]:" +
                       std::to_string(map.internal_port.value);
    if (!context.open_pinhole) return refused(PcpResult::not_authorized, what + ": IPv6 pinholes are not offered");
    if (request.requested_lifetime == 0)
        return refused(PcpResult::not_authorized, what + ": a pinhole is not deleted over PCP; it ends with its lease");
    if (map.protocol != ip_protocol_tcp && map.protocol != ip_protocol_udp)
        return refused(PcpResult::unsupp_protocol, what + ": only tcp and udp pinholes are offered");
    if (map.internal_port.value == 0) return refused(PcpResult::not_authorized, what + ": all-ports pinholes are not offered");

    PinholeRequest wanted;
    wanted.internal_client = internal;
    wanted.internal_port = map.internal_port.value;
    wanted.protocol = map.protocol;
    wanted.lease_seconds = std::min(
        std::clamp(request.requested_lifetime, context.config.min_lifetime_seconds,
                   std::max(context.config.min_lifetime_seconds, context.config.max_lifetime_seconds)),
        max_pinhole_lease_seconds);
    std::vector<PcpFilter> effective;
    for (const PcpFilter& filter : request.options.filters) {
        if (filter.prefix_length == 0) effective.clear();  // §13.3: prefix 0 removes the filters before it
        else effective.push_back(filter);
    }
    if (effective.size() > 1 || (effective.size() == 1 && (effective[0].prefix_length != 128 ||
                                                            ipv4_of_pcp_address(effective[0].remote_address))))
        return refused(PcpResult::excessive_remote_peers,
                       what + ": FILTER can only be one IPv6 /128 (and port) for a pinhole");
    if (!effective.empty()) {
        wanted.remote_host = effective[0].remote_address;
        wanted.remote_port = effective[0].remote_port.value;
    }
    // The PCP client asked over IPv4: it is named as pinhole requesters over IPv4 are.
    auto granted = context.open_pinhole(wanted, v4_mapped(context.source.address));
    if (!granted)
        return refused(pcp_result_of(granted.error()), what + ": pinhole policy: " +
                                                           std::string(upnp_error_description(upnp_error_of(granted.error()))));
    const PinholeLease& lease = *granted;
    PcpPinholeAnswer answer;
    answer.assigned = map;
    // No translation on IPv6: the host is reached at its own address and port.
    answer.assigned.external_address = internal;
    answer.assigned.external_port = map.internal_port;
    answer.lifetime = wanted.lease_seconds;
    answer.reason = what + " -> pinhole " + std::to_string(lease.pinhole.id) + " for " +
                    std::to_string(answer.lifetime) + " s";
    return answer;
}

}  // namespace gw

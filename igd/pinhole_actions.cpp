// WANIPv6FirewallControl:1 in the running IGD: who may ask (LAN hosts over IPv6 or
// IPv4), and what each action does once its arguments are valid (the pinhole service
// decides, journals and opens; the packet path counts).
#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <memory>
#include <string>

#include "base/log.hpp"
#include "igd/engine_clock.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/lease_file.hpp"
#include "igd/pinhole_file.hpp"
#include "igd/refusal_reasons.hpp"

namespace gw {
namespace {

// The packet worker answers between batches; a batch takes microseconds, so a second
// means it is stuck or does not know pinholes (then the action answers 501).
constexpr auto packet_path_answer_limit = std::chrono::seconds(1);

// The requester as the pinhole policy names it: IPv6 as is, IPv4 as ::ffff:a.b.c.d.
// nullopt for a link-local address that did not arrive on the LAN interface: pupnp's
// IPv6 server listens on every interface, and a WAN neighbour's fe80:: address (which
// may copy a LAN host's interface identifier) must never pass for a LAN host's.
std::optional<Ipv6Address> pinhole_requester_of(const std::optional<sockaddr_storage>& client,
                                                unsigned lan_interface_index) {
    if (!client) return std::nullopt;
    const sockaddr_storage* address = &*client;
    if (address->ss_family == AF_INET)
        return v4_mapped(Ipv4Address(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr)));
    if (address->ss_family != AF_INET6) return std::nullopt;
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    Ipv6Address::Bytes bytes{};
    std::memcpy(bytes.data(), &v6->sin6_addr, bytes.size());
    Ipv6Address requester(bytes);
    if (requester.is_link_local() && (lan_interface_index == 0 || v6->sin6_scope_id != lan_interface_index))
        return std::nullopt;
    return requester;
}

// A LAN host: an IPv4 address in the LAN networks, or an IPv6 one in the LAN prefixes
// or link-local on the LAN interface (checked by pinhole_requester_of).
bool on_lan(const Ipv6Address& requester, const IgdEnvironment& environment) {
    if (requester.is_v4_mapped()) {
        const auto& b = requester.bytes();
        Ipv4Address v4((std::uint32_t(b[12]) << 24) | (std::uint32_t(b[13]) << 16) | (std::uint32_t(b[14]) << 8) | b[15]);
        for (const auto& network : environment.lan_networks)
            if (network.contains(v4)) return true;
        return false;
    }
    if (requester.is_link_local()) return true;
    for (const auto& prefix : environment.lan_ipv6_networks)
        if (prefix.contains(requester)) return true;
    return false;
}

SoapFault fault_of(PinholeRefusal refusal) { return SoapFault{upnp_error_of(refusal)}; }

}  // namespace

std::optional<Ipv6Address> InternetGatewayDevice::ipv6_lan_requester(const UpnpActionRequest* request) const {
    auto requester = pinhole_requester_of(client_of(request), environment_.lan_interface_index);
    if (!requester || requester->is_v4_mapped() || !on_lan(*requester, environment_)) return std::nullopt;
    return requester;
}

int InternetGatewayDevice::on_pinhole_action(UpnpActionRequest* request, const IgdService& service) {
    std::optional<Ipv6Address> requester = pinhole_requester_of(client_of(request), environment_.lan_interface_index);
    std::string action_name = UpnpActionRequest_get_ActionName_cstr(request);
    if (!requester || !on_lan(*requester, environment_)) {
        refusals_.count_outside_lan();
        refuse(request, SoapFault{UpnpError::action_not_authorized}, action_name + " from outside the LAN");
        return 0;
    }
    std::string what = action_name + " from " + requester->to_string();
    return answer_action(request, service, what, [&](const ActionCall& call) { return perform_pinhole(call, *requester); });
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::perform_pinhole(const ActionCall& call,
                                                                            const Ipv6Address& requester) {
    const ActionArguments& args = call.arguments;
    switch (call.action->id) {
    case IgdActionId::get_firewall_status:
        return {{pinholes_.firewall_enabled() ? "1" : "0", pinholes_.inbound_allowed() ? "1" : "0"}, {}};
    case IgdActionId::get_outbound_pinhole_timeout: {
        auto timeout = pinholes_.outbound_timeout(std::get<PinholeRequest>(args).protocol);
        if (auto* refusal = std::get_if<PinholeRefusal>(&timeout)) return {{}, fault_of(*refusal)};
        return {{std::to_string(std::get<std::uint32_t>(timeout))}, {}};
    }
    case IgdActionId::add_pinhole: return add_pinhole(std::get<PinholeRequest>(args), requester);
    case IgdActionId::update_pinhole: return update_pinhole(std::get<UpdatePinholeArgs>(args), requester);
    case IgdActionId::delete_pinhole: return delete_pinhole(std::get<PinholeIdArgs>(args).id, requester);
    case IgdActionId::get_pinhole_packets:
    case IgdActionId::check_pinhole_working:
        return pinhole_packets(call.action->id, std::get<PinholeIdArgs>(args).id, requester);
    default: return {{}, SoapFault{UpnpError::invalid_action}};
    }
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::add_pinhole(const PinholeRequest& request,
                                                                        const Ipv6Address& requester) {
    auto granted = pinholes_.add(request, requester, "UPnP");
    if (!granted) {  // counted and logged by answer_action's refuse(), with the request and why
        ActionOutcome refused{{}, fault_of(granted.error())};
        refused.refused_request = pinhole_request_text(request);
        refused.refusal_reason =
            pinhole_refusal_reason(granted.error(), request, requester, config_.secure_mode,
                                   environment_.lan_ipv6_networks, environment_.lan_ipv6_addresses);
        return refused;
    }
    return {{std::to_string(granted->pinhole.id)}, {}};
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::update_pinhole(const UpdatePinholeArgs& args,
                                                                           const Ipv6Address& requester) {
    auto renewed = pinholes_.update(args.id, args.lease_seconds, requester, "UPnP");
    if (!renewed) return {{}, fault_of(renewed.error())};
    return {{}, {}};
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::delete_pinhole(std::uint16_t id,
                                                                           const Ipv6Address& requester) {
    auto removed = pinholes_.remove(id, requester, "UPnP");
    if (!removed) return {{}, fault_of(removed.error())};
    return {{}, {}};
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::pinhole_packets(IgdActionId action, std::uint16_t id,
                                                                            const Ipv6Address& requester) {
    // The service's lock is not held while the packet path answers.
    if (auto owned = pinholes_.owned(id, requester); !owned) return {{}, fault_of(owned.error())};
    std::optional<std::uint64_t> packets = packets_let_in(id);
    if (!packets) return {{}, SoapFault{UpnpError::action_failed}};
    if (action == IgdActionId::check_pinhole_working) {
        if (auto refusal = PinholePolicy::working_verdict(*packets)) return {{}, fault_of(*refusal)};
        return {{"1"}, {}};
    }
    // A_ARG_TYPE_PinholePackets is a ui4: a count past it stays at its maximum.
    return {{std::to_string(std::min<std::uint64_t>(*packets, std::numeric_limits<std::uint32_t>::max()))}, {}};
}

std::optional<std::uint64_t> InternetGatewayDevice::packets_let_in(std::uint16_t id) {
    auto reply = std::make_shared<std::promise<std::optional<std::uint64_t>>>();
    auto answer = reply->get_future();
    commands_.push(QueryPinholePackets{id, std::move(reply)});
    // The command holds the only promise: a packet path that drops it unanswered breaks
    // the future at once instead of leaving the wait to time out.
    if (answer.wait_for(packet_path_answer_limit) != std::future_status::ready) {
        log::warning("UPnP: the packet path did not count pinhole " + std::to_string(id) + " within a second");
        return std::nullopt;
    }
    try {
        auto packets = answer.get();
        if (!packets) log::warning("UPnP: the packet path has no pinhole " + std::to_string(id));
        return packets;
    } catch (const std::future_error&) {
        log::warning("UPnP: the packet path dropped the count of pinhole " + std::to_string(id) + " unanswered");
        return std::nullopt;
    }
}

}  // namespace gw

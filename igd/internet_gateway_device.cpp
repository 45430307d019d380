#include "internet_gateway_device.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <upnp/upnptools.h>

#include <utility>
#include <string>

#include "base/log.hpp"
#include "base/startup_error.hpp"
#include "firewall/address_checks.hpp"
#include "igd/engine_clock.hpp"
#include "igd/refusal_reasons.hpp"
#include "igd/lease_file.hpp"
#include "igd/pinhole_file.hpp"
#include "igd/pupnp_ssdp_silencer.hpp"

namespace gw {
namespace {

std::string text_of(int upnp_error) { return UpnpGetErrorMessage(upnp_error); }

std::optional<Ipv4Address> requester_of(const std::optional<sockaddr_storage>& address) {
    if (!address || address->ss_family != AF_INET) return std::nullopt;
    return Ipv4Address(ntohl(reinterpret_cast<const sockaddr_in*>(&*address)->sin_addr.s_addr));
}

std::optional<sockaddr_storage> pupnp_server(int family, const char* address, unsigned short port, unsigned scope) {
    sockaddr_storage server{};
    if (port == 0 || !address || !*address) return std::nullopt;
    if (family == AF_INET) {
        auto& in = reinterpret_cast<sockaddr_in&>(server);
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        if (inet_pton(AF_INET, address, &in.sin_addr) != 1) return std::nullopt;
    } else {
        auto& in6 = reinterpret_cast<sockaddr_in6&>(server);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        in6.sin6_scope_id = scope;
        if (inet_pton(AF_INET6, address, &in6.sin6_addr) != 1) return std::nullopt;
    }
    return server;
}

}  // namespace

InternetGatewayDevice::InternetGatewayDevice(const IgdConfig& config, IgdEnvironment environment,
                                             PortMappingService& mappings, PinholeService& pinholes,
                                             EngineCommandQueue& commands, const TrafficCounters& counters)
    : config_(config),
      environment_(std::move(environment)),
      mappings_(mappings),
      pinholes_(pinholes),
      commands_(commands),
      counters_(counters) {
    description_.igd_version = config.igd_version;
    description_.uuid = environment_.uuid;
    description_.friendly_name = config.friendly_name;
    // URLBase (deprecated by UDA 1.1) pins every control URL to the IPv4 address. An IGD:2
    // control point may come over IPv6 to open pinholes for its own IPv6 address (secure
    // mode needs the request on IPv6), so IGD:2 leaves it out and control points resolve
    // the paths against the address they fetched the description from.
    if (config.igd_version < 2) description_.url_base = Endpoint{environment_.lan_address, Port{config.http_port}};
    endpoints_ = service_endpoints(description_);
    for (auto& document : description_documents(description_)) files_.add(document.path, std::move(document.content));
}

InternetGatewayDevice::~InternetGatewayDevice() {
    if (change_listener_) mappings_.remove_change_listener(*change_listener_);
    if (!started_) return;
    // UnRegister sends pupnp's ssdp:byebye; the iptables backstop drops it (it is not from
    // the SSDP server's marked sockets, which sent the real byebye already).
    // No request reaches pupnp any more while it says goodbye.
    if (front_end_) front_end_->stop();
    if (device_ipv6_ >= 0) UpnpUnRegisterRootDevice(device_ipv6_);
    if (device_ >= 0) UpnpUnRegisterRootDevice(device_);
    UpnpFinish();
}

void InternetGatewayDevice::start() {
    // Whoever changes the table (UPnP, NAT-PMP, PCP, the administrator), subscribers
    // hear the new PortMappingNumberOfEntries.
    change_listener_ = mappings_.add_change_listener([this](std::size_t count) { announce_mapping_count(count); });
    // pupnp binds the LAN interface's addresses, on a port of its own that the queue
    // rules open to the loopback interface only (pupnp 1.8 refuses "lo" itself: it skips
    // interfaces without IFF_MULTICAST). Clients reach the front end on upnp.http_port.
    std::uint16_t internal_port = pupnp_internal_port(config_.http_port);
    int rc = UpnpInit2(environment_.lan_interface.c_str(), internal_port);
    if (rc != UPNP_E_SUCCESS) throw StartupError("UPnP: cannot start on " + environment_.lan_interface + ": " + text_of(rc));
    started_ = true;
    started_at_ = wall_clock_seconds();
    // SSDP is the gateway's own (daemon/ssdp_server.hpp): pupnp's receive sockets are
    // made deaf before a packet is decided (the queue workers start later).
    std::size_t silenced = silence_foreign_ssdp_sockets();
    log::debug("UPnP: " + std::to_string(silenced) + " pupnp SSDP sockets silenced");
    // pupnp takes the next free port when its own is taken: only the one the queue rules
    // keep to the loopback interface will do.
    if (UpnpGetServerPort() != internal_port || (UpnpGetServerPort6() != 0 && UpnpGetServerPort6() != internal_port))
        throw StartupError("UPnP: port " + std::to_string(internal_port) + " (pupnp's, beside upnp.http_port) is taken");
    log::debug("UPnP: pupnp serves on " + std::string(UpnpGetServerIpAddress()) + ":" +
               std::to_string(UpnpGetServerPort()) + ", behind the front end");
    UpnpSetMaxContentLength(16384);  // SOAP requests are a few hundred bytes
    start_front_end();
    if ((rc = files_.start("/igd")) != UPNP_E_SUCCESS) throw StartupError("UPnP: cannot serve documents: " + text_of(rc));
    std::string location = "http://" + environment_.lan_address.to_string() + ":" + std::to_string(config_.http_port) +
                           std::string(description_path);
    rc = UpnpRegisterRootDevice(location.c_str(), &InternetGatewayDevice::on_event, this, &device_);
    if (rc != UPNP_E_SUCCESS) throw StartupError("UPnP: cannot register the device: " + text_of(rc));
    registered_ = true;
    limit_subscriptions(device_);
    // No UpnpSendAdvertisement: its NOTIFYs follow the default route out of the WAN
    // (issue 13); the SSDP server announces on the LAN instead.
    if (config_.igd_version >= 2) register_for_ipv6(location);
    log::info("UPnP: IGD:" + std::to_string(config_.igd_version) + " at " + location + ", secure mode " +
              (config_.secure_mode ? "on" : "off"));
}

// pupnp 1.8 serves IPv6 on the LAN interface's link-local address only. The description
// is fetched (by pupnp, from its own server) over IPv4; only the handle's address family
// differs. Without IPv6 on the LAN there is nothing to register, and the IGD runs on.
void InternetGatewayDevice::register_for_ipv6(const std::string& location) {
    if (UpnpGetServerPort6() == 0) {
        log::info("UPnP: no IPv6 on " + environment_.lan_interface + ": pinholes can be asked over IPv4 only");
        return;
    }
    int rc = UpnpRegisterRootDevice3(location.c_str(), &InternetGatewayDevice::on_event, this, &device_ipv6_, AF_INET6);
    if (rc == UPNP_E_SUCCESS) limit_subscriptions(device_ipv6_);
    if (rc != UPNP_E_SUCCESS) {
        log::warning("UPnP: cannot serve over IPv6 (" + text_of(rc) + "): pinholes can be asked over IPv4 only");
        return;
    }
    log::info("UPnP: also on http://[" + std::string(UpnpGetServerIp6Address()) + "]:" +
              std::to_string(UpnpGetServerPort6()) + std::string(description_path));
}

// The front end on upnp.http_port (http_front_end.hpp), in front of pupnp's servers.
void InternetGatewayDevice::start_front_end() {
    HttpFrontEndConfig fe;
    fe.addresses.lan_address = environment_.lan_address;
    fe.addresses.http_port = config_.http_port;
    fe.lan_interface_index = environment_.lan_interface_index;
    fe.upstream_v4 = pupnp_server(AF_INET, UpnpGetServerIpAddress(), UpnpGetServerPort(), 0);
    // IPv6 where pupnp served it before: the LAN link-local address it picked, and the
    // LAN's global addresses besides.
    if (auto v6 = pupnp_server(AF_INET6, UpnpGetServerIp6Address(), UpnpGetServerPort6(),
                               environment_.lan_interface_index)) {
        fe.upstream_v6 = v6;
        if (auto link_local = Ipv6Address::parse(UpnpGetServerIp6Address())) fe.addresses.lan_ipv6_addresses.push_back(*link_local);
        for (const auto& address : environment_.lan_ipv6_addresses)
            if (!address.is_link_local()) fe.addresses.lan_ipv6_addresses.push_back(address);
    }
    front_end_ = std::make_unique<HttpFrontEnd>(std::move(fe), forwarded_clients_);
    front_end_->start();
}

// pupnp's own caps behind the front end's (gena_subscriptions.hpp): finite timeouts and
// a total, per service.
void InternetGatewayDevice::limit_subscriptions(UpnpDevice_Handle handle) {
    GenaLimits limits;
    UpnpSetMaxSubscriptions(handle, int(limits.total));
    UpnpSetMaxSubscriptionTimeOut(handle, int(limits.max_timeout_seconds));
}

std::optional<sockaddr_storage> InternetGatewayDevice::client_of(const UpnpActionRequest* request) const {
    const sockaddr_storage* peer = UpnpActionRequest_get_CtrlPtIPAddr(request);
    if (!peer) return std::nullopt;
    return forwarded_clients_.client_of(*peer);
}

int InternetGatewayDevice::on_event(Upnp_EventType type, const void* event, void* cookie) {
    auto* self = static_cast<InternetGatewayDevice*>(cookie);
    switch (type) {
        case UPNP_CONTROL_ACTION_REQUEST:
            return self->on_action(static_cast<UpnpActionRequest*>(const_cast<void*>(event)));
        case UPNP_EVENT_SUBSCRIPTION_REQUEST:
            return self->on_subscription(static_cast<const UpnpSubscriptionRequest*>(event));
        default: return 0;
    }
}

void InternetGatewayDevice::refuse(UpnpActionRequest* request, const SoapFault& fault, const std::string& what,
                                   std::string_view refused_request, std::string_view reason) {
    set_action_fault(request, fault);
    refusals_.count(fault.error);
    refusal_log_.write(refusal_line(what, refused_request, fault, reason), monotonic_now());
}

int InternetGatewayDevice::on_action(UpnpActionRequest* request) {
    const IgdService* service = find_service_by_id(UpnpActionRequest_get_ServiceID_cstr(request));
    if (service && service->kind == ServiceKind::wan_ipv6_firewall_control) return on_pinhole_action(request, *service);
    std::optional<Ipv4Address> requester = requester_of(client_of(request));
    std::string action_name = UpnpActionRequest_get_ActionName_cstr(request);
    // Requests from outside the LAN subnets are refused, whatever the socket layer let in.
    if (!requester || !is_inside(*requester, environment_.lan_networks)) {
        // A LAN host over IPv6 (IGD:2 serves it for pinholes): port mappings are IPv4's.
        if (auto lan_host = requester ? std::nullopt : ipv6_lan_requester(request)) {
            refuse(request, SoapFault{UpnpError::action_not_authorized},
                   action_name + " from " + lan_host->to_string() + " (over IPv6, which serves pinholes only)");
            return 0;
        }
        refusals_.count_outside_lan();
        refuse(request, SoapFault{UpnpError::action_not_authorized}, action_name + " from outside the LAN");
        return 0;
    }
    std::string what = action_name + " from " + requester->to_string();
    if (!service) {
        refuse(request, SoapFault{UpnpError::invalid_action}, what);
        return 0;
    }
    return answer_action(request, *service, what, [&](const ActionCall& call) { return perform(call, *requester); });
}

// Parses the arguments for `service`, lets `perform` decide, and answers: the result, or
// the fault of whichever step refused (counted and logged by refuse()).
int InternetGatewayDevice::answer_action(UpnpActionRequest* request, const IgdService& service,
                                         const std::string& what,
                                         const std::function<ActionOutcome(const ActionCall&)>& perform) {
    std::string action_name = UpnpActionRequest_get_ActionName_cstr(request);
    std::optional<SoapArguments> arguments = read_soap_arguments(UpnpActionRequest_get_ActionRequest(request));
    if (!arguments) {
        refuse(request, SoapFault{UpnpError::invalid_args}, what);
        return 0;
    }
    ParsedAction parsed = parse_action_call(service, action_name, *arguments, config_.igd_version);
    if (!parsed) {
        refuse(request, parsed.error(), what);
        return 0;
    }
    const ActionCall& call = *parsed;
    ActionOutcome outcome = perform(call);
    if (outcome.fault) {
        refuse(request, *outcome.fault, what, outcome.refused_request, outcome.refusal_reason);
        return 0;
    }
    std::string type = request_service_type(UpnpActionRequest_get_ActionRequest(request));
    if (type.empty()) type = service_type(service, config_.igd_version);
    auto response = make_action_response(*call.action, type, outcome.out_values);
    if (!response) {
        refuse(request, SoapFault{UpnpError::action_failed}, what);
        return 0;
    }
    set_action_result(request, std::move(response));
    return 0;
}

int InternetGatewayDevice::on_subscription(const UpnpSubscriptionRequest* request) {
    // The CALLBACK URL was checked before pupnp read the request (the HTTP front end: the
    // requester's own address, taking connections; CVE-2020-12695); here only the initial
    // values are sent.
    std::string service_id = UpnpSubscriptionRequest_get_ServiceId_cstr(request);
    // Ended leases collected first (and closed in the packet path), so the count is of live ones.
    mappings_.expire_leases();
    std::string count = std::to_string(mappings_.mapping_count());
    std::vector<std::string> names, values;
    if (service_id.find("WANIPConn") != std::string::npos) {
        names = {"PortMappingNumberOfEntries", "ExternalIPAddress", "ConnectionStatus"};
        values = {count, external_address_text(), "Connected"};
    } else if (service_id.find("WANIPv6Firewall") != std::string::npos) {
        names = {"FirewallEnabled", "InboundPinholeAllowed"};
        values = {pinholes_.firewall_enabled() ? "1" : "0", pinholes_.inbound_allowed() ? "1" : "0"};
    } else if (service_id.find("WANCommonIFC") != std::string::npos) {
        names = {"PhysicalLinkStatus"};
        values = {"Up"};
    }
    std::vector<const char*> name_ptrs, value_ptrs;
    for (std::size_t i = 0; i < names.size(); ++i) {
        name_ptrs.push_back(names[i].c_str());
        value_ptrs.push_back(values[i].c_str());
    }
    UpnpAcceptSubscription(device_, UpnpSubscriptionRequest_get_UDN_cstr(request), service_id.c_str(),
                           name_ptrs.data(), value_ptrs.data(), int(names.size()),
                           UpnpSubscriptionRequest_get_SID_cstr(request));
    return 0;
}

void InternetGatewayDevice::announce_mapping_count(std::size_t count) {
    if (!registered_) return;
    std::string text = std::to_string(count);
    const char* names[] = {"PortMappingNumberOfEntries"};
    const char* values[] = {text.c_str()};
    for (const auto& endpoint : endpoints_)
        if (endpoint.kind == ServiceKind::wan_ip_connection)
            UpnpNotify(device_, endpoint.udn.c_str(), std::string(endpoint.service_id).c_str(), names, values, 1);
}

void InternetGatewayDevice::announce_external_address() {
    if (!registered_) return;
    std::string address = external_address_text();
    const char* names[] = {"ExternalIPAddress"};
    const char* values[] = {address.c_str()};
    for (const auto& endpoint : endpoints_)
        if (endpoint.kind == ServiceKind::wan_ip_connection)
            UpnpNotify(device_, endpoint.udn.c_str(), std::string(endpoint.service_id).c_str(), names, values, 1);
}

std::string InternetGatewayDevice::external_address_text() const {
    return (environment_.external_address ? environment_.external_address->load() : environment_.wan_address).to_string();
}

std::string InternetGatewayDevice::uptime_seconds() const {
    return std::to_string(wall_clock_seconds() - started_at_);
}

}  // namespace gw

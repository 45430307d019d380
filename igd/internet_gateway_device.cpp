#include "internet_gateway_device.hpp"

#include <netinet/in.h>
#include <upnp/upnptools.h>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <string>

#include "daemon/log.hpp"
#include "daemon/startup_error.hpp"
#include "igd/engine_clock.hpp"
#include "igd/lease_file.hpp"
#include "igd/pinhole_file.hpp"

namespace gw {
namespace {

std::string text_of(int upnp_error) { return UpnpGetErrorMessage(upnp_error); }

std::optional<Ipv4Address> requester_of(const UpnpActionRequest* request) {
    const sockaddr_storage* address = UpnpActionRequest_get_CtrlPtIPAddr(request);
    if (!address || address->ss_family != AF_INET) return std::nullopt;
    return Ipv4Address(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
}

bool inside(Ipv4Address a, const std::vector<Ipv4Network>& networks) {
    for (const auto& n : networks)
        if (n.contains(a)) return true;
    return false;
}

}  // namespace

InternetGatewayDevice::InternetGatewayDevice(const IgdConfig& config, IgdEnvironment environment,
                                             EngineCommandQueue& commands, const TrafficCounters& counters)
    : config_(config),
      environment_(std::move(environment)),
      commands_(commands),
      counters_(counters),
      policy_(config, environment_.reserved_ports),
      journal_(config.lease_file, config.lease_sync),
      pinhole_policy_(config.pinholes, config.secure_mode,
                      PinholeEnvironment{environment_.lan_ipv6_networks, environment_.lan_ipv6_addresses,
                                         environment_.outbound_tcp_seconds, environment_.outbound_udp_seconds}),
      pinhole_journal_(pinhole_file_path(config.lease_file), config.lease_sync) {
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
    if (!started_) return;
    {
        // A clean stop leaves the file compact: the next start reads one line a mapping.
        std::lock_guard lock(mutex_);
        compact_lease_file();
        if (config_.igd_version >= 2) compact_pinhole_file();
    }
    // UnRegister sends ssdp:byebye, so control points forget the gateway at once.
    if (device_ipv6_ >= 0) UpnpUnRegisterRootDevice(device_ipv6_);
    if (device_ >= 0) UpnpUnRegisterRootDevice(device_);
    UpnpFinish();
}

void InternetGatewayDevice::start() {
    {
        std::lock_guard lock(mutex_);
        // Outside systemd (which makes StateDirectory=) the lease file's directory may be missing.
        std::error_code ignored;
        std::filesystem::create_directories(std::filesystem::path(config_.lease_file).parent_path(), ignored);
        LeaseFileText file = read_lease_file(config_.lease_file);
        if (file.error) log::warning("lease file " + config_.lease_file + ": " + *file.error + "; starting without it");
        LeaseFileReadResult saved = parse_leases(file.text, wall_clock_seconds(), monotonic_now(), config_.lease_file);
        for (const auto& error : saved.errors) log::warning(error + " (line skipped, the others restored)");
        RestoreReport report = policy_.restore(std::move(saved.mappings), monotonic_now());
        for (const auto& refused : report.refused)
            log::warning("lease for " + std::string(protocol_name(refused.mapping.protocol)) + " " +
                         std::to_string(refused.mapping.external.value) + " not restored: " +
                         std::string(upnp_error_description(refused.reason)));
        for (const auto& mapping : policy_.all()) open_in_packet_path(mapping);
        log::info("UPnP: restored " + std::to_string(report.restored) + " port mappings from " + config_.lease_file +
                  " (" + std::to_string(saved.expired + report.expired) + " had expired)");
        // Also drops what replay skipped (a torn tail) before anything is appended.
        compact_lease_file();
        record("");
        if (config_.igd_version >= 2) restore_pinholes();
    }
    // Bound to the LAN interface only: nothing of the IGD listens for the WAN by design
    // (and the firewall's input policy drops WAN packets to the gateway besides).
    int rc = UpnpInit2(environment_.lan_interface.c_str(), config_.http_port);
    if (rc != UPNP_E_SUCCESS) throw StartupError("UPnP: cannot start on " + environment_.lan_interface + ": " + text_of(rc));
    started_ = true;
    started_at_ = wall_clock_seconds();
    log::debug("UPnP: pupnp serves on " + std::string(UpnpGetServerIpAddress()) + ":" +
               std::to_string(UpnpGetServerPort()));
    UpnpSetMaxContentLength(16384);  // SOAP requests are a few hundred bytes
    if ((rc = files_.start("/igd")) != UPNP_E_SUCCESS) throw StartupError("UPnP: cannot serve documents: " + text_of(rc));
    std::string location = "http://" + environment_.lan_address.to_string() + ":" + std::to_string(config_.http_port) +
                           std::string(description_path);
    rc = UpnpRegisterRootDevice(location.c_str(), &InternetGatewayDevice::on_event, this, &device_);
    if (rc != UPNP_E_SUCCESS) throw StartupError("UPnP: cannot register the device: " + text_of(rc));
    rc = UpnpSendAdvertisement(device_, int(config_.advertisement_seconds));
    if (rc != UPNP_E_SUCCESS) throw StartupError("UPnP: cannot advertise: " + text_of(rc));
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
    if (rc == UPNP_E_SUCCESS) rc = UpnpSendAdvertisement(device_ipv6_, int(config_.advertisement_seconds));
    if (rc != UPNP_E_SUCCESS) {
        log::warning("UPnP: cannot serve over IPv6 (" + text_of(rc) + "): pinholes can be asked over IPv4 only");
        return;
    }
    log::info("UPnP: also on http://[" + std::string(UpnpGetServerIp6Address()) + "]:" +
              std::to_string(UpnpGetServerPort6()) + std::string(description_path));
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

void InternetGatewayDevice::refuse(UpnpActionRequest* request, const SoapFault& fault, const std::string& what) {
    set_action_fault(request, fault);
    refusals_.count(fault.error);
    std::uint64_t skipped = 0;
    {
        std::lock_guard lock(refusal_log_mutex_);
        if (!refusal_log_limit_.admit(monotonic_now())) {
            ++refusals_not_logged_;
            return;
        }
        skipped = std::exchange(refusals_not_logged_, 0);
    }
    log::info("UPnP: " + what + " refused: " + std::to_string(fault.code()) + " " + std::string(fault.description()) +
              (skipped ? " (" + std::to_string(skipped) + " refusals not logged before it; see gatewayctl status)"
                       : std::string()));
}

int InternetGatewayDevice::on_action(UpnpActionRequest* request) {
    const IgdService* service = find_service_by_id(UpnpActionRequest_get_ServiceID_cstr(request));
    if (service && service->kind == ServiceKind::wan_ipv6_firewall_control) return on_pinhole_action(request, *service);
    std::optional<Ipv4Address> requester = requester_of(request);
    std::string action_name = UpnpActionRequest_get_ActionName_cstr(request);
    // Requests from outside the LAN subnets are refused, whatever the socket layer let in.
    if (!requester || !inside(*requester, environment_.lan_networks)) {
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
    std::optional<SoapArguments> arguments = read_soap_arguments(UpnpActionRequest_get_ActionRequest(request));
    if (!service || !arguments) {
        refuse(request, SoapFault{service ? UpnpError::invalid_args : UpnpError::invalid_action}, what);
        return 0;
    }
    ParsedAction parsed = parse_action_call(*service, action_name, *arguments, config_.igd_version);
    if (auto* fault = std::get_if<SoapFault>(&parsed)) {
        refuse(request, *fault, what);
        return 0;
    }
    const ActionCall& call = std::get<ActionCall>(parsed);
    ActionOutcome outcome = perform(call, *requester);
    if (outcome.fault) {
        refuse(request, *outcome.fault, what);
        return 0;
    }
    std::string type = request_service_type(UpnpActionRequest_get_ActionRequest(request));
    if (type.empty()) type = service_type(*service, config_.igd_version);
    auto response = make_action_response(*call.action, type, outcome.out_values);
    if (!response) {
        refuse(request, SoapFault{UpnpError::action_failed}, what);
        return 0;
    }
    set_action_result(request, std::move(response));
    return 0;
}

int InternetGatewayDevice::on_subscription(const UpnpSubscriptionRequest* request) {
    // The CALLBACK URL was checked inside the LAN before pupnp read the request (the
    // engine's UPnP request guard, CVE-2020-12695); here only the initial values are sent.
    std::string service_id = UpnpSubscriptionRequest_get_ServiceId_cstr(request);
    std::string count;
    {
        std::lock_guard lock(mutex_);
        policy_.expire(monotonic_now());
        count = std::to_string(policy_.size());
    }
    std::vector<std::string> names, values;
    if (service_id.find("WANIPConn") != std::string::npos) {
        names = {"PortMappingNumberOfEntries", "ExternalIPAddress", "ConnectionStatus"};
        values = {count, external_address_text(), "Connected"};
    } else if (service_id.find("WANIPv6Firewall") != std::string::npos) {
        names = {"FirewallEnabled", "InboundPinholeAllowed"};
        values = {pinhole_policy_.firewall_enabled() ? "1" : "0", pinhole_policy_.inbound_allowed() ? "1" : "0"};
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

void InternetGatewayDevice::expire_leases() {
    // The packet thread calls this every tick: without an ended lease it must not wait
    // for a pupnp thread that holds the lock through a lease file fsync.
    if (monotonic_now().count() < next_lease_end_ms_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mutex_);
    expire_pinholes(monotonic_now());
    std::vector<PortMapping> ended = policy_.expire(monotonic_now());
    if (ended.empty()) return;
    std::string removals;
    for (const auto& mapping : ended) {
        close_in_packet_path(mapping);
        removals += serialize_lease_removal(mapping.protocol, mapping.external);
        log::info("UPnP: lease ended: " + std::string(protocol_name(mapping.protocol)) + " " +
                  std::to_string(mapping.external.value) + " -> " + to_string(mapping.internal));
    }
    record(removals);
    announce_mapping_count();
}

std::optional<Instant> InternetGatewayDevice::next_lease_end() const {
    auto ms = next_lease_end_ms_.load(std::memory_order_relaxed);
    if (ms == no_lease_end) return std::nullopt;
    return Instant(ms);
}

std::size_t InternetGatewayDevice::mapping_count() const { return mapping_count_.load(std::memory_order_relaxed); }

std::vector<PortMapping> InternetGatewayDevice::mappings() {
    std::lock_guard lock(mutex_);
    return policy_.all();
}

std::optional<MappingRefusal> InternetGatewayDevice::delete_mapping_as_administrator(Protocol protocol, Port external) {
    std::lock_guard lock(mutex_);
    Instant now = monotonic_now();
    for (const auto& mapping : policy_.all()) {
        if (mapping.protocol != protocol || mapping.external != external) continue;
        // As its owner: secure mode lets only the owner delete, and the administrator
        // stands above it.
        if (auto refusal = policy_.remove(protocol, external, mapping.remote_host, mapping.owner, now)) return refusal;
        close_in_packet_path(mapping);
        log::info("UPnP: mapping deleted by the administrator: " + std::string(protocol_name(protocol)) + " " +
                  std::to_string(external.value) + " -> " + to_string(mapping.internal));
        record(serialize_lease_removal(protocol, external));
        announce_mapping_count();
        return std::nullopt;
    }
    return MappingRefusal::no_such_entry;
}

void InternetGatewayDevice::set_reserved_ports(std::vector<std::pair<Protocol, PortRange>> reserved) {
    std::lock_guard lock(mutex_);
    policy_.set_reserved(std::move(reserved));
}

void InternetGatewayDevice::open_in_packet_path(const PortMapping& mapping) {
    if (!mapping.enabled) return;  // a disabled mapping holds its port and forwards nothing
    commands_.push(OpenPortMapping{{mapping.protocol, mapping.external, mapping.internal, mapping.remote_host}});
}

void InternetGatewayDevice::close_in_packet_path(const PortMapping& mapping) {
    commands_.push(ClosePortMapping{mapping.protocol, mapping.external});
}

void InternetGatewayDevice::record(std::string_view journal_lines) {
    publish_next_lease_end();
    mapping_count_.store(policy_.size(), std::memory_order_relaxed);
    if (journal_.wants_compaction(policy_.size()) || !journal_.is_open()) {
        compact_lease_file();
        return;
    }
    if (journal_lines.empty()) return;
    if (auto error = journal_.append(journal_lines)) {
        log::error("lease file " + config_.lease_file + ": " + *error + "; rewriting it whole");
        compact_lease_file();
    }
}

void InternetGatewayDevice::compact_lease_file() {
    auto all = policy_.all();
    Instant now = monotonic_now();
    std::string text = serialize_leases(all, wall_clock_seconds(), now);
    auto lines = std::size_t(std::count(text.begin(), text.end(), '\n'));
    if (auto error = journal_.compact(text, lines))
        log::error("lease file " + config_.lease_file + ": " + *error + " (mappings kept in memory)");
}

void InternetGatewayDevice::announce_mapping_count() {
    if (!started_ || device_ < 0) return;
    std::string count = std::to_string(policy_.size());
    const char* names[] = {"PortMappingNumberOfEntries"};
    const char* values[] = {count.c_str()};
    for (const auto& endpoint : endpoints_)
        if (endpoint.kind == ServiceKind::wan_ip_connection)
            UpnpNotify(device_, endpoint.udn.c_str(), std::string(endpoint.service_id).c_str(), names, values, 1);
}

void InternetGatewayDevice::set_refusing_upstream_nat(bool refusing) {
    std::lock_guard lock(mutex_);
    policy_.set_refusing_upstream_nat(refusing);
}

void InternetGatewayDevice::announce_external_address() {
    if (!started_ || device_ < 0) return;
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

// The running UPnP Internet Gateway Device, one front end of the port mapping service:
// pupnp on the LAN interface only, behind gatewayd's own HTTP front end on upnp.http_port
// (http_front_end.hpp: no client byte reaches pupnp, whose server listens on
// pupnp_internal_port(), loopback only), the documents generated from the service table, SOAP
// actions validated (soap_arguments) and decided against the one mapping policy inside
// PortMappingService::with_policy (which opens, closes and journals what they change),
// and the evented variables announced over GENA (a change listener of the service
// announces PortMappingNumberOfEntries whoever changed the table).
//
// IGD:2 also serves WANIPv6FirewallControl (pinhole_actions.cpp), one front end of the
// PinholeService, which decides, journals and opens the pinholes.
//
// Threads: pupnp calls on_event from its own pool; the policies are the services', behind
// their locks. The packet worker never sees this object: it takes commands from the
// queue and publishes traffic counters.
#pragma once

#include <upnp/upnp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "igd/device_description.hpp"
#include "igd/engine_command_queue.hpp"
#include "igd/external_address.hpp"
#include "igd/forwarded_clients.hpp"
#include "igd/http_front_end.hpp"
#include "igd/igd_config.hpp"
#include "igd/lease_journal.hpp"
#include "igd/mapping_changes.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/pinhole_policy.hpp"
#include "igd/pinhole_service.hpp"
#include "igd/port_mapping_service.hpp"
#include "igd/refusal_log.hpp"
#include "igd/soap_arguments.hpp"
#include "igd/upnp_refusal_counters.hpp"
#include "igd/web_files.hpp"

namespace gw {

class UpstreamCarrier;

struct IgdEnvironment {
    std::string lan_interface;
    unsigned lan_interface_index = 0;  // if_nametoindex; 0: unknown (no link-local requester is the LAN's)
    Ipv4Address lan_address;
    std::vector<Ipv4Network> lan_networks;
    Ipv4Address wan_address;
    // What GetExternalIPAddress answers, owned by the daemon (it outlives the IGD);
    // null = wan_address.
    const ExternalAddress* external_address = nullptr;
    // wan.upstream_mappings: AddPortMapping and AddAnyPortMapping wait for the grant's
    // upstream half (igd/upstream_carrier.hpp); owned by the daemon. Null: as before.
    UpstreamCarrier* upstream = nullptr;
    std::string uuid;  // stable across restarts
    // IPv6 pinholes: the LAN interface's IPv6 prefixes (link-local left out) and the
    // gateway's own addresses there; the firewall's idle timeouts for outbound flows.
    std::vector<Ipv6Network> lan_ipv6_networks;
    std::vector<Ipv6Address> lan_ipv6_addresses;
    std::uint32_t outbound_tcp_seconds = 7440;
    std::uint32_t outbound_udp_seconds = 300;
};

// Published by the packet worker, read by GetTotal* actions.
struct TrafficCounters {
    std::atomic<std::uint64_t> bytes_sent{0}, bytes_received{0}, packets_sent{0}, packets_received{0};
};

class InternetGatewayDevice {
public:
    // `mappings`, `pinholes` and `commands` outlive the device; the services' config is
    // `config`'s policy part. `commands` carries GetPinholePackets' count requests.
    InternetGatewayDevice(const IgdConfig& config, IgdEnvironment environment, PortMappingService& mappings,
                          PinholeService& pinholes, EngineCommandQueue& commands, const TrafficCounters& counters);
    ~InternetGatewayDevice();
    InternetGatewayDevice(const InternetGatewayDevice&) = delete;
    InternetGatewayDevice& operator=(const InternetGatewayDevice&) = delete;

    // Starts pupnp on the LAN interface and advertises (the services have restored the
    // leases and pinholes already). Throws StartupError.
    void start();
    // Every refused action, by reason (gatewayctl status).
    const UpnpRefusalCounters& refusals() const { return refusals_; }
    // The HTTP front end's refusals and relays (null before start()).
    const HttpFrontEnd* front_end() const { return front_end_.get(); }
    // The external address changed: GENA event of ExternalIPAddress to subscribers.
    void announce_external_address();

private:
    struct ActionOutcome {
        ActionOutcome() = default;
        ActionOutcome(std::vector<std::string> values, std::optional<SoapFault> refusal)
            : out_values(std::move(values)), fault(refusal) {}
        std::vector<std::string> out_values;  // in the action's table order
        std::optional<SoapFault> fault;
        // With a fault, for its log line (refusal_reasons.hpp): what was asked, and why not.
        std::string refused_request, refusal_reason;
        MappingChanges changes;  // carried out by the service
    };

    static int on_event(Upnp_EventType type, const void* event, void* cookie);
    void register_for_ipv6(const std::string& location);
    void start_front_end();
    static void limit_subscriptions(UpnpDevice_Handle handle);
    // The client the front end relayed `request` for (pupnp only sees the front end).
    std::optional<sockaddr_storage> client_of(const UpnpActionRequest* request) const;
    // Answers `fault`, counts it, and logs it unless refusals are flooding in (the
    // counters keep the full tally).
    void refuse(UpnpActionRequest* request, const SoapFault& fault, const std::string& what,
                std::string_view refused_request = {}, std::string_view reason = {});
    int on_action(UpnpActionRequest* request);
    int answer_action(UpnpActionRequest* request, const IgdService& service, const std::string& what,
                      const std::function<ActionOutcome(const ActionCall&)>& perform);
    int on_subscription(const UpnpSubscriptionRequest* request);
    ActionOutcome perform(const ActionCall& call, Ipv4Address requester);
    ActionOutcome add_mapping(const AddPortMappingArgs& args, Ipv4Address requester, bool any_port);
    void carry_upstream(ActionOutcome& outcome, Ipv4Address requester, bool any_port);
    ActionOutcome delete_mapping(const PortMappingKey& key, Ipv4Address requester);
    ActionOutcome delete_range(const PortRangeArgs& args, Ipv4Address requester);
    ActionOutcome list_mappings(const ListPortMappingsArgs& args);
    ActionOutcome mapping_entry(const PortMapping* mapping, bool with_key, Instant now);

    // WANIPv6FirewallControl (pinhole_actions.cpp): its own requester rules (IPv6 or
    // IPv4 LAN hosts), then the pinhole service.
    int on_pinhole_action(UpnpActionRequest* request, const IgdService& service);
    // The requester of an action that came over IPv6 from the LAN; nullopt otherwise.
    std::optional<Ipv6Address> ipv6_lan_requester(const UpnpActionRequest* request) const;
    ActionOutcome perform_pinhole(const ActionCall& call, const Ipv6Address& requester);
    ActionOutcome add_pinhole(const PinholeRequest& request, const Ipv6Address& requester);
    ActionOutcome update_pinhole(const UpdatePinholeArgs& args, const Ipv6Address& requester);
    ActionOutcome delete_pinhole(std::uint16_t id, const Ipv6Address& requester);
    ActionOutcome pinhole_packets(IgdActionId action, std::uint16_t id, const Ipv6Address& requester);
    // The packet path's count of packets the pinhole let in, asked through the command
    // queue; nullopt when no answer comes within a second (the caller answers 501).
    std::optional<std::uint64_t> packets_let_in(std::uint16_t id);

    // The service's change listener: GENA for PortMappingNumberOfEntries.
    void announce_mapping_count(std::size_t count);
    std::string uptime_seconds() const;
    std::string external_address_text() const;

    IgdConfig config_;
    IgdEnvironment environment_;
    PortMappingService& mappings_;
    PinholeService& pinholes_;
    EngineCommandQueue& commands_;
    const TrafficCounters& counters_;
    DescriptionParams description_;
    std::vector<ServiceEndpoint> endpoints_;
    WebFiles files_;
    UpnpRefusalCounters refusals_;
    RefusalLog refusal_log_;
    ForwardedClients forwarded_clients_;
    std::unique_ptr<HttpFrontEnd> front_end_;
    UpnpDevice_Handle device_ = -1;
    // IGD:2 only: the same device registered for IPv6 (pupnp routes a SOAP request only
    // to a handle of the request's address family), so pinholes can be asked over IPv6.
    UpnpDevice_Handle device_ipv6_ = -1;
    bool started_ = false;
    std::optional<std::size_t> change_listener_;
    std::atomic<bool> registered_{false};  // device_ may be notified (any thread's listener call)
    std::int64_t started_at_ = 0;
};

}  // namespace gw

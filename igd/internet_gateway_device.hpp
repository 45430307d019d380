// The running UPnP Internet Gateway Device, one front end of the port mapping service:
// pupnp on the LAN interface only, the documents generated from the service table, SOAP
// actions validated (soap_arguments) and decided against the one mapping policy inside
// PortMappingService::with_policy (which opens, closes and journals what they change),
// and the evented variables announced over GENA (a change listener of the service
// announces PortMappingNumberOfEntries whoever changed the table).
//
// Threads: pupnp calls on_event from its own pool; the policy is the service's, behind
// its lock. The packet worker never sees this object: it publishes traffic counters.
#pragma once

#include <upnp/upnp.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "igd/device_description.hpp"
#include "igd/igd_config.hpp"
#include "igd/mapping_changes.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/port_mapping_service.hpp"
#include "igd/soap_arguments.hpp"
#include "igd/upnp_refusal_counters.hpp"
#include "firewall/rate_limiter.hpp"
#include "igd/web_files.hpp"

namespace gw {

struct IgdEnvironment {
    std::string lan_interface;
    Ipv4Address lan_address;
    std::vector<Ipv4Network> lan_networks;
    Ipv4Address wan_address;
    std::string uuid;                                            // stable across restarts
};

// Published by the packet worker, read by GetTotal* actions.
struct TrafficCounters {
    std::atomic<std::uint64_t> bytes_sent{0}, bytes_received{0}, packets_sent{0}, packets_received{0};
};

class InternetGatewayDevice {
public:
    // `mappings` outlives the device; its config is `config`'s policy part.
    InternetGatewayDevice(const IgdConfig& config, IgdEnvironment environment, PortMappingService& mappings,
                          const TrafficCounters& counters);
    ~InternetGatewayDevice();
    InternetGatewayDevice(const InternetGatewayDevice&) = delete;
    InternetGatewayDevice& operator=(const InternetGatewayDevice&) = delete;

    // Starts pupnp on the LAN interface and advertises (the service has restored the
    // leases already). Throws StartupError.
    void start();
    // Every refused action, by reason (gatewayctl status).
    const UpnpRefusalCounters& refusals() const { return refusals_; }

private:
    struct ActionOutcome {
        ActionOutcome() = default;
        ActionOutcome(std::vector<std::string> values, std::optional<SoapFault> refusal)
            : out_values(std::move(values)), fault(refusal) {}
        std::vector<std::string> out_values;  // in the action's table order
        std::optional<SoapFault> fault;
        MappingChanges changes;  // carried out by the service
    };

    static int on_event(Upnp_EventType type, const void* event, void* cookie);
    // Answers `fault`, counts it, and logs it unless refusals are flooding in (the
    // counters keep the full tally).
    void refuse(UpnpActionRequest* request, const SoapFault& fault, const std::string& what);
    int on_action(UpnpActionRequest* request);
    int on_subscription(const UpnpSubscriptionRequest* request);
    ActionOutcome perform(const ActionCall& call, Ipv4Address requester);
    ActionOutcome add_mapping(const AddPortMappingArgs& args, Ipv4Address requester, bool any_port);
    ActionOutcome delete_mapping(const PortMappingKey& key, Ipv4Address requester);
    ActionOutcome delete_range(const PortRangeArgs& args, Ipv4Address requester);
    ActionOutcome list_mappings(const ListPortMappingsArgs& args);
    ActionOutcome mapping_entry(const PortMapping* mapping, bool with_key, Instant now);

    // The service's change listener: GENA for PortMappingNumberOfEntries.
    void announce_mapping_count(std::size_t count);
    std::string uptime_seconds() const;

    IgdConfig config_;
    IgdEnvironment environment_;
    PortMappingService& mappings_;
    const TrafficCounters& counters_;
    DescriptionParams description_;
    std::vector<ServiceEndpoint> endpoints_;
    WebFiles files_;
    UpnpRefusalCounters refusals_;
    std::mutex refusal_log_mutex_;
    RateLimiter refusal_log_limit_{RateLimit{.per_second = 5, .burst = 20}};
    std::uint64_t refusals_not_logged_ = 0;  // with refusal_log_mutex_ held
    UpnpDevice_Handle device_ = -1;
    bool started_ = false;
    std::optional<std::size_t> change_listener_;
    std::atomic<bool> registered_{false};  // device_ may be notified (any thread's listener call)
    std::int64_t started_at_ = 0;
};

}  // namespace gw

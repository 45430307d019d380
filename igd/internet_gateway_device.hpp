// The running UPnP Internet Gateway Device: pupnp on the LAN interface only, the
// documents generated from the service table, SOAP actions validated (soap_arguments)
// and decided by the one mapping policy, grants opened in the packet path through the
// engine command queue, leases journaled (one fdatasync'ed line per change) and restored on start, and the
// evented variables announced over GENA.
//
// Threads: pupnp calls on_event from its own pool; everything the callbacks share
// (the policy, the lease file) is behind `mutex_`. The packet worker never sees this
// object: it takes commands from the queue and publishes traffic counters.
#pragma once

#include <upnp/upnp.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "igd/device_description.hpp"
#include "igd/engine_command_queue.hpp"
#include "igd/external_address.hpp"
#include "igd/igd_config.hpp"
#include "igd/lease_journal.hpp"
#include "igd/mapping_policy.hpp"
#include "igd/pinhole_policy.hpp"
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
    // What GetExternalIPAddress answers, owned by the daemon (it outlives the IGD);
    // null = wan_address.
    const ExternalAddress* external_address = nullptr;
    std::vector<std::pair<Protocol, PortRange>> reserved_ports;  // static forwards
    std::string uuid;                                            // stable across restarts
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
    InternetGatewayDevice(const IgdConfig& config, IgdEnvironment environment, EngineCommandQueue& commands,
                          const TrafficCounters& counters);
    ~InternetGatewayDevice();
    InternetGatewayDevice(const InternetGatewayDevice&) = delete;
    InternetGatewayDevice& operator=(const InternetGatewayDevice&) = delete;

    // Restores the lease file (opening what it holds), starts pupnp on the LAN
    // interface and advertises. Throws StartupError.
    void start();
    // Closes the mappings whose lease ended; the daemon calls it every second.
    void expire_leases();
    // When the next lease ends (the daemon wakes up for it, so the path closes on time).
    // Lock-free: the packet thread asks on every loop iteration.
    std::optional<Instant> next_lease_end() const;
    std::size_t mapping_count() const;
    // Every mapping held (gatewayctl mappings), in index order.
    std::vector<PortMapping> mappings();
    // gatewayctl mappings delete: the administrator removes a mapping whoever owns it,
    // through the policy, so the lease file and GENA stay right and the packet path is
    // closed. The refusal when there is no such live mapping.
    std::optional<MappingRefusal> delete_mapping_as_administrator(Protocol protocol, Port external);
    // Every refused action, by reason (gatewayctl status).
    const UpnpRefusalCounters& refusals() const { return refusals_; }
    // Reload: the ports static forwards now hold, refused to new grants (729).
    void set_reserved_ports(std::vector<std::pair<Protocol, PortRange>> reserved);
    // Every IPv6 pinhole held (gatewayctl status), by UniqueID.
    std::vector<PinholeLease> pinholes();
    // wan.cascade_mappings: refuse, with another NAT upstream: new grants get 501.
    void set_refusing_upstream_nat(bool refusing);
    // The external address changed: GENA event of ExternalIPAddress to subscribers.
    void announce_external_address();

private:
    struct ActionOutcome {
        std::vector<std::string> out_values;  // in the action's table order
        std::optional<SoapFault> fault;
    };

    static int on_event(Upnp_EventType type, const void* event, void* cookie);
    void register_for_ipv6(const std::string& location);
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
    ActionOutcome mapping_entry(const PortMapping* mapping, bool with_key);

    // WANIPv6FirewallControl (pinhole_actions.cpp): its own requester rules (IPv6 or
    // IPv4 LAN hosts), the pinhole policy, the pinhole journal.
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
    void restore_pinholes();                       // with mutex_ held, at start
    void expire_pinholes(Instant now);             // with mutex_ held
    void record_pinholes(std::string_view lines);  // with mutex_ held: journal, next lease end
    void compact_pinhole_file();                   // with mutex_ held
    void publish_next_lease_end();                 // with mutex_ held: mappings' and pinholes'

    void open_in_packet_path(const PortMapping& mapping);
    void close_in_packet_path(const PortMapping& mapping);
    // With mutex_ held, after every change: publishes what the packet thread reads
    // without the lock, and appends `journal_lines` to the lease file (or compacts it).
    void record(std::string_view journal_lines);
    void compact_lease_file();      // with mutex_ held
    void announce_mapping_count();  // with mutex_ held
    std::string uptime_seconds() const;
    std::string external_address_text() const;

    IgdConfig config_;
    IgdEnvironment environment_;
    EngineCommandQueue& commands_;
    const TrafficCounters& counters_;
    DescriptionParams description_;
    std::vector<ServiceEndpoint> endpoints_;
    WebFiles files_;
    std::mutex mutex_;
    MappingPolicy policy_;
    LeaseJournal journal_;
    PinholePolicy pinhole_policy_;
    LeaseJournal pinhole_journal_;
    UpnpRefusalCounters refusals_;
    std::mutex refusal_log_mutex_;
    RateLimiter refusal_log_limit_{RateLimit{.per_second = 5, .burst = 20}};
    std::uint64_t refusals_not_logged_ = 0;  // with refusal_log_mutex_ held
    UpnpDevice_Handle device_ = -1;
    // IGD:2 only: the same device registered for IPv6 (pupnp routes a SOAP request only
    // to a handle of the request's address family), so pinholes can be asked over IPv6.
    UpnpDevice_Handle device_ipv6_ = -1;
    bool started_ = false;
    static constexpr std::int64_t no_lease_end = INT64_MAX;
    std::atomic<std::int64_t> next_lease_end_ms_{no_lease_end};
    std::atomic<std::size_t> mapping_count_{0};
    std::int64_t started_at_ = 0;
};

}  // namespace gw

// The running daemon, in the steps of STYLE.md guideline 14:
//  - configure(): validates the whole config against the host (interfaces, addresses)
//    and prepares the engine's setup; binds, installs and starts nothing.
//  - start(): builds the engine (carrying on the last run's flows), binds the queues,
//    installs the queue rules and switches forwarding on, starts the mapping service,
//    the workers, the LAN front ends (as soon as the LAN is ready) and the WAN monitor.
//    Throws StartupError; what it had done is undone by the destructor.
//  - run(): the main loop (gateway_loop.cpp) until SIGTERM or SIGINT; SIGHUP reloads.
//  - stop(): the front ends first (their byebyes while the packets still flow), then the
//    workers; saves the flow snapshot for the next start and logs the summary. The
//    destructor then undoes the packet path (rules, forwarding) last.
//
// Threads (docs/architecture.md, Threads and locks): every member belongs to the thread
// that calls these, the main loop's, except what the comments name. The members are
// declared in the order they are built, so that they are destroyed in reverse: nothing
// goes while something built after it may still use it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.hpp"
#include "config/gateway_config.hpp"
#include "daemon/gateway_daemon.hpp"
#include "firewall/packet_engine.hpp"
#include "igd/igd_config.hpp"

namespace gw {

class CaptureSlot;
class ControlSocket;
class DecisionLog;
class EngineCommandQueue;
class FrontEndSupervisor;
class GatewayControl;
class InternetGatewayDevice;
class LanNeighbours;
class LockedEngine;
class UpstreamWorker;
class UpstreamAnnouncementListener;
class NfQueueSocket;
class PacketDecider;
class PacketPathGuard;
class PortControlServer;
class PortMappingService;
class PinholeService;
class MetricsEndpoint;
class QueueWorker;
class RejectSender;
class ServiceNotifier;
class SignalFd;
class SsdpServer;
class StderrCapture;
class WanMonitor;
struct TrafficCounters;

class Gateway {
public:
    Gateway();
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    Expected<void, Error> configure(const GatewayConfig& config, const DaemonOptions& options);
    void start();
    void run();
    void stop();

private:
    // The parts of start().
    void start_packet_path();
    void start_mapping_service();
    void start_control_plane();
    void start_upstream();  // gateway_upstream.cpp
    void follow_upstream_forwards();
    void follow_upstream(bool tick);
    void stop_upstream();
    // The LAN front ends, as the supervisor starts and stops them (gateway_front_ends.cpp).
    void add_front_ends();
    void start_upnp(Ipv4Address lan);
    void stop_upnp();
    void start_port_control(Ipv4Address lan);
    void stop_port_control();
    // The engine's view of a LAN service follows the address the front ends start on.
    void move_lan_services(Ipv4Address lan);
    // The main loop's pieces (gateway_loop.cpp).
    void reload_on_signal();
    void follow_wan_address(Ipv4Address address);
    Instant next_wake(Instant next_tick) const;
    void expire_and_publish(Instant now, bool tick);
    void publish_metrics();  // metrics.listen: the text the next scrapes get

    // From configure().
    GatewayConfig config_;
    DaemonOptions options_;
    EngineSetup setup_;
    IgdConfig mapping_config_;  // the policy every mapping front end shares
    bool configured_ = false;

    // From start(), in this order.
    std::unique_ptr<ServiceNotifier> notifier_;  // no-op unless systemd started us (Type=notify)
    std::unique_ptr<SignalFd> signals_;
    std::unique_ptr<PacketEngine> engine_;
    std::string snapshot_path_;
    std::unique_ptr<DecisionLog> decisions_;
    std::unique_ptr<RejectSender> rejects_;
    std::vector<std::unique_ptr<NfQueueSocket>> queues_;  // bound before the rules exist
    std::unique_ptr<PacketPathGuard> packet_path_;
    std::unique_ptr<EngineCommandQueue> commands_;
    std::unique_ptr<TrafficCounters> traffic_;  // written here, read by pupnp's threads
    std::unique_ptr<WanMonitor> wan_;
    std::unique_ptr<PortMappingService> mapping_service_;  // every dynamic opening; the lease file only with a front end
    std::unique_ptr<PinholeService> pinholes_;             // IPv6 pinholes of UPnP, PCP and gatewayctl
    // wan.upstream_mappings: before the front ends that wait on it, after the service it reads.
    std::unique_ptr<UpstreamWorker> upstream_;
    std::size_t upstream_listener_ = 0;  // its change listener on the service
    // The upstream's announcements on WAN:5350 (RFC 6887 14.1.3): calls upstream_; goes first.
    std::unique_ptr<UpstreamAnnouncementListener> upstream_announcements_;
    std::unique_ptr<StderrCapture> pupnp_output_;           // pupnp's stderr as log lines
    // The engine's one lock: the workers once per batch; everyone else for short copies
    // and changes (locked_engine.hpp).
    std::unique_ptr<LockedEngine> locked_engine_;
    // The LAN front ends, started by the supervisor once the LAN is ready; null otherwise.
    std::unique_ptr<InternetGatewayDevice> igd_;
    std::unique_ptr<SsdpServer> ssdp_;  // gatewayd's own SSDP beside the IGD
    std::unique_ptr<PortControlServer> port_control_;
    std::unique_ptr<CaptureSlot> captures_;  // gatewayctl capture; used by the workers under the engine lock
    std::unique_ptr<PacketDecider> decider_;
    std::unique_ptr<LanNeighbours> lan_neighbours_;  // source trust on the LAN (issue 14)
    std::vector<std::unique_ptr<QueueWorker>> workers_;
    std::unique_ptr<GatewayControl> control_;
    std::unique_ptr<FrontEndSupervisor> front_ends_;
    std::unique_ptr<ControlSocket> control_socket_;
    std::unique_ptr<MetricsEndpoint> metrics_;  // metrics.listen; null: none
    bool stopped_ = false;
};

}  // namespace gw

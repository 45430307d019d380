#include "daemon/gateway.hpp"

// glibc first: <linux/in.h> then leaves struct in_addr and friends to it (libc-compat.h).
#include <netinet/in.h>
#include <net/if.h>

// pupnp's headers before libpcap's: pcap.h defines SOCKET, which UpnpInet.h typedefs.
#include "igd/internet_gateway_device.hpp"
#include "igd/pinhole_service.hpp"
#include "igd/port_mapping_service.hpp"

#include "base/log.hpp"
#include "base/startup_error.hpp"
#include "daemon/control_socket.hpp"
#include "daemon/decision_log.hpp"
#include "daemon/flow_handover.hpp"
#include "daemon/front_end_supervisor.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/metrics_endpoint.hpp"
#include "daemon/gateway_expiry.hpp"
#include "daemon/gateway_log.hpp"
#include "daemon/gateway_packet_path.hpp"
#include "daemon/host_network.hpp"
#include "daemon/lan_neighbours.hpp"
#include "daemon/locked_engine.hpp"
#include "daemon/nfqueue_socket.hpp"
#include "daemon/packet_capture.hpp"
#include "daemon/packet_decider.hpp"
#include "daemon/port_control_server.hpp"
#include "daemon/queue_worker.hpp"
#include "daemon/reject_sender.hpp"
#include "daemon/service_notifier.hpp"
#include "daemon/signal_fd.hpp"
#include "daemon/ssdp_server.hpp"
#include "daemon/stderr_capture.hpp"
#include "daemon/upstream_announcement_listener.hpp"
#include "daemon/upstream_worker.hpp"
#include "daemon/wan_monitor.hpp"
#include "igd/engine_clock.hpp"
#include "igd/engine_command_queue.hpp"

namespace gw {

Gateway::Gateway() = default;

// A start that threw, or a run that did: the members go in reverse order of their
// making (workers joined before the front ends, the packet path's guard last), as stop()
// would, without its snapshot and summary.
Gateway::~Gateway() = default;

Expected<void, Error> Gateway::configure(const GatewayConfig& config, const DaemonOptions& options) {
    try {
        setup_ = prepare_engine_setup(config);
    } catch (const StartupError& e) {
        return unexpected(Error{e.what()});
    }
    config_ = config;
    options_ = options;
    for (const std::string& warning : targets_on_the_gateway(config, setup_)) log::warning(warning);
    const NatConfig& nat = setup_.nat;
    if (auto local = local_port_range(); local && local->first <= nat.port_range.last && nat.port_range.first <= local->last)
        log::info("nat.port_range " + nat.port_range.to_string() + " overlaps the gateway's own ports " +
                  local->to_string() + "; a mapping takes precedence over a local socket on the same port");
    // The policy (upnp.* keys: permissions, limits, leases) and the lease file, shared by
    // every front end: UPnP, and NAT-PMP/PCP on UDP 5351.
    // No permissions configured: miniupnpd's default over the LAN networks as resolved here.
    // No front end maps to the gateway, a network or broadcast address, or off the LAN.
    mapping_config_ = mapping_policy_config(config, setup_);
    configured_ = true;
    return {};
}

void Gateway::start() {
    if (!configured_) throw StartupError("the gateway was started before it was configured");
    notifier_ = std::make_unique<ServiceNotifier>();
    signals_ = std::make_unique<SignalFd>();
    start_packet_path();
    start_mapping_service();
    start_control_plane();
    // A ready LAN gets its front ends now, before the packet path runs, as it always did.
    front_ends_->check(monotonic_now());
    control_socket_ = std::make_unique<ControlSocket>(options_.control_socket);
    log::info("control socket " + control_socket_->path());
    for (auto& worker : workers_) worker->start();
    wan_->start();  // STUN's datagrams need the workers: the gateway's own traffic is queued too
    log::info("ready");
    notifier_->ready("translating " + config_.lan_interface + " -> " + config_.wan_interface + " as " +
                     engine_->wan_address().to_string());
}

// The engine, the queues and the rules: from here on the kernel queues packets for us.
void Gateway::start_packet_path() {
    engine_ = std::make_unique<PacketEngine>(setup_);
    // Before the first packet (and before the IGD and gatewayctl reopen their mappings):
    // a restarted gatewayd carries on the connections of the one before it.
    snapshot_path_ = flow_snapshot_path(config_);
    restore_flow_snapshot(snapshot_path_, *engine_, monotonic_now(), wall_clock_ms());
    decisions_ = std::make_unique<DecisionLog>(setup_.firewall.log_lines_per_second);
    rejects_ = std::make_unique<RejectSender>();
    // Bound before the rules exist: from the first queued packet someone listens.
    for (std::uint16_t i = 0; i < config_.queue_workers; ++i)
        queues_.push_back(std::make_unique<NfQueueSocket>(
            NfQueueOptions{std::uint16_t(config_.queue_number + i), int(config_.queue_socket_buffer_bytes)}));
    packet_path_ = std::make_unique<PacketPathGuard>(config_, setup_.nat.wan_address);
    log_start(config_, setup_);
}

void Gateway::start_mapping_service() {
    commands_ = std::make_unique<EngineCommandQueue>();
    traffic_ = std::make_unique<TrafficCounters>();
    // Classifies the WAN address, asks STUN, follows the interface's address (wan.address: auto).
    wan_ = std::make_unique<WanMonitor>(config_, setup_.nat.wan_address);
    // Always there: gatewayctl's timed forwards are its openings too. The lease file is
    // read and written only when a client front end runs.
    mapping_service_ =
        std::make_unique<PortMappingService>(mapping_config_, static_forward_ports(setup_.firewall), *commands_);
    if (config_.upnp.enabled || config_.port_control.server_enabled()) {
        mapping_service_->set_refusing_upstream_nat(wan_->status().refusing_mappings());
        mapping_service_->start();
        wan_->add_status_listener([this](const WanStatus& status) {
            mapping_service_->set_refusing_upstream_nat(status.refusing_mappings());
        });
    }
    // IPv6 pinholes of every front end (UPnP, PCP, gatewayctl), only in the prefixes the
    // IPv6 firewall forwards (lan.ipv6_networks): none is granted that the packet path
    // would not honour.
    PinholeEnvironment pinhole_environment{setup_.firewall.ipv6.lan_networks, {}, setup_.nat.timeouts.tcp_established,
                                           setup_.nat.timeouts.udp};
    for (const auto& v6 : interface_ipv6_addresses(config_.lan_interface))
        pinhole_environment.gateway_addresses.push_back(v6.address);
    pinholes_ = std::make_unique<PinholeService>(mapping_config_, std::move(pinhole_environment), *commands_);
    pinholes_->start();
    // pupnp's own stderr output becomes whole, leveled, rate-limited log lines.
    if (config_.upnp.enabled) pupnp_output_ = std::make_unique<StderrCapture>("pupnp: ");
    start_upstream();
}

// The engine's lock and everything that decides or looks at packets; then gatewayctl and
// the front ends' supervisor.
void Gateway::start_control_plane() {
    locked_engine_ = std::make_unique<LockedEngine>(*engine_);
    // WANIPConnection's ExternalIPAddress is evented: subscribers learn the new address.
    wan_->add_external_address_listener([this](Ipv4Address, Ipv4Address) {
        if (igd_) igd_->announce_external_address();
    });
    // A new external address (the WAN's, or the public one STUN found) is announced
    // to the LAN and answered from then on (RFC 6886 3.2.1).
    wan_->add_external_address_listener([this](Ipv4Address, Ipv4Address now) {
        if (port_control_) port_control_->announce_external_address(now);
    });
    captures_ = std::make_unique<CaptureSlot>();
    const unsigned lan_index = if_nametoindex(config_.lan_interface.c_str());
    decider_ = std::make_unique<PacketDecider>(*engine_, *decisions_, *rejects_, *captures_, lan_index);
    // Source trust on the LAN (issue 14): who may speak for a LAN address.
    lan_neighbours_ = std::make_unique<LanNeighbours>(lan_index);
    lan_neighbours_->start();
    decider_->set_lan_neighbours(lan_neighbours_.get());
    for (auto& queue : queues_)
        workers_.push_back(std::make_unique<QueueWorker>(
            *queue, locked_engine_->mutex(),
            [this](std::span<QueuedPacket> packets, std::span<QueueVerdict> verdicts, Instant now) {
                decider_->decide_batch(packets, verdicts, now);
            },
            config_.queue_worker_priority));
    control_ = std::make_unique<GatewayControl>(*locked_engine_, mapping_service_.get(), nullptr, options_.config_path,
                                                config_, monotonic_now(), captures_.get(), &workers_);
    control_->set_wan_monitor(wan_.get());
    control_->set_lan_neighbours(lan_neighbours_.get());
    control_->set_pinholes(pinholes_.get());
    control_->set_decision_log(decisions_.get());
    follow_upstream_forwards();
    // The IGD's restored leases first, so that a timed forward meets the ports they hold.
    apply_queued_commands(*locked_engine_, *commands_);
    control_->restore_state(control_state_path(config_), monotonic_now(), wall_clock_seconds());
    add_front_ends();
    control_->set_front_ends(front_ends_.get());
    // GET /metrics (metrics.listen): served from the text the loop publishes each second.
    if (config_.metrics_listen) {
        metrics_ = std::make_unique<MetricsEndpoint>(*config_.metrics_listen);
        metrics_->start();
        publish_metrics();
    }
}

void Gateway::stop() {
    if (stopped_ || !engine_) return;
    stopped_ = true;
    if (notifier_) notifier_->stopping("stopping");
    metrics_.reset();  // no more scrapes of a gateway that is going
    // ssdp:byebye and pupnp's own (dropped by the rules, still in place) before the
    // packet path goes: the workers still decide.
    stop_upnp();
    stop_port_control();
    stop_upstream();  // after the front ends that wait on it
    // Joined before the rules go: queued packets then wait in the kernel and are
    // dropped when the queues are unbound (fail-closed).
    for (auto& worker : workers_) worker->stop();
    // No packet is decided any more: the flow table is final.
    FlowHandoverSaved handed = save_flow_snapshot(snapshot_path_, *engine_, monotonic_now(), wall_clock_ms());
    const bool hold = handed.written && handed.established_tcp > 0 && packet_path_;
    if (hold) packet_path_->hold_connections_on_exit();
    log::info(hold ? "stopping: forwarding off, queue rules removed; the gateway's TCP resets to the WAN held back "
                     "(chain GATEWAYD_HOLD) so that " +
                         std::to_string(handed.established_tcp) +
                         " established TCP connections survive a restart; the next start removes the hold"
                   : std::string("stopping: removing queue rules, forwarding off"));
    if (rejects_) log_summary(*engine_, workers_, *rejects_);
}

}  // namespace gw

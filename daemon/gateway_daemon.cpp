#include "gateway_daemon.hpp"

// glibc first: <linux/in.h> then leaves struct in_addr and friends to it (libc-compat.h).
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include "host_network.hpp"
#include "base/log.hpp"
#include "firewall/packet_engine.hpp"
#include "igd/engine_clock.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/natpmp_message.hpp"
#include "igd/pinhole_service.hpp"
#include "igd/port_mapping_service.hpp"
#include "control_socket.hpp"
#include "decision_log.hpp"
#include "front_end_supervisor.hpp"
#include "engine_commands.hpp"
#include "flow_handover.hpp"
#include "gateway_control.hpp"
#include "packet_capture.hpp"
#include "reject_sender.hpp"
#include "service_notifier.hpp"
#include "nfqueue_socket.hpp"
#include "lan_neighbours.hpp"
#include "packet_decider.hpp"
#include "stderr_capture.hpp"
#include "pcp_handler.hpp"
#include "port_control_server.hpp"
#include "queue_rules.hpp"
#include "queue_worker.hpp"
#include "ssdp_server.hpp"
#include "base/startup_error.hpp"
#include "wan_monitor.hpp"

namespace gw {
namespace {

constexpr Instant expiry_interval = std::chrono::seconds(1);


// Rules, forwarding and the LAN interface settings are undone on every exit path,
// exceptions included.
// The queue rules for this config and WAN address, at start and whenever the WAN
// address moves (install_queue_rules replaces every GATEWAYD chain at once, so a rule
// left out here would be lost on the first DHCP renewal).
QueueRuleSet queue_rule_set(const GatewayConfig& c, Ipv4Address wan_address) {
    QueueRuleSet rules{c.lan_interface, c.wan_interface, c.queue_number, wan_address.to_string(), c.queue_workers};
    rules.ipv6_forwarding = c.firewall.ipv6.enabled();
    if (c.upnp.enabled) {
        rules.lan_only_upnp_http_port = c.upnp.http_port;
        rules.ssdp_from_gatewayd_only = true;
        rules.loopback_only_tcp_port = pupnp_internal_port(c.upnp.http_port);
    }
    return rules;
}

class PacketPathGuard {
public:
    PacketPathGuard(const GatewayConfig& c, Ipv4Address wan_address)
        : lan_(c.lan_interface),
          wan_(c.wan_interface),
          ipv6_(c.firewall.ipv6.enabled()),
          // The gateway's own IPv6 obeys the input policy wherever the kernel has IPv6; a
          // kernel without it (ipv6.disable=1) has no ip6tables and nothing to judge.
          ipv6_rules_(ipv6_ || std::filesystem::exists("/proc/net/if_inet6")) {
        QueueRuleSet rules = queue_rule_set(c, wan_address);
        if (auto error = install_queue_rules(rules); !error.empty())
            throw StartupError("cannot install the queue rules: " + error);
        try {
            // Without lan.ipv6_networks IPv6 forwarding is not ours (forwarding untouched);
            // the gateway's own IPv6 is still judged (input rules and policy).
            if (ipv6_rules_) {
                if (auto error = install_ipv6_queue_rules(rules); !error.empty())
                    throw StartupError("cannot install the IPv6 queue rules: " + error);
            } else if (auto error = remove_ipv6_queue_rules(); !error.empty()) {
                log::warning("cannot remove stale IPv6 queue rules: " + error);
            }
            // Hairpinning rewrites a LAN packet's source to the WAN address before routing:
            // the kernel must accept its own address as a source there, and must not send
            // ICMP redirects for traffic that goes back out of the interface it came in on.
            for (auto& [name, value, saved] : lan_settings_) {
                saved = interface_setting(lan_, name);
                set_interface_setting(lan_, name, value);
            }
            set_ip_forwarding(true);
            if (ipv6_) set_ipv6_forwarding(true);
        } catch (...) {
            undo();
            throw;
        }
    }
    ~PacketPathGuard() { undo(); }

    // A stop that hands established connections over swaps the queue rules for a hold
    // on the resets the gateway's own stack would send them (queue_rules.hpp).
    void hold_connections_on_exit() { hold_connections_ = true; }

private:
    void undo() noexcept {
        // Fail closed: with the daemon gone nothing may cross untranslated.
        try {
            set_ip_forwarding(false);
            if (ipv6_) set_ipv6_forwarding(false);
            for (auto& [name, value, saved] : lan_settings_)
                if (saved) set_interface_setting(lan_, name, *saved);
        } catch (const StartupError& e) {
            log::error(e.what());
        }
        if (hold_connections_) {
            if (auto error = hold_handed_over_connections(wan_); !error.empty())
                log::error("cannot swap the queue rules for the connection hold: " + error);
            return;
        }
        if (auto error = remove_queue_rules(); !error.empty()) log::error("cannot remove the queue rules: " + error);
        if (ipv6_rules_)
            if (auto error = remove_ipv6_queue_rules(); !error.empty())
                log::error("cannot remove the IPv6 queue rules: " + error);
    }

    struct Setting {
        std::string name;
        int value;
        std::optional<int> saved;
    };
    std::string lan_, wan_;
    bool hold_connections_ = false;
    bool ipv6_ = false;        // IPv6 forwarding judged here
    bool ipv6_rules_ = false;  // any ip6tables rules of ours (forwarding, the gateway's own IPv6)
    std::vector<Setting> lan_settings_{{"accept_local", 1, std::nullopt}, {"send_redirects", 0, std::nullopt}};
};

std::string queue_range_text(const GatewayConfig& c) {
    if (c.queue_workers == 1) return "queue " + std::to_string(c.queue_number) + ", one worker";
    return "queues " + std::to_string(c.queue_number) + "-" + std::to_string(c.queue_number + c.queue_workers - 1) +
           ", one worker each";
}

class SignalFd {
public:
    SignalFd() {
        sigemptyset(&mask_);
        for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask_, s);
        sigprocmask(SIG_BLOCK, &mask_, nullptr);
        fd_ = signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd_ < 0) throw StartupError("cannot create a signalfd");
    }
    ~SignalFd() { close(fd_); }
    int fd() const { return fd_; }
    // The next pending signal number, or 0.
    int take() {
        signalfd_siginfo info{};
        return read(fd_, &info, sizeof info) == sizeof info ? int(info.ssi_signo) : 0;
    }

private:
    sigset_t mask_{};
    int fd_ = -1;
};

void log_summary(const PacketEngine& engine, const std::vector<std::unique_ptr<QueueWorker>>& workers,
                 const RejectSender& rejects) {
    const auto c = engine.counters();
    std::uint64_t enobufs = 0;
    for (const auto& w : workers) enobufs += w->socket().counters().enobufs.load();
    log::info("forwarded " + std::to_string(c.outbound_packets) + " packets out, " + std::to_string(c.inbound_packets) +
              " in; " + std::to_string(c.local_packets) + " for the gateway itself; " +
              std::to_string(c.drops.total()) + " dropped; " + std::to_string(c.flows_created) + " flows created, " +
              std::to_string(engine.flows().size()) + " live; " + std::to_string(c.mappings_created) +
              " mappings created; " + std::to_string(rejects.sent()) + " reject answers (" +
              std::to_string(rejects.rate_limited()) + " held back by the rate limit); queue overflows (ENOBUFS) " +
              std::to_string(enobufs));
    if (const Ipv6Firewall& v6 = engine.ipv6(); v6.config().enabled())
        log::info("IPv6: forwarded " + std::to_string(v6.counters().outbound_packets) + " packets out, " +
                  std::to_string(v6.counters().inbound_packets) + " in; " + std::to_string(v6.counters().flows_created) +
                  " flows created (" + std::to_string(v6.counters().pinhole_flows) + " through pinholes), " +
                  std::to_string(v6.flows().size()) + " live; " + std::to_string(v6.pinholes().size()) +
                  " pinholes open (IPv6 drops are counted with the reasons below)");
    for (std::size_t i = 1; i < drop_reason_count; ++i) {
        auto reason = DropReason(i);
        if (c.drops[reason] > 0)
            log::info("  dropped " + std::string(drop_reason_name(reason)) + ": " + std::to_string(c.drops[reason]));
    }
    for (const auto& rule : engine.rules().counters())
        log::info("  rule " + std::string(rule.name) + ": matched " + std::to_string(rule.matched) +
                  ", over its rate limit " + std::to_string(rule.rate_limited));
}

void log_summary(const PortControlCounts& c) {
    auto refused = c.natpmp_results[std::size_t(NatPmpResult::not_authorized)] +
                   c.natpmp_results[std::size_t(NatPmpResult::network_failure)] +
                   c.natpmp_results[std::size_t(NatPmpResult::out_of_resources)];
    log::info("NAT-PMP/PCP: " + std::to_string(c.natpmp_requests) + " NAT-PMP requests (" +
              std::to_string(c.natpmp_results[std::size_t(NatPmpResult::success)]) + " successful, " +
              std::to_string(refused) + " refused, " + std::to_string(c.natpmp_ignored) + " ignored), " +
              std::to_string(c.pcp_requests) + " PCP requests (" +
              std::to_string(c.pcp_results[std::size_t(PcpResult::success)]) + " successful, " +
              std::to_string(c.pcp_dropped) + " dropped), " + std::to_string(c.unsupported_version) +
              " unsupported versions, " + std::to_string(c.outside_lan) + " from outside the LAN, " +
              std::to_string(c.announcements) + " announcements");
}

// Stable across restarts (control points remember devices by UDN): a name-based
// identifier from what identifies this gateway, FNV-1a over it.
std::string igd_uuid(const GatewayConfig& config, Ipv4Address lan_address) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : "gatewayd:" + config.lan_interface + ":" + lan_address.to_string())
        h = (h ^ std::uint8_t(c)) * 0x100000001b3ULL;
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "%08x-%04x-5%03x-8%03x-%012llx", unsigned(h >> 32), unsigned(h >> 16) & 0xffff,
                  unsigned(h) & 0xfff, unsigned(h >> 20) & 0xfff, static_cast<unsigned long long>(h & 0xffffffffffffULL));
    return uuid;
}

// The IGD's view of the gateway, from the prepared engine setup and the LAN address it
// starts on (the supervisor's: it follows the interface).
IgdEnvironment igd_environment(const GatewayConfig& config, const EngineSetup& setup, Ipv4Address lan_address) {
    IgdEnvironment env;
    env.lan_interface = config.lan_interface;
    env.lan_interface_index = if_nametoindex(config.lan_interface.c_str());
    env.lan_address = lan_address;
    env.lan_networks = setup.firewall.lan_networks;
    env.wan_address = setup.nat.wan_address;
    // IPv6 pinholes: the prefixes the IPv6 firewall forwards (lan.ipv6_networks), or
    // without them the LAN interface's prefixes at start.
    env.lan_ipv6_networks = setup.firewall.ipv6.lan_networks;
    bool from_interface = env.lan_ipv6_networks.empty();
    for (const auto& v6 : interface_ipv6_addresses(config.lan_interface)) {
        env.lan_ipv6_addresses.push_back(v6.address);
        if (from_interface && std::ranges::find(env.lan_ipv6_networks, v6.network) == env.lan_ipv6_networks.end())
            env.lan_ipv6_networks.push_back(v6.network);
    }
    env.outbound_tcp_seconds = setup.nat.timeouts.tcp_established;
    env.outbound_udp_seconds = setup.nat.timeouts.udp;
    env.uuid = igd_uuid(config, env.lan_address);
    return env;
}

// The gateway's own SSDP: the same UUID and LOCATION as the IGD's description.
SsdpServerOptions ssdp_server_options(const GatewayConfig& config, const EngineSetup& setup, Ipv4Address lan_address) {
    SsdpServerOptions options;
    options.lan_interface = config.lan_interface;
    options.lan_address = lan_address;
    options.lan_networks = setup.firewall.lan_networks;
    options.gateway_addresses = {lan_address, setup.nat.wan_address};
    options.identity.uuid = igd_uuid(config, lan_address);
    options.identity.igd_version = config.upnp.igd_version;
    options.identity.location = "http://" + lan_address.to_string() + ":" +
                                std::to_string(config.upnp.http_port) + std::string(description_path);
    options.identity.max_age = config.upnp.advertisement_seconds;
    return options;
}

void publish(const PacketEngine& engine, TrafficCounters& counters) {
    auto c = engine.counters();
    // WANCommonInterfaceConfig counts the WAN side: sent = what left translated.
    counters.bytes_sent = c.outbound_bytes;
    counters.bytes_received = c.inbound_bytes;
    counters.packets_sent = c.outbound_packets;
    counters.packets_received = c.inbound_packets;
}

}  // namespace

EngineSetup engine_setup_from_config(const GatewayConfig& config, Ipv4Address wan_address) {
    EngineSetup setup;
    setup.nat.wan_address = wan_address;
    setup.nat.port_range = config.port_range;
    setup.nat.timeouts = config.timeouts;
    setup.nat.max_mappings = config.max_mappings;
    setup.nat.limits = config.limits;
    setup.firewall = config.firewall;
    setup.lan_interface = config.lan_interface;
    setup.wan_interface = config.wan_interface;
    return setup;
}

EngineSetup prepare_engine_setup(const GatewayConfig& config) {
    EngineSetup setup = engine_setup_from_config(config, prepare_nat_config(config).wan_address);
    if (config.upnp.enabled || config.port_control.server_enabled()) {
        // With lan.networks set the LAN may get its address later: the front ends wait for it
        // (front_end_supervisor.hpp) and move the engine's view of them there (0.0.0.0 till then).
        auto lan_address = interface_ipv4_address(config.lan_interface);
        if (!lan_address && setup.firewall.lan_networks.empty())
            throw StartupError(std::string(config.upnp.enabled ? "upnp" : "natpmp/pcp") + " is enabled but " +
                               config.lan_interface + " has no IPv4 address (and lan.networks is not set)");
        const Ipv4Address address = lan_address.value_or(Ipv4Address{});
        if (config.upnp.enabled) setup.upnp_http = Endpoint{address, Port{config.upnp.http_port}};
        if (config.port_control.server_enabled()) setup.port_control = Endpoint{address, Port{natpmp_server_port}};
    }
    setup.lan_addresses = interface_ipv4_addresses(config.lan_interface);
    if (setup.firewall.lan_networks.empty()) {
        auto subnet = interface_ipv4_network(config.lan_interface);
        if (!subnet) throw StartupError("lan.networks is not set and " + config.lan_interface + " has no IPv4 address");
        setup.firewall.lan_networks.push_back(*subnet);
    }
    return setup;
}

NatConfig prepare_nat_config(const GatewayConfig& config) {
    for (const auto* name : {&config.lan_interface, &config.wan_interface})
        if (!interface_exists(*name)) throw StartupError("interface '" + *name + "' does not exist");
    std::optional<Ipv4Address> wan_address = config.wan_address;
    // No address yet (DHCP pending): 0.0.0.0, to which the engine forwards nothing
    // (fail-closed) until the address watch brings one.
    if (!wan_address) wan_address = interface_ipv4_address(config.wan_interface).value_or(Ipv4Address{});
    return engine_setup_from_config(config, *wan_address).nat;
}

void run_gateway(const GatewayConfig& config, const DaemonOptions& options) {
    ServiceNotifier notifier;  // no-op unless systemd started us (Type=notify)
    EngineSetup setup = prepare_engine_setup(config);
    const NatConfig& nat = setup.nat;
    if (auto local = local_port_range(); local && local->first <= nat.port_range.last && nat.port_range.first <= local->last)
        log::info("nat.port_range " + nat.port_range.to_string() + " overlaps the gateway's own ports " +
                  local->to_string() + "; a mapping takes precedence over a local socket on the same port");

    SignalFd signals;
    PacketEngine engine(setup);
    // Before the first packet (and before the IGD and gatewayctl reopen their mappings):
    // a restarted gatewayd carries on the connections of the one before it.
    const std::string snapshot_path = flow_snapshot_path(config);
    restore_flow_snapshot(snapshot_path, engine, monotonic_now(), wall_clock_ms());
    DecisionLog decisions(setup.firewall.log_lines_per_second);
    RejectSender rejects;
    // Bound before the rules exist: from the first queued packet someone listens.
    std::vector<std::unique_ptr<NfQueueSocket>> queues;
    for (std::uint16_t i = 0; i < config.queue_workers; ++i)
        queues.push_back(std::make_unique<NfQueueSocket>(
            NfQueueOptions{std::uint16_t(config.queue_number + i), int(config.queue_socket_buffer_bytes)}));
    PacketPathGuard packet_path(config, nat.wan_address);
    std::string lan_networks;
    for (const auto& n : setup.firewall.lan_networks) lan_networks += (lan_networks.empty() ? "" : ",") + n.to_string();
    log::info("translating " + config.lan_interface + " (" + lan_networks + ") -> " + config.wan_interface + " as " +
              nat.wan_address.to_string() + ", ports " + nat.port_range.to_string() + ", filtering " +
              std::string(filtering_behaviour_name(setup.firewall.filtering)) + ", " +
              std::to_string(setup.firewall.rules.size()) + " rules, " + std::to_string(setup.firewall.forwards.size()) +
              " forwards, " + queue_range_text(config));
    if (const Ipv6FirewallConfig& v6 = setup.firewall.ipv6; v6.enabled()) {
        std::string prefixes;
        for (const auto& n : v6.lan_networks) prefixes += (prefixes.empty() ? "" : ",") + n.to_string();
        log::info("IPv6: routing " + config.lan_interface + " (" + prefixes + ") <-> " + config.wan_interface +
                  " without NAT, stateful, inbound policy " + std::string(rule_action_name(setup.firewall.policies.inbound)) +
                  ", room for " + std::to_string(v6.max_flows) + " flows");
        // No NAT stands in front of IPv6: an address-less inbound accept rule written with
        // forwarded IPv4 ports in mind opens its ports on every LAN host.
        for (const FirewallRule& rule : setup.firewall.rules)
            if (rule.direction == RuleDirection::inbound && rule.action == RuleAction::accept &&
                rule.sources.empty() && rule.destinations.empty() && rule.ipv6_destinations.empty())
                log::warning("rule " + rule.name + " accepts inbound IPv6 to every LAN host (it names no "
                             "destinations); give it ipv6 destinations or IPv4 networks to narrow it");
    }
    EngineCommandQueue commands;
    TrafficCounters traffic;
    // Classifies the WAN address, asks STUN, follows the interface's address (wan.address: auto).
    WanMonitor wan(config, nat.wan_address);
    // The policy (upnp.* keys: permissions, limits, leases) and the lease file, shared by
    // every front end: UPnP, and NAT-PMP/PCP on UDP 5351.
    IgdConfig mapping_config = config.upnp;
    // No permissions configured: miniupnpd's default over the LAN networks as resolved here.
    mapping_config.permissions = effective_upnp_permissions(config.upnp, setup.firewall.lan_networks);
    // No front end maps to the gateway, a network or broadcast address, or off the LAN.
    mapping_config.lan_networks = setup.firewall.lan_networks;
    mapping_config.gateway_addresses = setup.lan_addresses;
    mapping_config.gateway_addresses.push_back(setup.nat.wan_address);
    // Always there: gatewayctl's timed forwards are its openings too. The lease file is
    // read and written only when a client front end runs.
    auto mapping_service =
        std::make_unique<PortMappingService>(mapping_config, static_forward_ports(setup.firewall), commands);
    if (config.upnp.enabled || config.port_control.server_enabled()) {
        mapping_service->set_refusing_upstream_nat(wan.status().refusing_mappings());
        mapping_service->start();
        wan.add_status_listener([&mapping_service](const WanStatus& status) {
            mapping_service->set_refusing_upstream_nat(status.refusing_mappings());
        });
    }
    // IPv6 pinholes of every front end (UPnP, PCP, gatewayctl), only in the prefixes the
    // IPv6 firewall forwards (lan.ipv6_networks): none is granted that the packet path
    // would not honour.
    PinholeEnvironment pinhole_environment{setup.firewall.ipv6.lan_networks, {}, setup.nat.timeouts.tcp_established,
                                           setup.nat.timeouts.udp};
    for (const auto& v6 : interface_ipv6_addresses(config.lan_interface))
        pinhole_environment.gateway_addresses.push_back(v6.address);
    PinholeService pinholes(mapping_config, std::move(pinhole_environment), commands);
    pinholes.start();
    // pupnp's own stderr output becomes whole, leveled, rate-limited log lines.
    std::optional<StderrCapture> pupnp_output;
    if (config.upnp.enabled) pupnp_output.emplace("pupnp: ");
    // Everything that touches the engine (and the decision log, reject socket and
    // capture slot the decisions use) holds this: the workers once per batch, the main
    // loop for control commands, IGD commands, reload and expiry; PCP's PEER tries it.
    std::mutex engine_lock;
    // The LAN-side front ends, started by the supervisor below once the LAN is ready.
    std::unique_ptr<InternetGatewayDevice> igd;
    std::unique_ptr<SsdpServer> ssdp;  // gatewayd's own SSDP beside the IGD, on the same LAN address
    std::unique_ptr<PortControlServer> port_control;
    // WANIPConnection's ExternalIPAddress is evented: subscribers learn the new address.
    wan.add_external_address_listener([&igd](Ipv4Address, Ipv4Address) {
        if (igd) igd->announce_external_address();
    });
    // A new external address (the WAN's, or the public one STUN found) is announced
    // to the LAN and answered from then on (RFC 6886 3.2.1).
    wan.add_external_address_listener([&port_control](Ipv4Address, Ipv4Address now) {
        if (port_control) port_control->announce_external_address(now);
    });
    CaptureSlot captures;  // gatewayctl capture; closed before the packet path goes
    PacketDecider decider(engine, decisions, rejects, captures, if_nametoindex(config.lan_interface.c_str()));
    // Source trust on the LAN (issue 14): who may speak for a LAN address.
    LanNeighbours lan_neighbours(if_nametoindex(config.lan_interface.c_str()));
    lan_neighbours.start();
    decider.set_lan_neighbours(&lan_neighbours);
    std::vector<std::unique_ptr<QueueWorker>> workers;
    for (auto& queue : queues)
        workers.push_back(std::make_unique<QueueWorker>(
            *queue, engine_lock,
            [&decider](std::span<QueuedPacket> packets, std::span<QueueVerdict> verdicts, Instant now) {
                decider.decide_batch(packets, verdicts, now);
            }));
    GatewayControl control(engine, mapping_service.get(), nullptr, options.config_path, config, monotonic_now(),
                           &captures, &workers);
    control.set_wan_monitor(&wan);
    control.set_pinholes(&pinholes);
    control.set_lan_neighbours(&lan_neighbours);
    // The IGD's restored leases first, so that a timed forward meets the ports they hold.
    {
        std::lock_guard lock(engine_lock);
        for (const auto& command : commands.take()) apply_engine_command(engine, command);
        control.restore_state(control_state_path(config), monotonic_now(), wall_clock_seconds());
    }
    // The engine's view of a LAN service follows the address the front ends start on.
    // Source trust follows too: the interface's addresses now are the gateway's own.
    auto move_lan_services = [&](Ipv4Address lan) {
        std::vector<Ipv4Address> lan_addresses = interface_ipv4_addresses(config.lan_interface);
        std::lock_guard lock(engine_lock);
        engine.move_lan_services(lan, std::move(lan_addresses));
    };
    FrontEndSupervisor front_ends([&config] { return lan_readiness(config.lan_interface); });
    if (config.upnp.enabled)
        front_ends.add({"UPnP",
                        [&](Ipv4Address lan) {
                            move_lan_services(lan);
                            IgdEnvironment environment = igd_environment(config, setup, lan);
                            environment.external_address = &wan.external_address();
                            igd = std::make_unique<InternetGatewayDevice>(mapping_config, std::move(environment),
                                                                          *mapping_service, pinholes, commands,
                                                                          traffic);
                            igd->start();
                            control.set_igd(igd.get());
                            // ssdp:alive at once: before the workers run, the kernel's queue
                            // holds it until they decide (the gateway's own packets are queued).
                            ssdp = std::make_unique<SsdpServer>(ssdp_server_options(config, setup, lan));
                            ssdp->start();
                            control.set_ssdp(ssdp.get());
                        },
                        [&] {
                            control.set_ssdp(nullptr);
                            ssdp.reset();  // ssdp:byebye while the rules and the workers still run
                            control.set_igd(nullptr);
                            igd.reset();  // pupnp's own byebye is dropped by the rules
                        }});
    if (config.port_control.server_enabled())
        front_ends.add({"NAT-PMP/PCP",
                        [&](Ipv4Address lan) {
                            move_lan_services(lan);
                            PortControlServerOptions server;
                            server.lan_interface = config.lan_interface;
                            server.lan_address = lan;
                            server.lan_networks = setup.firewall.lan_networks;
                            server.external_address = wan.external_address().load();
                            server.natpmp_enabled = config.port_control.natpmp_enabled;
                            port_control = std::make_unique<PortControlServer>(server, *mapping_service);
                            if (config.port_control.pcp_enabled) {
                                PcpConfig pcp;
                                pcp.allow_third_party = config.port_control.pcp_allow_third_party;
                                port_control->set_pcp_handler(
                                    make_pcp_handler(lan, pcp, engine_outbound_mapping(engine, engine_lock),
                                                     [&pinholes](const PinholeRequest& request, const Ipv6Address& client) {
                                                         return pinholes.add(request, client, "PCP");
                                                     }));
                            }
                            port_control->start();
                            control.set_port_control(port_control.get());
                        },
                        [&] {
                            control.set_port_control(nullptr);
                            if (port_control) log_summary(port_control->counts());
                            port_control.reset();
                        }});
    control.set_front_ends(&front_ends);
    // A ready LAN gets its front ends now, before the packet path runs, as it always did.
    front_ends.check(monotonic_now());
    ControlSocket control_socket(options.control_socket);
    log::info("control socket " + control_socket.path());
    for (auto& worker : workers) worker->start();
    wan.start();  // STUN's datagrams need the workers: the gateway's own traffic is queued too
    log::info("ready");
    notifier.ready("translating " + config.lan_interface + " -> " + config.wan_interface + " as " +
                   engine.wan_address().to_string());

    auto reload_on_signal = [&] {
        notifier.reloading("reloading " + options.config_path);
        ReloadOutcome outcome = [&] {
            std::lock_guard lock(engine_lock);
            return control.reload();
        }();
        // READY again whether applied or refused: either way the daemon runs on.
        notifier.ready(outcome.summary);
        if (outcome.applied) return log::info("SIGHUP: " + outcome.summary);
        log::warning("SIGHUP: " + outcome.summary);
        for (const auto& e : outcome.errors) log::warning("  " + e);
    };
    // The WAN interface got another address: the engine and the hairpin rule move to it
    // before anything else (listeners included) hears of it.
    auto follow_wan_address = [&](Ipv4Address address) {
        std::size_t ended = 0;
        {
            std::lock_guard lock(engine_lock);
            ended = engine.change_wan_address(address);
        }
        // The same set as at start (the IPv4 chains are replaced whole): the UPnP shields stay.
        QueueRuleSet rules = queue_rule_set(config, address);
        if (auto error = install_queue_rules(rules); !error.empty())
            log::error("cannot move the hairpin rule to the new WAN address (LAN hosts dialling it are not "
                       "hairpinned): " + error);
        wan.use_address(address, ended);
    };
    auto answer = [&](const std::vector<std::string>& words) {
        std::lock_guard lock(engine_lock);
        return control.answer(words, monotonic_now());
    };

    Instant next_expiry = monotonic_now() + expiry_interval;
    Instant next_watchdog = monotonic_now();
    std::vector<pollfd> fds;
    for (bool running = true; running;) {
        fds = {{signals.fd(), POLLIN, 0}, {commands.fd(), POLLIN, 0}, {wan.stun_results_fd(), POLLIN, 0},
               {wan.address_events_fd(), POLLIN, 0}};  // a negative fd is skipped by poll
        control_socket.add_poll_fds(fds);
        // Wake for the next lease end too: a lease closes its path on time, not on the next tick.
        Instant wake = next_expiry;
        if (auto lease_end = mapping_service ? mapping_service->next_lease_end() : std::nullopt;
            lease_end && *lease_end < wake)
            wake = *lease_end;
        if (auto pinhole_end = pinholes.next_lease_end(); pinhole_end && *pinhole_end < wake)
            wake = *pinhole_end;
        if (auto forward_end = control.next_forward_end(); forward_end && *forward_end < wake) wake = *forward_end;
        if (notifier.watchdog_interval() && next_watchdog < wake) wake = next_watchdog;
        poll(fds.data(), nfds_t(fds.size()), int(std::max<std::int64_t>(0, (wake - monotonic_now()).count())));
        // Control-plane changes as soon as they come: the workers decide the packets
        // meanwhile, so a mapping is open from the first batch after its grant.
        if (fds[1].revents & POLLIN) {
            auto taken = commands.take();
            std::lock_guard lock(engine_lock);
            for (const auto& command : taken) apply_engine_command(engine, command);
        }
        if (fds[3].revents & POLLIN)
            if (auto address = wan.take_address_change()) follow_wan_address(*address);
        if (fds[2].revents & POLLIN) wan.take_stun_result();
        for (int signal; (signal = signals.take()) != 0;) {
            if (signal == SIGHUP) reload_on_signal();
            else running = false;
        }
        // Each answer takes the engine lock: a request waits at most one batch per worker.
        control_socket.serve(fds, answer, monotonic_now());
        // Outside the engine lock: starting pupnp or a socket is no work of the engine's.
        if (monotonic_now() >= next_expiry) front_ends.check(monotonic_now());
        std::lock_guard lock(engine_lock);
        Instant now = monotonic_now();
        // Pinged from the loop itself at half the interval: a wedged loop gets restarted.
        if (auto interval = notifier.watchdog_interval(); interval && now >= next_watchdog) {
            notifier.watchdog_ping();
            next_watchdog = now + std::chrono::duration_cast<Instant>(*interval / 2);
        }
        if (mapping_service && now >= wake) mapping_service->expire_leases();
        pinholes.expire();  // lock-free until a pinhole's lease has ended
        control.expire_timed_forwards(now);
        captures.expire(now);  // flushed and closed when its count or time is reached
        // Closing commands from ended leases (and deletions by gatewayctl) are applied
        // before the next packet.
        for (const auto& command : commands.take()) apply_engine_command(engine, command);
        if (now >= next_expiry) {
            engine.expire_idle(now);
            publish(engine, traffic);
            if (notifier.under_service_manager())
                notifier.status(std::to_string(engine.flows().size()) + " flows, " +
                                std::to_string(engine.mappings().size()) + " NAT mappings" +
                                (mapping_service ? ", " + std::to_string(mapping_service->mapping_count()) +
                                                       " port mappings"
                                                 : std::string()));
            next_expiry = now + expiry_interval;
        }
    }
    notifier.stopping("stopping");
    control.set_ssdp(nullptr);
    ssdp.reset();  // ssdp:byebye before the packet path goes: the workers still decide
    control.set_igd(nullptr);
    igd.reset();   // pupnp's own byebye is dropped by the rules, which are still in place
    if (port_control) {
        log_summary(port_control->counts());
        control.set_port_control(nullptr);
        port_control.reset();
    }
    // Joined before the rules go: queued packets then wait in the kernel and are
    // dropped when the queues are unbound (fail-closed).
    for (auto& worker : workers) worker->stop();
    // No packet is decided any more: the flow table is final.
    FlowHandoverSaved handed = save_flow_snapshot(snapshot_path, engine, monotonic_now(), wall_clock_ms());
    const bool hold = handed.written && handed.established_tcp > 0;
    if (hold) packet_path.hold_connections_on_exit();
    log::info(hold ? "stopping: forwarding off, queue rules removed; the gateway's TCP resets to the WAN held back "
                     "(chain GATEWAYD_HOLD) so that " +
                         std::to_string(handed.established_tcp) +
                         " established TCP connections survive a restart; the next start removes the hold"
                   : std::string("stopping: removing queue rules, forwarding off"));
    log_summary(engine, workers, rejects);
}

}  // namespace gw

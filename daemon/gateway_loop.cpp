// The main loop: one thread that waits on poll for signals, engine commands, the WAN
// address watch, STUN's results and gatewayctl, and wakes on time for lease ends, pinhole
// ends, timed forwards, the systemd watchdog and the 1 s tick. It never holds the engine
// lock across anything but the engine's own work (locked_engine.hpp): a service waiting
// on its disk delays this loop, never a packet batch.
// glibc first: <linux/in.h> then leaves struct in_addr and friends to it (libc-compat.h).
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>

// pupnp's headers before libpcap's: pcap.h defines SOCKET, which UpnpInet.h typedefs.
#include "igd/internet_gateway_device.hpp"
#include "igd/pinhole_service.hpp"
#include "igd/port_mapping_service.hpp"

#include "base/log.hpp"
#include "daemon/control_socket.hpp"
#include "daemon/front_end_supervisor.hpp"
#include "daemon/gateway.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/metrics_endpoint.hpp"
#include "daemon/prometheus_metrics.hpp"
#include "daemon/gateway_expiry.hpp"
#include "daemon/gateway_log.hpp"
#include "daemon/gateway_packet_path.hpp"
#include "daemon/locked_engine.hpp"
#include "daemon/packet_capture.hpp"
#include "daemon/service_notifier.hpp"
#include "daemon/signal_fd.hpp"
#include "daemon/upstream_worker.hpp"
#include "daemon/wan_monitor.hpp"
#include "igd/engine_clock.hpp"
#include "igd/engine_command_queue.hpp"

namespace gw {
namespace {

constexpr Instant expiry_interval = std::chrono::seconds(1);

}  // namespace

void Gateway::run() {
    Instant next_tick = monotonic_now() + expiry_interval;
    Instant next_watchdog = monotonic_now();
    // Without the engine lock: the control takes it only to copy or change (gateway_control.hpp).
    // `gatewayctl reload` tells systemd as SIGHUP does: RELOADING=1, then READY=1.
    auto answer = [this](const std::vector<std::string>& words) {
        const bool reload = words.size() == 1 && words.front() == "reload";
        if (reload) notifier_->reloading("reloading " + options_.config_path + " (gatewayctl)");
        std::string answered = control_->answer(words, monotonic_now());
        if (reload) notifier_->ready("reload by gatewayctl answered");
        return answered;
    };
    std::vector<pollfd> fds;
    for (bool running = true; running;) {
        fds = {{signals_->fd(), POLLIN, 0}, {commands_->fd(), POLLIN, 0}, {wan_->stun_results_fd(), POLLIN, 0},
               {wan_->address_events_fd(), POLLIN, 0}};  // a negative fd is skipped by poll
        control_socket_->add_poll_fds(fds);
        Instant wake = next_wake(next_tick);
        if (notifier_->watchdog_interval() && next_watchdog < wake) wake = next_watchdog;
        poll(fds.data(), nfds_t(fds.size()), int(std::max<std::int64_t>(0, (wake - monotonic_now()).count())));
        // Control-plane changes as soon as they come: the workers decide the packets
        // meanwhile, so a mapping is open from the first batch after its grant.
        if (fds[1].revents & POLLIN) apply_queued_commands(*locked_engine_, *commands_);
        if (fds[3].revents & POLLIN)
            if (auto address = wan_->take_address_change()) follow_wan_address(*address);
        if (fds[2].revents & POLLIN) wan_->take_stun_result();
        for (int signal; (signal = signals_->take()) != 0;) {
            if (signal == SIGHUP) reload_on_signal();
            else running = false;
        }
        // Each request takes the engine lock only for short copies: a 1 M-flow table is
        // copied in parts (control_flow_snapshot.hpp).
        control_socket_->serve(fds, answer, monotonic_now());
        // Outside the engine lock: starting pupnp or a socket is no work of the engine's.
        if (monotonic_now() >= next_tick) front_ends_->check(monotonic_now());
        Instant now = monotonic_now();
        // Pinged from the loop itself at half the interval: a wedged loop gets restarted.
        if (auto interval = notifier_->watchdog_interval(); interval && now >= next_watchdog) {
            notifier_->watchdog_ping();
            next_watchdog = now + std::chrono::duration_cast<Instant>(*interval / 2);
        }
        const bool tick = now >= next_tick;
        expire_and_publish(now, tick);
        if (tick) next_tick = now + expiry_interval;
    }
}

// Wake for the next lease end too: a lease closes its path on time, not on the next tick.
Instant Gateway::next_wake(Instant next_tick) const {
    Instant wake = next_tick;
    if (auto lease_end = mapping_service_ ? mapping_service_->next_lease_end() : std::nullopt;
        lease_end && *lease_end < wake)
        wake = *lease_end;
    if (auto pinhole_end = pinholes_->next_lease_end(); pinhole_end && *pinhole_end < wake)
        wake = *pinhole_end;
    if (auto forward_end = control_->next_forward_end(); forward_end && *forward_end < wake) wake = *forward_end;
    return wake;
}

// Closing commands from ended leases (and deletions by gatewayctl) are applied before the
// next packet; once a second the idle flows go and the figures are published.
void Gateway::expire_and_publish(Instant now, bool tick) {
    EngineTally tally = expire_on_time(
        {*locked_engine_, *commands_, mapping_service_.get(), pinholes_.get(), control_.get(), captures_.get()}, now, tick);
    follow_upstream(tick);
    if (!tick) return;
    publish(tally.counters, *traffic_);
    if (metrics_) publish_metrics();
    if (notifier_->under_service_manager())
        notifier_->status(std::to_string(tally.flows) + " flows, " + std::to_string(tally.nat_mappings) +
                          " NAT mappings" +
                          (mapping_service_ ? ", " + std::to_string(mapping_service_->mapping_count()) + " port mappings"
                                            : std::string()));
}

// The metrics text the endpoint serves until the next tick: the same answers as
// `gatewayctl metrics` (status, rules and mappings, rendered by prometheus_metrics), built here so
// that a scrape never waits on the engine or the services.
void Gateway::publish_metrics() {
    auto status = parse_json(control_->answer({"status"}, monotonic_now()));
    auto rules = parse_json(control_->answer({"rules"}, monotonic_now()));
    auto mappings = parse_json(control_->answer({"mappings"}, monotonic_now()));
    if (!status) return;
    metrics_->publish(prometheus_metrics(*status, rules ? &*rules : nullptr, mappings ? &*mappings : nullptr));
}

void Gateway::reload_on_signal() {
    notifier_->reloading("reloading " + options_.config_path);
    ReloadOutcome outcome = control_->reload();
    // READY again whether applied or refused: either way the daemon runs on.
    notifier_->ready(outcome.summary);
    if (outcome.applied) return log::info("SIGHUP: " + outcome.summary);
    log::warning("SIGHUP: " + outcome.summary);
    for (const auto& e : outcome.errors) log::warning("  " + e);
}

// The WAN interface got another address: the engine and the hairpin rule move to it
// before anything else (listeners included) hears of it.
void Gateway::follow_wan_address(Ipv4Address address) {
    const std::size_t ended =
        locked_engine_->with([&](PacketEngine& engine) { return engine.change_wan_address(address); });
    // The same set as at start (the IPv4 chains are replaced whole): the UPnP shields stay.
    QueueRuleSet rules = queue_rule_set(config_, address);
    if (auto error = install_queue_rules(rules); !error.empty())
        log::error("cannot move the hairpin rule to the new WAN address (LAN hosts dialling it are not "
                   "hairpinned): " + error);
    wan_->use_address(address, ended);
}

}  // namespace gw

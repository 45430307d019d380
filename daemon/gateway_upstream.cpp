// The gateway's upstream worker (wan.upstream_mappings, issue 19): built beside the
// mapping service, fed the WAN monitor's cascade verdict, the service's openings and the
// static forwards with upstream: true, and read back by the loop for the external
// address every front end reports.
#include <memory>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "daemon/gateway.hpp"
#include "daemon/gateway_control.hpp"
#include "daemon/upstream_announcement_listener.hpp"
#include "daemon/upstream_discovery.hpp"
#include "daemon/upstream_worker.hpp"
#include "daemon/wan_monitor.hpp"
#include "igd/engine_clock.hpp"
#include "igd/port_mapping_service.hpp"

namespace gw {
namespace {

// A static forward's range is carried port by port; beyond this many a forward is
// carried in part (an upstream NAT grants mappings one port at a time, and a range of
// thousands would flood it).
constexpr std::size_t most_ports_per_forward = 256;

std::vector<LocalOpening> static_upstream_openings(const FirewallConfig& firewall) {
    std::vector<LocalOpening> openings;
    for (const PortForward& forward : firewall.forwards) {
        if (!forward.upstream || !forward.enabled) continue;
        std::size_t ports = std::size_t(forward.external_ports.last) - forward.external_ports.first + 1;
        if (ports > most_ports_per_forward)
            log::warning("upstream: forward " + forward.name + " spans " + std::to_string(ports) +
                         " ports; only its first " + std::to_string(most_ports_per_forward) + " are carried upstream");
        for (std::size_t i = 0; i < std::min(ports, most_ports_per_forward); ++i)
            openings.push_back({{forward.protocol, Port{std::uint16_t(forward.external_ports.first + i)}}, std::nullopt});
    }
    return openings;
}

// The service's openings: every enabled mapping (a disabled one forwards nothing) and
// every timed forward. One copy under the service's lock each.
std::vector<LocalOpening> service_openings(PortMappingService& service) {
    std::vector<LocalOpening> openings;
    for (const PortMapping& m : service.mappings())
        if (m.enabled) openings.push_back({{m.protocol, m.external}, m.expires});
    for (const TimedForward& t : service.timed_forwards())
        openings.push_back({{t.forward.protocol, t.forward.external}, t.expires});
    return openings;
}

// Discovery by the upstream protocol clients (daemon/upstream_discovery.hpp), from the
// WAN interface and its default gateway as they are at each run.
UpstreamDiscoveryFactory make_upstream_discovery(std::string wan_interface) {
    return [wan_interface](const std::vector<UpstreamProtocol>& order, Ipv4Address wan_address) {
        UpstreamWanSide wan{wan_interface, wan_address, wan_default_gateway(wan_interface)};
        UpstreamDiscovery found = discover_upstream(order, wan);
        UpstreamDiscoveryResult result;
        if (found.client) result.external_address = found.external_address;
        result.client = std::move(found.client);
        for (const UpstreamAttempt& attempt : found.attempts)
            if (attempt.failure)
                result.reasons.emplace_back(attempt.protocol, attempt.failure->reason.empty()
                                                                  ? std::string("no answer")
                                                                  : attempt.failure->reason);
        return result;
    };
}

}  // namespace

void Gateway::start_upstream() {
    UpstreamWorker::Options options;
    options.mode = config_.upstream_mappings;
    options.failure_policy = config_.upstream_failure;
    // The state file lives beside the lease file, which exists only with a front end.
    if (config_.upnp.enabled || config_.port_control.server_enabled()) options.state_file = mapping_config_.lease_file;
    PortMappingService& service = *mapping_service_;
    upstream_ = std::make_unique<UpstreamWorker>(options, make_upstream_discovery(config_.wan_interface),
                                                 [&service] { return service_openings(service); }, monotonic_now);
    upstream_->use_static_openings(static_upstream_openings(setup_.firewall));
    // With the service's lock held: only a flag and a wake.
    upstream_listener_ = service.add_change_listener([this](std::size_t) { upstream_->openings_changed(); });
    wan_->add_status_listener([this](const WanStatus& status) {
        if (upstream_) upstream_->set_cascade(status.cascade() == Cascade::yes, status.wan_address);
    });
    upstream_->set_cascade(wan_->status().cascade() == Cascade::yes, wan_->status().wan_address);
    upstream_->start();
    // An upstream that restarted says so at once (RFC 6887 14.1.3, RFC 6886 3.2.1).
    if (options.mode != UpstreamMappingsMode::off) {
        upstream_announcements_ = std::make_unique<UpstreamAnnouncementListener>(config_.wan_interface, *upstream_);
        upstream_announcements_->start();
    }
}

// After the control plane exists: reloads and forwards enable|disable reach the worker.
void Gateway::follow_upstream_forwards() {
    control_->set_upstream(upstream_.get());
    control_->set_static_forwards_listener([this](const FirewallConfig& firewall) {
        if (upstream_) upstream_->use_static_openings(static_upstream_openings(firewall));
    });
}

// Each tick: the upstream's address becomes the reported external address (announced
// and evented by the WAN monitor's listeners), and timed forwards, which the service's
// listeners do not report, are looked at again.
void Gateway::follow_upstream(bool tick) {
    if (!upstream_) return;
    wan_->use_upstream_address(upstream_->external_address());
    if (tick) upstream_->openings_changed();
}

void Gateway::stop_upstream() {
    if (!upstream_) return;
    upstream_announcements_.reset();  // it calls the worker
    if (control_) control_->set_upstream(nullptr);
    mapping_service_->remove_change_listener(upstream_listener_);
    upstream_.reset();
}

}  // namespace gw

#include "wan_monitor.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control_json.hpp"
#include "host_network.hpp"
#include "base/log.hpp"
#include "base/startup_error.hpp"

namespace gw {

WanMonitor::WanMonitor(const GatewayConfig& config, Ipv4Address wan_address, StunRetransmission retransmission)
    : stun_server_(config.wan_stun),
      retransmission_(retransmission),
      wan_interface_(config.wan_interface),
      lan_networks_(config.firewall.lan_networks),
      status_(wan_status_for(wan_address, config.wan_stun, config.cascade_mappings)),
      external_(status_.external_address()) {
    if (lan_networks_.empty())
        if (auto subnet = interface_ipv4_network(config.lan_interface)) lan_networks_.push_back(*subnet);
    if (!config.wan_address) watch_ = std::make_unique<WanAddressWatch>(config.wan_interface);
    results_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (results_fd_ < 0) throw StartupError(std::string("cannot create an eventfd: ") + std::strerror(errno));
}

WanMonitor::~WanMonitor() {
    if (stun_thread_.joinable()) {
        stun_thread_.request_stop();
        stun_thread_.join();
    }
    retired_.clear();  // stop requested already; joined here, before the eventfd goes
    if (results_fd_ >= 0) close(results_fd_);
}

void WanMonitor::start() {
    if (status_.wan_address == Ipv4Address{}) {
        // Fail-closed until then: the engine forwards nothing (DropReason::no_wan_address).
        log::warning(wan_interface_ + " has no IPv4 address yet (DHCP pending?): forwarding nothing until it gets one");
        return;
    }
    const auto& c = status_.classification;
    log::info("WAN address " + status_.wan_address.to_string() + " is " +
              std::string(address_class_name(c.address_class)) +
              (c.rfc.empty() ? "" : " (" + std::string(c.block) + ", " + std::string(c.rfc) + ")") +
              (watch_ ? "; following " + wan_interface_ + "'s address" : "") +
              (stun_server_ ? "; asking STUN server " + stun_server_->to_string() : "; no STUN (wan.stun: none)"));
    last_warning_ = status_.warning();
    last_verdict_ = std::string(cascade_name(status_.cascade())) + (status_.refusing_mappings() ? "/refusing" : "");
    if (last_warning_) log::warning(*last_warning_);
    warn_about_lan_overlap();
    ask_stun();
}

void WanMonitor::warn_about_lan_overlap() const {
    auto wan_network = interface_ipv4_network(wan_interface_);
    if (!wan_network) return;
    if (auto warning = wan_lan_overlap_warning(wan_interface_, *wan_network, lan_networks_)) log::warning(*warning);
}

std::optional<Ipv4Address> WanMonitor::take_address_change() {
    if (!watch_ || !watch_->take_events()) return std::nullopt;
    auto address = interface_ipv4_address(wan_interface_);
    if (!address) {
        log::warning(wan_interface_ + " has no IPv4 address now; translating to " + status_.wan_address.to_string() +
                     " until it gets one");
        return std::nullopt;
    }
    if (*address == status_.wan_address) return std::nullopt;
    return address;
}

void WanMonitor::use_address(Ipv4Address address, std::size_t flows_ended) {
    const Ipv4Address old_address = status_.wan_address;
    ++counters_.address_changes;
    counters_.flows_ended_by_address_changes += flows_ended;
    status_ = wan_status_after_change(status_, address);
    last_warning_.reset();  // a new address: its verdict is worth a line of its own
    const auto& c = status_.classification;
    log::warning("WAN address changed: " + old_address.to_string() + " -> " + address.to_string() + " (" +
                 std::string(address_class_name(c.address_class)) +
                 (c.rfc.empty() ? "" : ", " + std::string(c.rfc)) + "); new flows leave from it; " +
                 std::to_string(flows_ended) +
                 " flows on the old address ended (their peers know only the old one), port mappings kept");
    warn_about_lan_overlap();
    ask_stun();
    changed();
}

void WanMonitor::ask_stun() {
    if (!stun_server_ || status_.wan_address == Ipv4Address{}) return;
    if (stun_thread_.joinable()) {
        // Not joined here: a query stuck in getaddrinfo would hold the main loop up.
        // It stops at its next 100 ms slice; its answer is ignored (older generation).
        stun_thread_.request_stop();
        retired_.push_back(std::move(stun_thread_));
        if (retired_.size() > 4) retired_.erase(retired_.begin());  // long finished: joins at once
    }
    ++counters_.stun_queries;
    const std::uint64_t generation = ++generation_;
    const Ipv4Address from = status_.wan_address;
    stun_thread_ = std::jthread([this, generation, from, server = *stun_server_](std::stop_token stop) {
        StunQueryOutcome outcome =
            query_stun_server(server, from, retransmission_, [&stop] { return stop.stop_requested(); });
        if (stop.stop_requested()) return;
        {
            std::lock_guard lock(pending_lock_);
            pending_ = Pending{generation, from, std::move(outcome)};
        }
        std::uint64_t one = 1;
        if (write(results_fd_, &one, sizeof one) < 0) { /* the counter is full: a wake-up is pending anyway */ }
    });
}

void WanMonitor::take_stun_result() {
    std::uint64_t ignored = 0;
    if (read(results_fd_, &ignored, sizeof ignored) < 0) { /* EAGAIN: read by an earlier wake-up */ }
    std::optional<Pending> taken;
    {
        std::lock_guard lock(pending_lock_);
        taken.swap(pending_);
    }
    // An answer for an address the WAN no longer has is moot.
    if (!taken || taken->generation != generation_ || taken->asked_from != status_.wan_address) return;
    const auto& outcome = taken->outcome;
    if (outcome.answer) {
        ++counters_.stun_answers;
        status_.stun = StunState::answered;
        status_.stun_mapped = outcome.answer->mapped;
        log::info("STUN " + stun_server_->to_string() + ": the internet sees " + status_.wan_address.to_string() +
                  " as " + to_string(outcome.answer->mapped) + " (" +
                  (outcome.answer->xor_mapped ? "XOR-MAPPED-ADDRESS" : "MAPPED-ADDRESS") + "); another NAT upstream: " +
                  std::string(cascade_name(status_.cascade())));
    } else {
        ++counters_.stun_failures;
        status_.stun = StunState::failed;
        status_.stun_problem = outcome.problem;
        log::warning("STUN " + stun_server_->to_string() + ": " + outcome.problem +
                     "; whether another NAT is upstream is judged from the WAN address alone");
    }
    changed();
}

void WanMonitor::use_upstream_address(std::optional<Ipv4Address> address) {
    if (address == status_.upstream_address) return;
    status_.upstream_address = address;
    changed();
}

void WanMonitor::changed() {
    // Logged when the verdict changes, not for every detail STUN adds to it.
    auto warning = status_.warning();
    const std::string verdict = std::string(cascade_name(status_.cascade())) +
                                (status_.refusing_mappings() ? "/refusing" : "") +
                                (status_.upstream_address ? "/carried" : "");
    if (warning && (!last_warning_ || verdict != last_verdict_)) log::warning(*warning);
    if (!warning && last_warning_)
        log::info("WAN address " + status_.wan_address.to_string() + ": no other NAT upstream any more");
    last_warning_ = warning;
    last_verdict_ = verdict;
    const Ipv4Address previous = external_.load();
    const bool external_changed = external_.store(status_.external_address());
    if (external_changed)
        log::info("external address reported to UPnP clients: " + previous.to_string() + " -> " +
                  status_.external_address().to_string());
    for (const auto& listener : status_listeners_) listener(status_);
    if (external_changed)
        for (const auto& listener : external_listeners_) listener(previous, status_.external_address());
}

std::string WanMonitor::json() const {
    std::string status = status_.json();
    JsonObject counters;
    counters.add("address_changes", counters_.address_changes)
        .add("flows_ended_by_address_changes", counters_.flows_ended_by_address_changes)
        .add("stun_queries", counters_.stun_queries)
        .add("stun_answers", counters_.stun_answers)
        .add("stun_failures", counters_.stun_failures);
    // The status's members, then the counters: one flat object for gatewayctl's "wan." lines.
    status.pop_back();
    return status + ",\"following_interface\":" + (watch_ ? "true" : "false") + ",\"counters\":" + counters.str() + "}";
}

}  // namespace gw

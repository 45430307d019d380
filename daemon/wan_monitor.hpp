// The WAN side's watchman: classifies the WAN address, asks STUN (off the main loop,
// on a thread of its own), follows the WAN interface's address when wan.address is
// auto, logs the one warning a user needs when another NAT is upstream, and tells the
// rest of the daemon (the IGD, NAT-PMP...) through listeners.
//
// Threads: everything here runs on the daemon's main loop, except the STUN query,
// which runs on `stun_thread_` and hands its outcome back through `pending_` (under
// `pending_lock_`) and an eventfd the main loop polls. `external_address()` may be
// read from any thread (pupnp's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/gateway_config.hpp"
#include "igd/external_address.hpp"
#include "stun_client.hpp"
#include "wan_address_watch.hpp"
#include "wan_status.hpp"

namespace gw {

// Called on the main loop thread, without the engine lock, after the change is in
// force (the engine translates to the new WAN address; the IGD reports the new
// external address).
// - status listeners: whenever the WAN status changes (address, STUN answer, verdict);
// - external address listeners: only when the reported external address changes
//   (STUN's public address when known, else the WAN address): what NAT-PMP announces
//   (RFC 6886 section 3.2.1) and UPnP events.
using WanStatusListener = std::function<void(const WanStatus& status)>;
using ExternalAddressListener = std::function<void(Ipv4Address previous, Ipv4Address current)>;

struct WanCounters {
    std::uint64_t address_changes = 0;
    std::uint64_t flows_ended_by_address_changes = 0;
    std::uint64_t stun_queries = 0, stun_answers = 0, stun_failures = 0;
};

class WanMonitor {
public:
    // `wan_address`: what the engine starts with. Opens the address watch when
    // wan.address is auto (throws StartupError if it cannot).
    WanMonitor(const GatewayConfig& config, Ipv4Address wan_address, StunRetransmission retransmission = {});
    ~WanMonitor();  // cancels a STUN query under way (within 100 ms)
    WanMonitor(const WanMonitor&) = delete;
    WanMonitor& operator=(const WanMonitor&) = delete;

    void add_status_listener(WanStatusListener listener) { status_listeners_.push_back(std::move(listener)); }
    void add_external_address_listener(ExternalAddressListener listener) {
        external_listeners_.push_back(std::move(listener));
    }

    // Logs the classification and starts the first STUN query.
    void start();

    // For the main loop's poll: -1 when there is nothing to watch.
    int address_events_fd() const { return watch_ ? watch_->fd() : -1; }
    int stun_results_fd() const { return results_fd_; }

    // The address watch was readable: the interface's new address, if it has changed
    // (the caller switches the engine and the queue rules to it, then calls
    // use_address). A WAN interface left without an address keeps the old one (logged).
    std::optional<Ipv4Address> take_address_change();
    // The engine now translates to `address`: classify it, log, ask STUN again, tell
    // the listeners. `flows_ended`: what the engine dropped (counted).
    void use_address(Ipv4Address address, std::size_t flows_ended);
    // The STUN results fd was readable: takes the query's outcome into the status.
    void take_stun_result();
    // The upstream worker's external address (nullopt: no upstream carries mappings):
    // reported from now on, announced and evented like any change of it.
    void use_upstream_address(std::optional<Ipv4Address> address);

    const WanStatus& status() const { return status_; }
    const WanCounters& counters() const { return counters_; }
    const ExternalAddress& external_address() const { return external_; }
    // The status and the counters, for gatewayctl status's "wan" object.
    std::string json() const;

private:
    void ask_stun();
    void changed();  // logs, publishes the external address, tells the listeners
    void warn_about_lan_overlap() const;  // RFC 4787 REQ-7, at start and at each new address

    std::optional<StunServerConfig> stun_server_;
    StunRetransmission retransmission_;
    std::string wan_interface_;
    std::vector<Ipv4Network> lan_networks_;  // lan.networks, or the LAN interface's subnet
    std::unique_ptr<WanAddressWatch> watch_;  // null: wan.address is fixed
    WanStatus status_;
    WanCounters counters_;
    ExternalAddress external_;
    std::optional<std::string> last_warning_;  // what was logged for the current address
    std::string last_verdict_;                 // its cascade verdict and refusal
    std::vector<WanStatusListener> status_listeners_;
    std::vector<ExternalAddressListener> external_listeners_;

    int results_fd_ = -1;  // eventfd: a STUN outcome is pending
    std::mutex pending_lock_;
    struct Pending {
        std::uint64_t generation;
        Ipv4Address asked_from;
        StunQueryOutcome outcome;
    };
    std::optional<Pending> pending_;  // with pending_lock_ held
    std::uint64_t generation_ = 0;    // main loop only: the query whose answer counts
    std::vector<std::jthread> retired_;  // queries cancelled by a newer address, finishing
    std::jthread stun_thread_;
};

}  // namespace gw

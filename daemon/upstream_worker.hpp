// The upstream worker (wan.upstream_mappings, issue 19): the one thread that speaks to
// the NAT upstream of the WAN. It owns the UpstreamClient and the upstream halves
// (igd/upstream_mappings.hpp), and serialises all upstream I/O:
//   - while another NAT is upstream (the WAN monitor's Cascade::yes, told by
//     set_cascade) and the mode is not off, it runs discovery (the factory the daemon
//     gives: PCP, NAT-PMP, UPnP in the mode's order), again with backoff while none
//     answers;
//   - with a client, each turn it reads the local openings (the mapping service's
//     mappings and timed forwards, and the static forwards with upstream: true), maps
//     the new ones upstream, unmaps the gone ones, renews before half the upstream
//     lifetime, re-claims every half when the upstream's epoch (in an answer, or in its
//     announcement heard by upstream_announcement_listener.hpp) shows a restart, and
//     writes the upstream state file (igd/upstream_lease_file.hpp);
//   - an upstream that stops answering is dropped (halves suspended) and discovery runs
//     again, which re-claims every half with its nonce.
// Front ends wait for the first answer about a fresh grant through UpstreamCarrier.
//
// Threads and locks: the worker's thread does every upstream call with no lock held;
// `mutex_` guards the halves, the status and the flags, never across I/O. The openings
// source takes the mapping service's lock for a copy; openings_changed() is what the
// service's change listener calls (with the service's lock held): it only sets a flag.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/gateway_config.hpp"
#include "igd/refusal_log.hpp"
#include "igd/upstream_announcement.hpp"
#include "igd/upstream_carrier.hpp"
#include "igd/upstream_client.hpp"
#include "igd/upstream_mappings.hpp"

namespace gw {

// What discovery found: a client, or each protocol's reason for not answering.
struct UpstreamDiscoveryResult {
    std::unique_ptr<UpstreamClient> client;
    std::optional<Ipv4Address> external_address;  // what the client already said, if it did
    std::vector<std::pair<UpstreamProtocol, std::string>> reasons;  // when no client
};
// Tries `order` toward the upstream of `wan_address` (blocking, a few seconds each at most).
using UpstreamDiscoveryFactory =
    std::function<UpstreamDiscoveryResult(const std::vector<UpstreamProtocol>& order, Ipv4Address wan_address)>;
// The local openings now (called on the worker's thread, no lock of ours held).
using LocalOpeningsSource = std::function<std::vector<LocalOpening>()>;

// gatewayctl status's "upstream" object: {"mode","failure","state","detail",
// "external_address","mappings_carried","mappings_failing","counters":{...,"failed":{reason:n}}}.
struct UpstreamStatusView;
std::string upstream_status_json(const UpstreamStatusView& view);

// The order wan.upstream_mappings tries; empty for off.
std::vector<UpstreamProtocol> upstream_protocols_for_mode(UpstreamMappingsMode mode);
// "PCP", "NAT-PMP", "UPnP IGD": for status and the log.
std::string upstream_protocol_title(UpstreamProtocol protocol);

struct UpstreamCounters {
    std::uint64_t carried = 0;                // first grants upstream
    std::uint64_t renewals = 0;               // grants that renewed or re-claimed a half
    std::map<std::string, std::uint64_t> failed;  // by reason: no_answer, refused, port_taken, bad_answer
    std::uint64_t refused_locally = 0;        // local grants undone (wan.upstream_failure: refuse)
    std::uint64_t kept_without_upstream = 0;  // local grants kept without their half (keep)
    std::uint64_t reclaims = 0;               // upstream restarts seen (every half re-claimed)
    std::uint64_t discoveries = 0;            // discovery runs
    std::uint64_t announcements = 0;          // restarts the upstream announced (RFC 6887 14.1.3)
    std::map<std::string, std::uint64_t> announcements_ignored;  // by AnnouncementVerdict name
};

struct UpstreamStatusView {
    UpstreamMappingsMode mode = UpstreamMappingsMode::automatic;
    UpstreamFailurePolicy failure_policy = UpstreamFailurePolicy::keep;
    std::string state;   // "off", "not needed", "discovering", "none answered", "using"
    std::string detail;  // "PCP at 192.0.2.1:5351"; none answered: each protocol's reason
    std::optional<Ipv4Address> external_address;
    std::size_t mappings_carried = 0;  // halves held now
    std::size_t mappings_failing = 0;  // halves whose last request failed
    UpstreamCounters counters;
};

class UpstreamWorker : public UpstreamCarrier {
public:
    struct Options {
        UpstreamMappingsMode mode = UpstreamMappingsMode::automatic;
        UpstreamFailurePolicy failure_policy = UpstreamFailurePolicy::keep;
        std::string state_file;  // "" = none (no front end keeps leases)
        std::chrono::seconds first_rediscovery{10};
        std::chrono::seconds longest_rediscovery{300};
    };
    UpstreamWorker(Options options, UpstreamDiscoveryFactory discover, LocalOpeningsSource openings,
                   std::function<Instant()> clock);
    ~UpstreamWorker() override;  // stops the thread (an upstream call under way ends first, bounded)
    UpstreamWorker(const UpstreamWorker&) = delete;
    UpstreamWorker& operator=(const UpstreamWorker&) = delete;

    // Reads the state file and starts the thread.
    void start();
    // The WAN monitor's verdict and the WAN address (main loop). A new WAN address drops
    // the client: the upstream may be another one.
    void set_cascade(bool cascade, Ipv4Address wan_address);
    // The local openings changed (the service's listener, its lock held): a flag and a wake.
    void openings_changed();
    // The upstream restarted: every half is claimed again.
    void upstream_restarted();
    // The server in use announced itself (PCP ANNOUNCE, NAT-PMP's announcement; the
    // listener, upstream_announcement_listener.hpp) with `epoch`: every half is claimed
    // again when the epoch shows a restart (UpstreamMappings::announced).
    void upstream_announced(std::uint32_t epoch);
    // The PCP or NAT-PMP server in use and our WAN address, whose announcements count
    // (igd/upstream_announcement.hpp); nullopt with none in use or a UPnP IGD. Any thread.
    std::optional<AnnouncingUpstream> announcing_upstream() const;
    // A datagram to port 5350 that was not the upstream's announcement: counted by name.
    void announcement_ignored(AnnouncementVerdict verdict);
    // static forwards with upstream: true (start and reload).
    void use_static_openings(std::vector<LocalOpening> openings);

    // The upstream's external address while a client is in use (what UPnP, NAT-PMP and
    // PCP report); any thread.
    std::optional<Ipv4Address> external_address() const;
    UpstreamStatusView status() const;

    // UpstreamCarrier.
    UpstreamOutcome await_upstream(const CarriedKey& key, std::chrono::milliseconds wait) override;
    bool refusing_on_failure() const override { return options_.failure_policy == UpstreamFailurePolicy::refuse; }
    void report_refused_locally(const std::string& what) override;
    void report_kept_without_upstream(const std::string& what) override;

    // One turn of the thread's loop, for tests: discovery if due, then the openings and
    // the requests due. Returns when the next turn is due.
    Instant run_turn();

private:
    void loop(std::stop_token stop);
    void discover_if_due(Instant now);
    void drop_client(const std::string& why, Instant now);
    void carry(Instant now);
    void save_state_file();
    void set_state(std::string state, std::string detail);  // with mutex_ held; logs a change

    Options options_;
    UpstreamDiscoveryFactory discover_;
    LocalOpeningsSource openings_;
    std::function<Instant()> clock_;
    // The upstream failing to carry a mapping is the operator's to act on: a warning.
    RefusalLog failure_log_{RefusalLog::default_limit, RefusalLog::Level::warning};

    // The client is used and replaced only on the worker's thread (or run_turn's caller).
    std::unique_ptr<UpstreamClient> client_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;      // the worker's
    std::condition_variable answered_;  // the waiters' (await_upstream)
    UpstreamMappings carried_;          // with mutex_ held
    bool cascade_ = false;              // with mutex_ held
    Ipv4Address wan_address_;           // with mutex_ held
    bool wan_changed_ = false;          // with mutex_ held
    bool openings_changed_ = true;      // with mutex_ held
    bool restart_announced_ = false;    // with mutex_ held
    std::optional<std::uint32_t> announced_epoch_;  // with mutex_ held: the last announcement's
    bool in_use_ = false;               // with mutex_ held: a client answers
    std::vector<LocalOpening> static_openings_;  // with mutex_ held
    std::optional<Ipv4Address> external_;        // with mutex_ held
    std::optional<Ipv4Address> announcer_;       // with mutex_ held: client_'s announcing_server()
    std::string state_ = "not needed", detail_;  // with mutex_ held
    UpstreamCounters counters_;                  // with mutex_ held
    Instant next_discovery_{0};
    std::chrono::seconds rediscovery_after_{0};
    std::string saved_text_;  // the state file as last written
    std::jthread thread_;     // last: stops first
};

}  // namespace gw

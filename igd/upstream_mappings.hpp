// The upstream halves of the openings gatewayd carries through another NAT (issue 19,
// wan.upstream_mappings): for each local opening, keyed by (protocol, our external
// port), what the upstream granted for it, when to renew it, and what went wrong last.
// Pure: the daemon's upstream worker (daemon/upstream_worker.hpp) owns one, feeds it the
// local openings and the upstream's answers with the time, and does the I/O it asks for.
//
// The worker's cycle:
//   1. reconcile(openings, now): the local openings now (mappings, timed forwards,
//      static forwards with upstream: true). A new one is due at once; one that is gone
//      (deleted, expired, replaced) comes back with its grant, for the worker to unmap.
//   2. due(now): the requests to send now: first claims, renewals before half of the
//      upstream lifetime (RFC 6887 §11.2.1), retries after a failure (with backoff).
//   3. granted()/failed(): each answer. A grant whose epoch shows the upstream lost its
//      state (RFC 6887 §8.5) makes every half due again: reclaim_all().
//
// A half keeps its nonce across renewals, failures and restarts (RFC 7648 §4: the proxy
// owns its upstream mappings, with its own nonce), so a re-claim is the same mapping.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "igd/port_mapping.hpp"
#include "igd/upstream_client.hpp"

namespace gw {

// (protocol, our external port): a local opening, and the upstream half carrying it.
struct CarriedKey {
    Protocol protocol = Protocol::udp;
    Port port;
    auto operator<=>(const CarriedKey&) const = default;
};

// One local opening to carry, as the worker reads it.
struct LocalOpening {
    CarriedKey key;
    std::optional<Instant> expires;  // the local lease's end; nullopt = none
};

struct UpstreamHalf {
    enum class State : std::uint8_t {
        wanted,  // never granted yet (or re-claim after a restart upstream): request due
        held,    // `grant` is in force upstream
        failed,  // the last request failed (`failure`); retried at `due`
    };
    State state = State::wanted;
    std::optional<UpstreamGrant> grant;      // held: in force; else the last one, for its port
    std::optional<PcpNonce> nonce;           // ours, kept for the half's whole life
    std::optional<UpstreamFailure> failure;  // the last failure, until a grant
    std::optional<Instant> local_expires;
    Instant due{0};                          // when the worker next sends its request
    Instant granted_at{0};                   // held: when `grant` came
    std::chrono::seconds retry_after{0};     // failed: the current backoff
    std::uint64_t outcomes = 0;              // answers so far (a waiter sees a new one)
};

// What a front end learns about the upstream half of one opening.
struct UpstreamOutcome {
    enum class Kind : std::uint8_t {
        not_carried,  // no upstream in use: answer exactly as without one
        pending,      // asked, no answer yet (the wait ran out)
        held,
        failed,
    };
    Kind kind = Kind::not_carried;
    Ipv4Address external_address;            // held
    Port external_port;                      // held
    std::chrono::seconds lifetime_left{0};   // held: 0 = no expiry upstream
    std::optional<UpstreamFailure> failure;  // failed
};

class UpstreamMappings {
public:
    // The first retry after a failure, and the longest wait between two.
    static constexpr std::chrono::seconds first_retry{5};
    static constexpr std::chrono::seconds longest_retry{300};
    // Asked for a local opening without expiry (a static forward, a UPnP lease of 0):
    // an upstream lease that a crash of ours does not leave behind forever.
    static constexpr std::chrono::seconds lifetime_without_expiry{3600};
    // The least lifetime asked: a short local lease still costs the upstream few renewals.
    static constexpr std::chrono::seconds least_lifetime{120};

    struct Closing {
        CarriedKey key;
        UpstreamGrant grant;
    };
    // Takes the local openings now. Returns the held halves whose opening is gone, for
    // the worker to unmap (forgotten here already).
    std::vector<Closing> reconcile(const std::vector<LocalOpening>& openings, Instant now);

    struct Request {
        CarriedKey key;
        UpstreamRequest request;
    };
    // The requests due at `now`: claims, renewals, retries. `now` is also what the
    // lifetime asked is measured from.
    std::vector<Request> due(Instant now) const;
    // When the next request is due (the worker sleeps until then); nullopt = none.
    std::optional<Instant> next_due() const;

    // The upstream's answer to the request for `key`. Returns true when the epoch in it
    // says the upstream lost its mappings: every other half was made due again.
    bool granted(const CarriedKey& key, const UpstreamGrant& grant, Instant now);
    void failed(const CarriedKey& key, const UpstreamFailure& failure, Instant now);

    // The upstream restarted (an epoch that went back, a PCP ANNOUNCE) or another upstream
    // is in use: every half is due now, with its nonce and its last port suggested.
    void reclaim_all(Instant now);
    // The upstream's unsolicited announcement with its epoch (PCP ANNOUNCE, NAT-PMP's
    // address announcement): true, and every half due again, when the epoch shows a
    // restart or none is known yet. The rest of a restart's series (RFC 6886 §3.2.1 sends
    // ten, PCP's ANNOUNCE goes with them) agrees with the epoch just seen: nothing again.
    // At most one re-claim an `announced_reclaim_gap`: a forged series from the upstream's
    // address, each with a smaller epoch, must not make the worker ask the upstream for
    // every mapping at the forger's packet rate.
    bool announced(std::uint32_t epoch, Instant now);
    static constexpr Instant announced_reclaim_gap{10'000};
    // The upstream is gone (no_answer, WAN change): grants are forgotten without unmap,
    // and nothing is due until reclaim_all (a new upstream found).
    void suspend_all();
    // The upstream halves read from the state file at start: each is re-claimed with its
    // nonce and port once its local opening is seen (reconcile).
    void restore(const std::vector<std::pair<CarriedKey, UpstreamGrant>>& saved);

    const UpstreamHalf* find(const CarriedKey& key) const;
    // What a front end is told about `key` at `now`.
    UpstreamOutcome outcome(const CarriedKey& key, Instant now) const;
    const std::map<CarriedKey, UpstreamHalf>& halves() const { return halves_; }
    std::size_t held_count() const;
    // The held halves, for the state file.
    std::vector<std::pair<CarriedKey, UpstreamGrant>> held_grants() const;

private:
    UpstreamRequest request_for(const CarriedKey& key, const UpstreamHalf& half, Instant now) const;
    bool epoch_went_back(std::uint32_t epoch, Instant now);

    std::map<CarriedKey, UpstreamHalf> halves_;
    std::map<CarriedKey, UpstreamGrant> restored_;  // from the state file, until their opening is seen
    bool suspended_ = false;
    std::optional<std::pair<std::uint32_t, Instant>> last_epoch_;  // the upstream's, and when it came
    std::optional<Instant> last_announced_reclaim_;                 // when an announcement last re-claimed
};

}  // namespace gw

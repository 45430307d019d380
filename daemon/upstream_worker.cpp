#include "daemon/upstream_worker.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "daemon/control_json.hpp"
#include "igd/lease_file.hpp"
#include "igd/upstream_lease_file.hpp"

namespace gw {
namespace {

// The longest sleep between two turns: a renewal far ahead is still checked now and then.
constexpr Instant longest_sleep = std::chrono::seconds(30);

std::string failure_kind_name(UpstreamFailure::Kind kind) {
    switch (kind) {
        case UpstreamFailure::Kind::no_answer: return "no_answer";
        case UpstreamFailure::Kind::refused: return "refused";
        case UpstreamFailure::Kind::port_taken: return "port_taken";
        case UpstreamFailure::Kind::bad_answer: return "bad_answer";
    }
    return "bad_answer";
}

std::string key_text(const CarriedKey& key) {
    return std::string(protocol_name(key.protocol)) + " " + std::to_string(key.port.value);
}

}  // namespace

std::vector<UpstreamProtocol> upstream_protocols_for_mode(UpstreamMappingsMode mode) {
    switch (mode) {
        case UpstreamMappingsMode::automatic:
            // PCP first: RFC 6887 §9 says a PCP client tries PCP before NAT-PMP; UPnP last,
            // since an SSDP search takes the longest and IGDs often refuse leases.
            return {UpstreamProtocol::pcp, UpstreamProtocol::natpmp, UpstreamProtocol::upnp};
        case UpstreamMappingsMode::pcp: return {UpstreamProtocol::pcp};
        case UpstreamMappingsMode::natpmp: return {UpstreamProtocol::natpmp};
        case UpstreamMappingsMode::upnp: return {UpstreamProtocol::upnp};
        case UpstreamMappingsMode::off: return {};
    }
    return {};
}

std::string upstream_status_json(const UpstreamStatusView& view) {
    static constexpr const char* modes[] = {"auto", "pcp", "natpmp", "upnp", "off"};
    JsonObject failed;
    for (const auto& [reason, count] : view.counters.failed) failed.add(reason, count);
    JsonObject ignored;
    for (const auto& [verdict, count] : view.counters.announcements_ignored) ignored.add(verdict, count);
    JsonObject counters;
    counters.add("carried", view.counters.carried)
        .add("renewals", view.counters.renewals)
        .add("refused_locally", view.counters.refused_locally)
        .add("kept_without_upstream", view.counters.kept_without_upstream)
        .add("reclaims", view.counters.reclaims)
        .add("discoveries", view.counters.discoveries)
        .add("announcements", view.counters.announcements)
        .add_raw("announcements_ignored", ignored.str())
        .add_raw("failed", failed.str());
    JsonObject o;
    o.add("mode", modes[std::size_t(view.mode)])
        .add("failure", view.failure_policy == UpstreamFailurePolicy::refuse ? "refuse" : "keep")
        .add("state", view.state)
        .add("detail", view.detail);
    if (view.external_address) o.add("external_address", view.external_address->to_string());
    else o.add_null("external_address");
    o.add("mappings_carried", std::uint64_t(view.mappings_carried))
        .add("mappings_failing", std::uint64_t(view.mappings_failing))
        .add_raw("counters", counters.str());
    return o.str();
}

std::string upstream_protocol_title(UpstreamProtocol protocol) {
    switch (protocol) {
        case UpstreamProtocol::pcp: return "PCP";
        case UpstreamProtocol::natpmp: return "NAT-PMP";
        case UpstreamProtocol::upnp: return "UPnP IGD";
    }
    return "?";
}

UpstreamWorker::UpstreamWorker(Options options, UpstreamDiscoveryFactory discover, LocalOpeningsSource openings,
                               std::function<Instant()> clock)
    : options_(std::move(options)), discover_(std::move(discover)), openings_(std::move(openings)),
      clock_(std::move(clock)) {
    state_ = options_.mode == UpstreamMappingsMode::off ? "off" : "not needed";
}

UpstreamWorker::~UpstreamWorker() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    {
        std::lock_guard lock(mutex_);
        wake_.notify_all();
    }
    thread_.join();
}

void UpstreamWorker::start() {
    if (!options_.state_file.empty()) {
        auto text = read_lease_file(upstream_file_path(options_.state_file));
        if (!text) {
            log::warning("upstream: " + text.error().message + "; the upstream halves are claimed afresh");
        } else if (!text->empty()) {
            auto read = parse_upstream_halves(*text, upstream_file_path(options_.state_file));
            for (const auto& error : read.errors) log::warning("upstream: " + error + " (line skipped)");
            std::lock_guard lock(mutex_);
            carried_.restore(read.halves);
            saved_text_ = *text;
            if (!read.halves.empty())
                log::info("upstream: " + std::to_string(read.halves.size()) +
                          " upstream halves from before the restart, to claim again with their nonces");
        }
    }
    if (options_.mode == UpstreamMappingsMode::off) return;
    thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void UpstreamWorker::loop(std::stop_token stop) {
    while (!stop.stop_requested()) {
        Instant next = run_turn();
        std::unique_lock lock(mutex_);
        auto sleep = std::clamp(next - clock_(), Instant{0}, longest_sleep);
        wake_.wait_for(lock, sleep, [&] {
            return stop.stop_requested() || openings_changed_ || wan_changed_ || restart_announced_ ||
                   announced_epoch_;
        });
    }
}

void UpstreamWorker::set_cascade(bool cascade, Ipv4Address wan_address) {
    std::lock_guard lock(mutex_);
    if (cascade == cascade_ && wan_address == wan_address_) return;
    if (wan_address != wan_address_ && wan_address_ != Ipv4Address()) wan_changed_ = true;
    cascade_ = cascade;
    wan_address_ = wan_address;
    next_discovery_ = Instant{0};
    wake_.notify_all();
}

void UpstreamWorker::openings_changed() {
    std::lock_guard lock(mutex_);
    openings_changed_ = true;
    wake_.notify_all();
}

void UpstreamWorker::upstream_restarted() {
    std::lock_guard lock(mutex_);
    restart_announced_ = true;
    wake_.notify_all();
}

void UpstreamWorker::upstream_announced(std::uint32_t epoch) {
    std::lock_guard lock(mutex_);
    announced_epoch_ = epoch;
    ++counters_.announcements;
    wake_.notify_all();
}

std::optional<AnnouncingUpstream> UpstreamWorker::announcing_upstream() const {
    std::lock_guard lock(mutex_);
    if (!announcer_) return std::nullopt;
    return AnnouncingUpstream{*announcer_, wan_address_};
}

void UpstreamWorker::announcement_ignored(AnnouncementVerdict verdict) {
    std::lock_guard lock(mutex_);
    ++counters_.announcements_ignored[std::string(announcement_verdict_name(verdict))];
}

void UpstreamWorker::use_static_openings(std::vector<LocalOpening> openings) {
    std::lock_guard lock(mutex_);
    static_openings_ = std::move(openings);
    openings_changed_ = true;
    wake_.notify_all();
}

std::optional<Ipv4Address> UpstreamWorker::external_address() const {
    std::lock_guard lock(mutex_);
    return in_use_ ? external_ : std::nullopt;
}

UpstreamStatusView UpstreamWorker::status() const {
    std::lock_guard lock(mutex_);
    UpstreamStatusView view;
    view.mode = options_.mode;
    view.failure_policy = options_.failure_policy;
    view.state = state_;
    view.detail = detail_;
    if (in_use_) view.external_address = external_;
    view.mappings_carried = in_use_ ? carried_.held_count() : 0;
    for (const auto& [key, half] : carried_.halves())
        if (half.state == UpstreamHalf::State::failed) ++view.mappings_failing;
    view.counters = counters_;
    return view;
}

void UpstreamWorker::set_state(std::string state, std::string detail) {
    if (state == state_ && detail == detail_) return;
    // A state change is rare by nature (discovery backs off): each is logged.
    std::string line = "upstream mappings: " + state + (detail.empty() ? std::string() : " (" + detail + ")");
    if (state == "none answered" || (state == "discovering" && !detail.empty())) log::warning(line);
    else log::info(line);
    state_ = std::move(state);
    detail_ = std::move(detail);
}

Instant UpstreamWorker::run_turn() {
    Instant now = clock_();
    discover_if_due(now);
    if (client_) carry(now);
    std::lock_guard lock(mutex_);
    // With no upstream in use there is nothing to carry or claim again: the openings are
    // read whole once one is found. Left set, these would wake the loop at once, forever.
    if (!client_) {
        openings_changed_ = restart_announced_ = false;
        announced_epoch_.reset();
    }
    Instant next = now + longest_sleep;
    if (client_) {
        if (auto due = carried_.next_due()) next = std::min(next, *due);
    } else if (cascade_ && options_.mode != UpstreamMappingsMode::off) {
        next = std::min(next, next_discovery_);
    }
    return next;
}

void UpstreamWorker::discover_if_due(Instant now) {
    bool wanted, wan_changed;
    Ipv4Address wan;
    {
        std::lock_guard lock(mutex_);
        wanted = cascade_ && options_.mode != UpstreamMappingsMode::off;
        wan = wan_address_;
        wan_changed = std::exchange(wan_changed_, false);
    }
    if (client_ && wan_changed) drop_client("the WAN address changed; looking for the upstream again", now);
    if (!wanted) {
        if (client_) drop_client("", now);
        std::lock_guard lock(mutex_);
        set_state(options_.mode == UpstreamMappingsMode::off ? "off" : "not needed", "");
        return;
    }
    if (client_ || now < next_discovery_) return;
    {
        std::lock_guard lock(mutex_);
        set_state("discovering", "");
        ++counters_.discoveries;
    }
    UpstreamDiscoveryResult found = discover_(upstream_protocols_for_mode(options_.mode), wan);
    if (!found.client) {
        rediscovery_after_ = rediscovery_after_.count() == 0 ? options_.first_rediscovery
                                                             : std::min(options_.longest_rediscovery, rediscovery_after_ * 2);
        next_discovery_ = now + rediscovery_after_;
        std::string reasons;
        for (const auto& [protocol, reason] : found.reasons)
            reasons += (reasons.empty() ? "" : "; ") + upstream_protocol_title(protocol) + ": " + reason;
        std::lock_guard lock(mutex_);
        set_state("none answered", reasons + (reasons.empty() ? "" : "; ") + "next try in " +
                                       std::to_string(rediscovery_after_.count()) + " s");
        return;
    }
    // No lock: I/O, unless discovery already asked.
    auto address = found.external_address ? Expected<Ipv4Address, UpstreamFailure>(*found.external_address)
                                          : found.client->external_address();
    std::string where = upstream_protocol_title(found.client->protocol()) + " at " + found.client->describe();
    client_ = std::move(found.client);
    rediscovery_after_ = std::chrono::seconds{0};
    std::lock_guard lock(mutex_);
    in_use_ = true;
    announcer_ = client_->announcing_server();
    external_ = address ? std::optional(*address) : std::nullopt;
    if (!address) log::warning("upstream: " + where + " does not tell its external address: " + address.error().reason);
    // A new upstream (or the first): every half is claimed there, with its nonce.
    carried_.reclaim_all(now);
    set_state("using", where);
    answered_.notify_all();
}

void UpstreamWorker::drop_client(const std::string& why, Instant now) {
    client_.reset();
    next_discovery_ = why.empty() ? Instant{0} : now;
    std::lock_guard lock(mutex_);
    in_use_ = false;
    external_.reset();
    announcer_.reset();
    carried_.suspend_all();
    if (!why.empty()) set_state("discovering", why);
    answered_.notify_all();
}

void UpstreamWorker::carry(Instant now) {
    bool restart;
    std::optional<std::uint32_t> announced;
    std::vector<LocalOpening> openings;
    {
        std::lock_guard lock(mutex_);
        restart = std::exchange(restart_announced_, false);
        announced = std::exchange(announced_epoch_, std::nullopt);
        openings_changed_ = false;
        openings = static_openings_;
    }
    auto local = openings_();  // takes the mapping service's lock for a copy: none of ours held
    openings.insert(openings.end(), local.begin(), local.end());
    std::vector<UpstreamMappings::Closing> closing;
    std::vector<UpstreamMappings::Request> requests;
    {
        std::lock_guard lock(mutex_);
        if (restart) {
            ++counters_.reclaims;
            carried_.reclaim_all(now);
            log::warning("upstream: the upstream announced a restart; claiming every upstream mapping again");
        } else if (announced && carried_.announced(*announced, now)) {
            ++counters_.reclaims;
            log::warning("upstream: the upstream announced itself with a new epoch (it restarted); claiming every "
                         "upstream mapping again");
        }
        closing = carried_.reconcile(openings, now);
        requests = carried_.due(now);
    }
    for (const auto& c : closing) {
        if (auto failure = client_->unmap(c.key.protocol, c.key.port, c.grant))
            failure_log_.write("upstream: cannot delete the upstream mapping of " + key_text(c.key) + ": " +
                                   failure->reason, now);
    }
    for (const auto& r : requests) {
        auto answer = client_->map(r.request);  // no lock: I/O
        std::optional<UpstreamGrant> orphan;
        std::string gone;
        {
            std::lock_guard lock(mutex_);
            const UpstreamHalf* half = carried_.find(r.key);
            bool renewal = half && half->outcomes > 0 && half->grant;
            if (answer) {
                if (carried_.granted(r.key, *answer, now)) {
                    ++counters_.reclaims;
                    log::warning("upstream: its epoch went back (it restarted): claiming every upstream mapping again");
                }
                if (!carried_.find(r.key)) orphan = *answer;  // the opening went while we asked
                renewal ? ++counters_.renewals : ++counters_.carried;
                if (!external_ || *external_ != answer->external_address) {
                    log::info("upstream: external address " + answer->external_address.to_string());
                    external_ = answer->external_address;
                }
            } else {
                carried_.failed(r.key, answer.error(), now);
                ++counters_.failed[failure_kind_name(answer.error().kind)];
                failure_log_.write("upstream: " + key_text(r.key) + " not carried: " +
                                       failure_kind_name(answer.error().kind) + " " + answer.error().reason,
                                   now);
                if (answer.error().kind == UpstreamFailure::Kind::no_answer)
                    gone = "the upstream stopped answering (" + answer.error().reason + ")";
            }
            answered_.notify_all();
        }
        if (orphan) client_->unmap(r.key.protocol, r.key.port, *orphan);
        if (!gone.empty()) {
            drop_client(gone, now);
            break;
        }
    }
    save_state_file();
}

void UpstreamWorker::save_state_file() {
    if (options_.state_file.empty()) return;
    std::string text;
    {
        std::lock_guard lock(mutex_);
        text = serialize_upstream_halves(carried_.held_grants());
    }
    if (text == saved_text_) return;
    if (auto written = write_lease_file_atomically(upstream_file_path(options_.state_file), text); !written) {
        failure_log_.write("upstream: " + written.error().message, clock_());
        return;
    }
    saved_text_ = std::move(text);
}

UpstreamOutcome UpstreamWorker::await_upstream(const CarriedKey& key, std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    answered_.wait_for(lock, wait, [&] {
        if (!in_use_) return true;
        const UpstreamHalf* half = carried_.find(key);
        return half && half->state != UpstreamHalf::State::wanted;
    });
    const UpstreamHalf* half = carried_.find(key);
    if (!in_use_) {
        // Dropped while we waited because it stopped answering: that is this grant's failure.
        if (half && half->state == UpstreamHalf::State::failed) return carried_.outcome(key, clock_());
        return {};
    }
    if (!half) {
        UpstreamOutcome pending;
        pending.kind = UpstreamOutcome::Kind::pending;
        return pending;
    }
    return carried_.outcome(key, clock_());
}

void UpstreamWorker::report_refused_locally(const std::string& what) {
    {
        std::lock_guard lock(mutex_);
        ++counters_.refused_locally;
    }
    failure_log_.write("upstream: " + what + "; the local mapping is undone (wan.upstream_failure: refuse)", clock_());
}

void UpstreamWorker::report_kept_without_upstream(const std::string& what) {
    {
        std::lock_guard lock(mutex_);
        ++counters_.kept_without_upstream;
    }
    failure_log_.write("upstream: " + what + "; the local mapping is kept, reachable only behind the upstream NAT "
                       "(wan.upstream_failure: keep)",
                       clock_());
}

}  // namespace gw

#include "igd/upstream_mappings.hpp"

#include <algorithm>
#include <limits>

namespace gw {
namespace {

constexpr Instant never{std::numeric_limits<Instant::rep>::max()};

std::chrono::seconds seconds_between(Instant from, Instant to) {
    return std::chrono::duration_cast<std::chrono::seconds>(to - from);
}

}  // namespace

std::vector<UpstreamMappings::Closing> UpstreamMappings::reconcile(const std::vector<LocalOpening>& openings,
                                                                   Instant now) {
    std::map<CarriedKey, const LocalOpening*> wanted;
    for (const auto& opening : openings) wanted[opening.key] = &opening;
    std::vector<Closing> closing;
    for (auto it = halves_.begin(); it != halves_.end();) {
        if (wanted.contains(it->first)) {
            ++it;
            continue;
        }
        // Deleted, expired or replaced locally: the upstream half goes too.
        if (it->second.state == UpstreamHalf::State::held && it->second.grant && !suspended_)
            closing.push_back({it->first, *it->second.grant});
        it = halves_.erase(it);
    }
    for (const auto& [key, opening] : wanted) {
        auto [it, fresh] = halves_.try_emplace(key);
        it->second.local_expires = opening->expires;
        if (!fresh) continue;
        it->second.due = now;
        // Restored from the state file: the same nonce and port as before the restart.
        if (auto saved = restored_.find(key); saved != restored_.end()) {
            it->second.grant = saved->second;
            it->second.nonce = saved->second.nonce;
            restored_.erase(saved);
        }
    }
    return closing;
}

UpstreamRequest UpstreamMappings::request_for(const CarriedKey& key, const UpstreamHalf& half, Instant now) const {
    UpstreamRequest request;
    request.protocol = key.protocol;
    request.internal_port = key.port;
    // The same port where possible; a re-claim asks for the port it had.
    request.suggested_external = half.grant ? half.grant->external_port : key.port;
    request.nonce = half.nonce;
    auto lifetime = lifetime_without_expiry;
    if (half.local_expires) lifetime = std::min(lifetime, std::max(least_lifetime, seconds_between(now, *half.local_expires)));
    request.lifetime = lifetime;
    return request;
}

std::vector<UpstreamMappings::Request> UpstreamMappings::due(Instant now) const {
    std::vector<Request> requests;
    if (suspended_) return requests;
    for (const auto& [key, half] : halves_)
        if (half.due <= now) requests.push_back({key, request_for(key, half, now)});
    return requests;
}

std::optional<Instant> UpstreamMappings::next_due() const {
    if (suspended_) return std::nullopt;
    std::optional<Instant> next;
    for (const auto& [key, half] : halves_)
        if (half.due != never && (!next || half.due < *next)) next = half.due;
    return next;
}

// RFC 6887 §8.5 (and RFC 6886 §3.6): the server's epoch must advance with time; one
// that went back, or advanced clearly less than the time passed here, means it lost
// its mappings. One second of slack each way, and 1/16 for clock drift.
bool UpstreamMappings::epoch_went_back(std::uint32_t epoch, Instant now) {
    auto previous = std::exchange(last_epoch_, std::pair{epoch, now});
    if (!previous) return false;
    auto [previous_epoch, previous_at] = *previous;
    if (epoch + 1 < previous_epoch) return true;
    std::int64_t client_delta = seconds_between(previous_at, now).count();
    std::int64_t server_delta = std::int64_t(epoch) - std::int64_t(previous_epoch);
    return client_delta + 2 < server_delta - server_delta / 16 || server_delta + 2 < client_delta - client_delta / 16;
}

bool UpstreamMappings::granted(const CarriedKey& key, const UpstreamGrant& grant, Instant now) {
    bool lost = grant.epoch_seconds && epoch_went_back(*grant.epoch_seconds, now);
    auto it = halves_.find(key);
    if (it == halves_.end()) return lost;  // the opening went while we asked: the worker unmaps
    if (lost) reclaim_all(now);
    UpstreamHalf& half = it->second;
    half.state = UpstreamHalf::State::held;
    half.grant = grant;
    if (grant.nonce) half.nonce = grant.nonce;
    half.failure.reset();
    half.granted_at = now;
    half.retry_after = std::chrono::seconds{0};
    // Renew before half of the lifetime has gone (RFC 6887 §11.2.1); 0 = no expiry.
    half.due = grant.lifetime.count() > 0 ? now + grant.lifetime / 2 : never;
    ++half.outcomes;
    return lost;
}

void UpstreamMappings::failed(const CarriedKey& key, const UpstreamFailure& failure, Instant now) {
    auto it = halves_.find(key);
    if (it == halves_.end()) return;
    UpstreamHalf& half = it->second;
    // A failed renewal leaves the grant running until its lifetime ends: keep it held
    // then, and retry. A first claim that failed is failed.
    bool still_running = half.state == UpstreamHalf::State::held && half.grant &&
                         (half.grant->lifetime.count() == 0 || half.granted_at + half.grant->lifetime > now);
    if (!still_running) half.state = UpstreamHalf::State::failed;
    half.failure = failure;
    half.retry_after = half.retry_after.count() == 0 ? first_retry : std::min(longest_retry, half.retry_after * 2);
    half.due = now + half.retry_after;
    ++half.outcomes;
}

void UpstreamMappings::reclaim_all(Instant now) {
    suspended_ = false;
    for (auto& [key, half] : halves_) {
        if (half.state == UpstreamHalf::State::held) half.state = UpstreamHalf::State::wanted;
        half.retry_after = std::chrono::seconds{0};
        half.due = now;
    }
}

bool UpstreamMappings::announced(std::uint32_t epoch, Instant now) {
    bool known = last_epoch_.has_value();
    bool lost = epoch_went_back(epoch, now) || !known;
    if (!lost) return false;
    if (last_announced_reclaim_ && now - *last_announced_reclaim_ < announced_reclaim_gap) return false;
    last_announced_reclaim_ = now;
    reclaim_all(now);
    return true;
}

void UpstreamMappings::suspend_all() {
    suspended_ = true;
    last_epoch_.reset();
    for (auto& [key, half] : halves_)
        if (half.state == UpstreamHalf::State::held) half.state = UpstreamHalf::State::wanted;
}

void UpstreamMappings::restore(const std::vector<std::pair<CarriedKey, UpstreamGrant>>& saved) {
    for (const auto& [key, grant] : saved) restored_[key] = grant;
}

const UpstreamHalf* UpstreamMappings::find(const CarriedKey& key) const {
    auto it = halves_.find(key);
    return it == halves_.end() ? nullptr : &it->second;
}

UpstreamOutcome UpstreamMappings::outcome(const CarriedKey& key, Instant now) const {
    UpstreamOutcome out;
    const UpstreamHalf* half = find(key);
    if (!half) return out;
    switch (half->state) {
        case UpstreamHalf::State::wanted: out.kind = UpstreamOutcome::Kind::pending; break;
        case UpstreamHalf::State::failed:
            out.kind = UpstreamOutcome::Kind::failed;
            out.failure = half->failure;
            break;
        case UpstreamHalf::State::held:
            out.kind = UpstreamOutcome::Kind::held;
            out.external_address = half->grant->external_address;
            out.external_port = half->grant->external_port;
            if (half->grant->lifetime.count() > 0)
                out.lifetime_left = std::max(std::chrono::seconds{0},
                                             seconds_between(now, half->granted_at + half->grant->lifetime));
            break;
    }
    return out;
}

std::size_t UpstreamMappings::held_count() const {
    return std::size_t(std::count_if(halves_.begin(), halves_.end(), [](const auto& entry) {
        return entry.second.state == UpstreamHalf::State::held;
    }));
}

std::vector<std::pair<CarriedKey, UpstreamGrant>> UpstreamMappings::held_grants() const {
    std::vector<std::pair<CarriedKey, UpstreamGrant>> out;
    for (const auto& [key, half] : halves_)
        if (half.grant && half.state != UpstreamHalf::State::failed) out.emplace_back(key, *half.grant);
    return out;
}

}  // namespace gw

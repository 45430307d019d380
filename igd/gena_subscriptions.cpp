#include "gena_subscriptions.hpp"

#include <charconv>

namespace gw {

std::uint32_t GenaSubscriptions::clamped_timeout(std::optional<std::string_view> asked) const {
    constexpr std::string_view prefix = "Second-";
    std::uint32_t seconds = limits_.max_timeout_seconds;
    if (asked && asked->size() > prefix.size() && equals_ignoring_case(asked->substr(0, prefix.size()), prefix)) {
        std::string_view digits = asked->substr(prefix.size());
        std::uint64_t value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec == std::errc() && end == digits.data() + digits.size() && value > 0)
            seconds = value < limits_.max_timeout_seconds ? std::uint32_t(value) : limits_.max_timeout_seconds;
    }
    return seconds;
}

void GenaSubscriptions::expire(Instant now) {
    for (auto it = subscriptions_.begin(); it != subscriptions_.end();)
        it = it->second.ends <= now ? subscriptions_.erase(it) : std::next(it);
}

std::size_t GenaSubscriptions::held_by(const ClientAddress& client) const {
    std::size_t n = 0;
    for (const auto& [sid, s] : subscriptions_)
        if (s.holder == client) ++n;
    if (auto it = pending_.find(client); it != pending_.end()) n += it->second;
    return n;
}

std::optional<HttpRefusal> GenaSubscriptions::admit(HttpRequest& request, const ClientAddress& client, Instant now) {
    bool subscribe = request.method == "SUBSCRIBE";
    if (!subscribe && request.method != "UNSUBSCRIBE") return std::nullopt;
    expire(now);
    if (auto sid = request.header("sid")) {
        auto it = subscriptions_.find(std::string(*sid));
        if (it == subscriptions_.end() || it->second.holder != client) return HttpRefusal::unknown_subscription;
    } else {
        if (held_by(client) >= limits_.per_client) return HttpRefusal::subscriptions_per_client;
        if (held() >= limits_.total) return HttpRefusal::subscriptions_total;
        ++pending_[client];
        ++pending_total_;
    }
    if (subscribe) request.set_header("TIMEOUT", "Second-" + std::to_string(clamped_timeout(request.header("timeout"))));
    return std::nullopt;
}

void GenaSubscriptions::answered(const HttpRequest& request, const ClientAddress& client, int status,
                                 std::string_view sid, std::string_view timeout, Instant now) {
    auto asked_sid = request.header("sid");
    if (!asked_sid) {  // a new subscription: no longer pending, held if granted
        if (auto it = pending_.find(client); it != pending_.end()) {
            if (--it->second == 0) pending_.erase(it);
            --pending_total_;
        }
        if (status == 200 && !sid.empty())
            subscriptions_[std::string(sid)] = {client, now + std::chrono::seconds(clamped_timeout(timeout))};
        // No answer read (the client reset the connection once the request was on its way
        // to pupnp): pupnp may well have granted it, so it counts against the caps for the
        // longest time it could live. Otherwise a reset after each SUBSCRIBE slips past them.
        if (status == 0)
            subscriptions_["unanswered-" + std::to_string(++unanswered_)] = {
                client, now + std::chrono::seconds(clamped_timeout(request.header("timeout")))};
        return;
    }
    auto it = subscriptions_.find(std::string(*asked_sid));
    if (it == subscriptions_.end()) return;
    if (request.method == "UNSUBSCRIBE" || (status != 200 && status != 0))
        subscriptions_.erase(it);  // gone, or pupnp no longer knows it (412)
    else if (status == 200)
        it->second.ends = now + std::chrono::seconds(clamped_timeout(timeout));
}

}  // namespace gw

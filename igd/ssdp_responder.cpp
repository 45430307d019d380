#include "igd/ssdp_responder.hpp"

#include <algorithm>
#include <chrono>

namespace gw {
namespace {

constexpr std::string_view refusal_names[] = {
#define GW_SSDP_NAME(name) #name,
    GW_SSDP_REFUSALS(GW_SSDP_NAME)
#undef GW_SSDP_NAME
};
static_assert(std::size(refusal_names) == ssdp_refusal_count);

// A bucket idle this long has refilled to its burst: forgetting it changes nothing.
constexpr Instant idle_source = std::chrono::seconds(30);

bool later(const SsdpPendingAnswer& a, const SsdpPendingAnswer& b) { return a.due > b.due; }

}  // namespace

std::string_view ssdp_refusal_name(SsdpRefusal refusal) { return refusal_names[std::size_t(refusal)]; }

SsdpResponder::SsdpResponder(SsdpResponderLimits limits, std::vector<Ipv4Network> lan_networks,
                             std::vector<Ipv4Address> gateway_addresses)
    : limits_(limits),
      lan_networks_(std::move(lan_networks)),
      gateway_addresses_(std::move(gateway_addresses)),
      total_(limits.total) {
    pending_.reserve(limits_.max_pending);
}

SsdpRefusal SsdpResponder::count(SsdpRefusal refusal) {
    ++counts_.refused[std::size_t(refusal)];
    return refusal;
}

std::optional<SsdpRefusal> SsdpResponder::judge_source(Endpoint source, bool on_lan) const {
    if (!on_lan) return SsdpRefusal::wrong_interface;
    if (std::ranges::find(gateway_addresses_, source.address) != gateway_addresses_.end())
        return SsdpRefusal::gateway_address;
    for (const Ipv4Network& network : lan_networks_) {
        if (!network.contains(source.address)) continue;
        std::uint32_t host = source.address.host_order() & ~network.mask();
        // A /31 or /32 has no network or broadcast address (RFC 3021).
        bool edge = network.prefix_length < 31 && (host == 0 || host == ~network.mask());
        if (edge || source.port.value == 0) return SsdpRefusal::network_or_broadcast;
        return std::nullopt;
    }
    return SsdpRefusal::outside_lan;
}

std::optional<SsdpRefusal> SsdpResponder::admit(Ipv4Address source, Instant now) {
    auto found = sources_.find(source.host_order());
    if (found == sources_.end()) {
        if (sources_.size() >= limits_.max_sources)
            std::erase_if(sources_, [&](const auto& entry) { return now - entry.second.last_seen >= idle_source; });
        if (sources_.size() >= limits_.max_sources) return SsdpRefusal::sources_full;
        found = sources_.emplace(source.host_order(), SourceBucket{RateLimiter(limits_.per_source), now}).first;
    }
    found->second.last_seen = now;
    if (!found->second.bucket.admit(now)) return SsdpRefusal::source_rate_limited;
    if (pending_.size() >= limits_.max_pending) return SsdpRefusal::pending_full;
    if (!total_.admit(now)) return SsdpRefusal::total_rate_limited;
    return std::nullopt;
}

std::optional<SsdpRefusal> SsdpResponder::judge(std::string_view datagram, Endpoint source, bool on_lan,
                                                bool multicast, const std::vector<SsdpTarget>& targets,
                                                Instant now, std::uint32_t random) {
    ++counts_.searches;
    // The source first: nothing an outsider sends is even parsed.
    if (auto refusal = judge_source(source, on_lan)) return count(*refusal);
    std::optional<SsdpSearch> search = parse_ssdp_search(datagram);
    if (!search) return count(SsdpRefusal::malformed);
    if (search->mx_clamped) ++counts_.mx_clamped;
    std::uint32_t matching = ssdp_matching_targets(targets, search->search_target);
    if (matching == 0) return count(SsdpRefusal::no_matching_target);
    if (auto refusal = admit(source.address, now)) return count(*refusal);
    // UDA 1.1 1.3.3: a random delay in [0, MX) spreads the answers of every device.
    Instant delay{multicast ? std::int64_t(random % (search->mx * 1000)) : 0};
    pending_.push_back({now + delay, source, matching, std::move(search->search_target)});
    std::ranges::push_heap(pending_, later);
    return std::nullopt;
}

std::vector<SsdpPendingAnswer> SsdpResponder::take_due(Instant now) {
    std::vector<SsdpPendingAnswer> due;
    while (!pending_.empty() && pending_.front().due <= now) {
        std::ranges::pop_heap(pending_, later);
        due.push_back(std::move(pending_.back()));
        pending_.pop_back();
        ++counts_.searches_answered;
    }
    return due;
}

std::optional<Instant> SsdpResponder::next_due() const {
    if (pending_.empty()) return std::nullopt;
    return pending_.front().due;
}

}  // namespace gw

// The decisions of the gateway's M-SEARCH responder (daemon/ssdp_server does the I/O):
// whom to answer, when, and what to hold back. Pure: time and randomness come in as
// parameters, so the tests are exact.
//
// Why each rule (issue 14.6, UDA 1.1 1.3):
// - Only hosts inside lan.networks are answered, never the gateway's own addresses nor a
//   network or broadcast address: an answer goes to the search's source address, so a
//   forged source would make the gateway a reflector (10 datagrams for one of 94 bytes).
// - MX is clamped to 1..5 s and the answer waits a random delay within it, in a bounded
//   heap (max_pending): pupnp kept one job per answer for up to MX = 2^31 s.
// - Token buckets per source and in total bound the answers whatever the sources; the
//   per-source buckets live in a bounded table whose idle (hence full) entries are pruned.
// Every refusal has a name and a counter (gatewayctl status: ssdp).
//
// Not thread-safe: owned by the SSDP server's thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "firewall/rate_limiter.hpp"
#include "igd/ssdp_message.hpp"
#include "nat/endpoint.hpp"

namespace gw {

#define GW_SSDP_REFUSALS(X)                                                                      \
    X(malformed)            /* not an M-SEARCH with MAN "ssdp:discover" and an ST */           \
    X(no_matching_target)   /* an ST the gateway is not */                                     \
    X(outside_lan)          /* source outside lan.networks */                                  \
    X(gateway_address)      /* source is one of the gateway's own addresses */                 \
    X(network_or_broadcast) /* source is a LAN network or broadcast address, or port 0 */      \
    X(wrong_interface)      /* arrived on another interface than the LAN's */                  \
    X(source_rate_limited)  /* this source's token bucket is empty */                          \
    X(total_rate_limited)   /* the responder's token bucket is empty */                        \
    X(pending_full)         /* max_pending searches already wait for their delay */            \
    X(sources_full)         /* max_sources sources tracked and none idle */

enum class SsdpRefusal : std::uint8_t {
#define GW_SSDP_ENUM(name) name,
    GW_SSDP_REFUSALS(GW_SSDP_ENUM)
#undef GW_SSDP_ENUM
};
inline constexpr std::size_t ssdp_refusal_count = 10;
std::string_view ssdp_refusal_name(SsdpRefusal refusal);

struct SsdpResponderLimits {
    RateLimit per_source{.per_second = 2, .burst = 10};  // searches one host may have answered
    RateLimit total{.per_second = 50, .burst = 100};     // searches answered in all
    std::size_t max_pending = 256;                        // searches waiting for their delay
    std::size_t max_sources = 1024;                       // per-source buckets held
};

struct SsdpResponderCounts {
    std::uint64_t searches = 0;           // M-SEARCH datagrams judged
    std::uint64_t searches_answered = 0;  // searches whose answers were sent (take_due)
    std::uint64_t mx_clamped = 0;         // MX missing, invalid or outside 1..5
    std::array<std::uint64_t, ssdp_refusal_count> refused{};
};

// One search to answer: the targets (bits of the ssdp_targets vector) to the source.
struct SsdpPendingAnswer {
    Instant due{0};
    Endpoint destination;
    std::uint32_t targets = 0;
    std::string search_target;
};

class SsdpResponder {
public:
    SsdpResponder(SsdpResponderLimits limits, std::vector<Ipv4Network> lan_networks,
                  std::vector<Ipv4Address> gateway_addresses);

    // Judges one datagram that came from `source`. `on_lan`: it arrived on the LAN
    // interface; `multicast`: it was sent to the SSDP group (a unicast search is answered
    // at once, UDA 1.1 1.3.3). `random` picks the delay within MX. nullopt: accepted (its
    // answer waits in the heap); else why not (counted).
    std::optional<SsdpRefusal> judge(std::string_view datagram, Endpoint source, bool on_lan, bool multicast,
                                     const std::vector<SsdpTarget>& targets, Instant now, std::uint32_t random);
    // The answers due by `now`, earliest first; they leave the heap.
    std::vector<SsdpPendingAnswer> take_due(Instant now);
    std::optional<Instant> next_due() const;
    std::size_t pending() const { return pending_.size(); }
    std::size_t sources_tracked() const { return sources_.size(); }
    const SsdpResponderCounts& counts() const { return counts_; }

private:
    std::optional<SsdpRefusal> judge_source(Endpoint source, bool on_lan) const;
    std::optional<SsdpRefusal> admit(Ipv4Address source, Instant now);
    SsdpRefusal count(SsdpRefusal refusal);

    struct SourceBucket {
        RateLimiter bucket;
        Instant last_seen;
    };
    SsdpResponderLimits limits_;
    std::vector<Ipv4Network> lan_networks_;
    std::vector<Ipv4Address> gateway_addresses_;
    RateLimiter total_;
    std::unordered_map<std::uint32_t, SourceBucket> sources_;
    std::vector<SsdpPendingAnswer> pending_;  // a min-heap by due
    SsdpResponderCounts counts_;
};

}  // namespace gw

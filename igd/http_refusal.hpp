// Why the IGD's HTTP front end (http_front_end.hpp) turned a request or a connection
// down: one name, one HTTP status and one counter per reason (STYLE 12). The names are
// what gatewayctl status shows under upnp_refusals, prefixed "http_".
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace gw {

// X(name, HTTP status answered)
#define GW_HTTP_REFUSALS(X)                                                                               \
    X(malformed, 400)              /* http-parser refused it, or a header has control bytes */            \
    X(unknown_method, 501)         /* not GET, HEAD, POST, SUBSCRIBE or UNSUBSCRIBE */                    \
    X(too_large, 413)              /* head over 8 KB, or Content-Length over the body limit */            \
    X(transfer_encoding, 501)      /* any Transfer-Encoding (chunked bodies skip the size limit) */       \
    X(body_without_length, 411)    /* a POST without Content-Length */                                    \
    X(pipelined, 400)              /* bytes of a second request after the first: one per connection */   \
    X(foreign_host, 400)           /* Host is not the gateway's LAN address:port (DNS rebinding) */       \
    X(callback_not_requester, 412) /* SUBSCRIBE CALLBACK not an http URL to the requester (CallStranger) */ \
    X(callback_unreachable, 412)   /* a new SUBSCRIBE's callback took no connection within 2 s */         \
    X(subscribe_over_ipv6, 501)    /* pupnp 1.8 never delivers events to IPv6 subscribers */              \
    X(unknown_subscription, 412)   /* renewal or UNSUBSCRIBE of a SID the requester does not hold */      \
    X(subscriptions_per_client, 503)                                                                      \
    X(subscriptions_total, 503)                                                                           \
    X(bad_xml, 400)                /* the body is not plain, shallow, well-formed XML (xml_vetting.hpp) */ \
    X(deadline, 408)               /* the request was not complete within the deadline */                 \
    X(connections_per_client, 503)                                                                        \
    X(connections_total, 503)                                                                             \
    X(memory, 503)                 /* the requests in flight together hold the buffer budget */           \
    X(upstream_unreachable, 502)   /* pupnp's loopback server did not answer */

enum class HttpRefusal : std::uint8_t {
#define GW_HTTP_REFUSAL_ENUM(name, status) name,
    GW_HTTP_REFUSALS(GW_HTTP_REFUSAL_ENUM)
#undef GW_HTTP_REFUSAL_ENUM
};

inline constexpr std::size_t http_refusal_count = 0
#define GW_HTTP_REFUSAL_COUNT(name, status) +1
    GW_HTTP_REFUSALS(GW_HTTP_REFUSAL_COUNT)
#undef GW_HTTP_REFUSAL_COUNT
    ;

std::string_view http_refusal_name(HttpRefusal refusal);
int http_refusal_status(HttpRefusal refusal);
// "HTTP/1.1 413 Payload Too Large\r\n...Connection: close\r\n\r\n": the whole answer.
std::string_view http_refusal_answer(HttpRefusal refusal);

// Written by the front end's thread, read by gatewayctl's: relaxed atomics (statistics).
struct HttpFrontEndCounters {
    std::array<std::atomic<std::uint64_t>, http_refusal_count> refused{};
    std::atomic<std::uint64_t> forwarded{0};     // requests relayed to pupnp
    std::atomic<std::uint64_t> answered_4xx{0};  // of those, answered 4xx by pupnp itself
    void count(HttpRefusal r) { refused[std::size_t(r)].fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t of(HttpRefusal r) const { return refused[std::size_t(r)].load(std::memory_order_relaxed); }
};

}  // namespace gw

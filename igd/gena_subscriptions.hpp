// The GENA subscriptions the IGD's front end let through, by SID, with who holds each
// and until when (pure: time comes in). pupnp 1.8.4 grants whatever it is asked
// (20 000 subscriptions, TIMEOUT: Second-infinite, issue 14 item 5) and its job pool
// then starves real subscribers; here each client holds at most `per_client`, all
// together at most `total` (pupnp's own cap, UpnpSetMaxSubscriptions, is set to the
// same as a second line), and every TIMEOUT is clamped to `max_timeout_seconds`
// before pupnp reads it (UpnpSetMaxSubscriptionTimeOut again). A renewal or
// UNSUBSCRIBE names a SID: only the client that holds it may (UDA 4.1.2, 4.1.3; 412).
//
// Requests in flight count as held until pupnp answers, so a burst of connections
// cannot overshoot the caps. Entries end at their timeout (or pupnp's answer to an
// UNSUBSCRIBE); pupnp drops an expired subscription itself, so both tables agree.
//
// Threads: the front end's only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "igd/http_refusal.hpp"
#include "igd/http_request_judge.hpp"
#include "igd/http_request_reader.hpp"
#include "nat/mapping.hpp"

namespace gw {

struct GenaLimits {
    // An IGD has at most 4 services a control point subscribes to. pupnp 1.8.4 delivers
    // each subscription's events one at a time from a pool of 12 threads, and a NOTIFY to
    // a callback that black-holes holds its thread for the 5 s connect timeout: 6 such
    // subscriptions leave half the pool to everyone else (upnp_gena_flood_is_capped.sh).
    std::size_t per_client = 6;
    std::size_t total = 256;
    std::uint32_t max_timeout_seconds = 1800;  // UDA 1.1 recommends at least 1800
};

class GenaSubscriptions {
public:
    explicit GenaSubscriptions(GenaLimits limits = {}) : limits_(limits) {}

    // A SUBSCRIBE or UNSUBSCRIBE about to be forwarded, already judged: the refusal, if
    // any; otherwise TIMEOUT is clamped in `request` and a new subscription is counted
    // as pending until answered(). Other methods: nothing to do.
    std::optional<HttpRefusal> admit(HttpRequest& request, const ClientAddress& client, Instant now);
    // pupnp's answer to an admitted request (status 0: none came). `sid` and `timeout`:
    // the answer's SID and TIMEOUT headers.
    void answered(const HttpRequest& request, const ClientAddress& client, int status, std::string_view sid,
                  std::string_view timeout, Instant now);

    std::size_t held() const { return subscriptions_.size() + pending_total_; }
    std::size_t held_by(const ClientAddress& client) const;

    // "Second-300" -> 300, "Second-infinite" / absent / unreadable -> the maximum.
    std::uint32_t clamped_timeout(std::optional<std::string_view> asked) const;

private:
    struct Subscription {
        ClientAddress holder;
        Instant ends;
    };
    void expire(Instant now);

    GenaLimits limits_;
    std::map<std::string, Subscription> subscriptions_;  // by SID
    std::map<ClientAddress, std::size_t> pending_;        // new SUBSCRIBEs not yet answered
    std::size_t pending_total_ = 0;
    std::uint64_t unanswered_ = 0;  // names the entries of SUBSCRIBEs whose answer never came back
};

}  // namespace gw

// What the front ends (UPnP, NAT-PMP, PCP) ask of the upstream worker about a grant
// they just made (wan.upstream_mappings, issue 19), and what they answer from it.
//
// A front end calls await_upstream() after PortMappingService::with_policy has returned
// (outside every lock: the worker does the upstream I/O on its own thread, and may need
// the service's lock to read the openings). The wait is bounded (≤ 3 s), then
// judge_upstream() turns the outcome into the answer:
//   - no upstream in use (no other NAT, wan.upstream_mappings off): exactly the local
//     answer, as before issue 19;
//   - held on the same port: the upstream's address and port (and, for PCP, the smaller
//     of the two lifetimes, RFC 7648 §4);
//   - held on another port: NAT-PMP and PCP answer it (they name a mapping by its
//     internal port); UPnP AddPortMapping asked for a fixed port, so it is a conflict
//     (718 under refuse; keep answers success and warns); AddAnyPortMapping answers the
//     local port and warns (a DeletePortMapping names the port it was told, which must
//     be ours: answering the upstream's would make it delete nothing);
//   - failed, or no answer in the wait: wan.upstream_failure. `refuse` undoes the local
//     grant (through the service) and answers an error; `keep` answers the local values
//     and warns.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "igd/natpmp_message.hpp"
#include "igd/pcp_message.hpp"
#include "igd/upstream_mappings.hpp"

namespace gw {

class UpstreamCarrier {
public:
    // How long a front end waits for the first upstream answer to a fresh grant.
    static constexpr std::chrono::milliseconds grant_wait{3000};

    virtual ~UpstreamCarrier() = default;
    // The upstream half of (protocol, our external port): at once when it is held or
    // failed, else after its first answer or `wait`. not_carried when no upstream is in
    // use. Any thread, no lock held.
    virtual UpstreamOutcome await_upstream(const CarriedKey& key, std::chrono::milliseconds wait) = 0;
    // wan.upstream_failure is refuse.
    virtual bool refusing_on_failure() const = 0;
    // For the counters and the rate-limited warning: a grant undone (refuse), or kept
    // without its upstream half (keep). `what`: the request and the reason, for the log.
    virtual void report_refused_locally(const std::string& what) = 0;
    virtual void report_kept_without_upstream(const std::string& what) = 0;
};

// How the front end answers a fresh grant.
struct UpstreamJudgement {
    enum class Kind : std::uint8_t {
        local,     // the local values (no upstream, or kept without it)
        upstream,  // the upstream's address and port
        refuse,    // undo the local grant and answer an error
    };
    Kind kind = Kind::local;
    bool port_taken = false;  // refuse: the upstream's port was the problem (718, CANNOT_PROVIDE_EXTERNAL, 4)
    bool warn = false;        // local although an upstream is in use: count and log it
    std::string why;          // refuse or warn: for the log
};

// `fixed_port`: the client must get the port it asked (UPnP AddPortMapping); `any_port`:
// UPnP AddAnyPortMapping (answers the local port unless the upstream's is the same).
// NAT-PMP and PCP pass neither.
UpstreamJudgement judge_upstream(const UpstreamOutcome& outcome, Port local_port, bool refuse_on_failure,
                                 bool fixed_port, bool any_port);

// The answers rewritten (pure): a NAT-PMP mapping response with the upstream's port, or
// an error result; a PCP MAP or PEER response with the upstream's address, port and the
// smaller lifetime, or an error result. A response of another shape is left alone.
void natpmp_answer_upstream_port(std::vector<std::uint8_t>& response, Port external);
void natpmp_answer_error(std::vector<std::uint8_t>& response, NatPmpResult result);
void pcp_answer_upstream(std::vector<std::uint8_t>& response, Ipv4Address address, Port port,
                         std::chrono::seconds upstream_lifetime_left);
void pcp_answer_error(std::vector<std::uint8_t>& response, PcpResult result);

}  // namespace gw

// The kernel's IPv4 reassembly in the gateway's network namespace, which gatewayd switches
// on so that its queue sees whole datagrams whatever order their fragments came in
// (queue_rules.hpp, chain GATEWAYD_DEFRAG; RFC 4787 REQ-14). What it did is counted by the
// kernel, not the engine: /proc/net/snmp's Ip: Reasm* counters, the memory the queues hold
// now (/proc/net/sockstat FRAG), and its bounds (net.ipv4.ipfrag_high_thresh: above it new
// fragments are dropped, and each queue is evicted after net.ipv4.ipfrag_time). Read on
// demand by gatewayctl status, in the daemon's namespace; the figures are the namespace's,
// the gateway's own fragmented datagrams included.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

struct IpReassemblyStats {
    std::uint64_t fragments = 0;    // ReasmReqds: fragments that needed reassembly
    std::uint64_t reassembled = 0;  // ReasmOKs: datagrams put back together
    std::uint64_t failed = 0;       // ReasmFails: datagrams given up (timeouts, overlaps, memory), timeouts included
    std::uint64_t timed_out = 0;    // ReasmTimeout: incomplete after ipfrag_time
    std::uint64_t memory_bytes = 0;        // held by incomplete datagrams now
    std::uint64_t memory_limit_bytes = 0;  // ipfrag_high_thresh
    std::uint64_t timeout_seconds = 0;     // ipfrag_time
};

// The Reasm* counters from /proc/net/snmp's two "Ip:" lines (names, then values);
// nullopt when they are missing.
std::optional<IpReassemblyStats> parse_ip_reassembly_counters(std::string_view snmp_text);
// The bytes of the "FRAG: inuse N memory M" line of /proc/net/sockstat; nullopt when missing.
std::optional<std::uint64_t> parse_fragment_memory(std::string_view sockstat_text);

// Everything above, read from /proc now; a figure that cannot be read stays 0.
IpReassemblyStats read_ip_reassembly_stats();
// The object gatewayctl status shows under "ip_reassembly".
std::string ip_reassembly_json(const IpReassemblyStats& stats);

}  // namespace gw

// What the kernel counts for each queue (/proc/net/netfilter/nfnetlink_queue): packets
// waiting now, and the drops userspace never sees — a full queue (NFQA_CFG_QUEUE_MAXLEN
// reached) and packets it failed to hand to the socket. Read on demand by gatewayctl
// status, in the daemon's network namespace.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gw {

struct NfQueueKernelStats {
    std::uint64_t waiting = 0;         // queue_total: queued, no verdict yet
    std::uint64_t queue_full_drops = 0;  // queue_dropped: maxlen reached (fail-closed: dropped)
    std::uint64_t user_drops = 0;      // queue_user_dropped: could not be sent to the socket (ENOBUFS)
};

// The line for `queue_number` in the file's text; nullopt when the queue is not listed.
std::optional<NfQueueKernelStats> parse_nfqueue_kernel_stats(std::string_view proc_text, std::uint16_t queue_number);
// Reads the file; nullopt when it cannot be read or lists no such queue.
std::optional<NfQueueKernelStats> read_nfqueue_kernel_stats(std::uint16_t queue_number);

}  // namespace gw

#include "packet_decider.hpp"

// glibc first: <linux/in.h> then leaves struct in_addr and friends to it (libc-compat.h).
#include <netinet/in.h>
#include <linux/netfilter.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "decision_log.hpp"
#include "packet_capture.hpp"
#include "reject_sender.hpp"

namespace gw {
namespace {

QueueVerdict to_queue_verdict(Verdict v) {
    switch (v) {
        case Verdict::forward: return QueueVerdict::accept_rewritten;
        case Verdict::deliver_locally: return QueueVerdict::accept;
        case Verdict::drop:
        case Verdict::reject: return QueueVerdict::drop;
    }
    return QueueVerdict::drop;
}

const char* direction_of_hook(std::uint8_t hook) {
    switch (hook) {
        case NF_INET_PRE_ROUTING: return "inbound";
        case NF_INET_FORWARD: return "outbound";
        case NF_INET_LOCAL_IN: return "input";
        default: return "local";
    }
}

}  // namespace

void PacketDecider::decide_batch(std::span<QueuedPacket> packets, std::span<QueueVerdict> verdicts,
                                 Instant now) {
    for (std::size_t i = 0; i < packets.size(); ++i) verdicts[i] = decide(packets[i], now);
}

EngineResult PacketDecider::ask_engine(QueuedPacket& packet, L4Checksum state, Instant now) noexcept {
    switch (packet.hook) {
        case NF_INET_PRE_ROUTING:
            return packet.in_interface == lan_index_ ? engine_.translate_hairpin(packet.payload, state, now)
                                                     : engine_.translate_inbound(packet.payload, state, now);
        case NF_INET_FORWARD: return engine_.translate_outbound(packet.payload, state, now);
        case NF_INET_LOCAL_IN: return engine_.judge_input_from_lan(packet.payload, now);
        default: return engine_.track_local_output(packet.payload, now);
    }
}

QueueVerdict PacketDecider::decide(QueuedPacket& packet, Instant now) {
    if (packet.truncated) return QueueVerdict::drop;
    L4Checksum state = packet.checksum_not_ready ? L4Checksum::pseudo_header_only : L4Checksum::complete;
    // The log shows packets as they arrived; the engine rewrites in place.
    std::array<std::uint8_t, 128> arrived;
    std::size_t arrived_length = std::min(packet.payload.size(), arrived.size());
    std::memcpy(arrived.data(), packet.payload.data(), arrived_length);
    std::span<const std::uint8_t> head(arrived.data(), arrived_length);
    EngineResult result = ask_engine(packet, state, now);
    if (result.verdict == Verdict::drop || result.verdict == Verdict::reject || result.log) {
        bool hairpin = packet.hook == NF_INET_PRE_ROUTING && packet.in_interface == lan_index_;
        decisions_.record(result, hairpin ? "hairpin" : direction_of_hook(packet.hook), head, packet.payload.size(), now);
    }
    if (result.verdict == Verdict::reject) rejects_.answer(packet.payload);
    // A rewritten packet goes back as CHECKSUM_NONE (nfqnl_mangle), so a partial
    // checksum must be finished here. GSO packets are spared the pass over 64 KiB:
    // software segmentation recomputes their pseudo-header checksum from the new
    // addresses (tcp4_gso_segment) and each segment is then finished as usual.
    if (result.verdict == Verdict::forward && packet.checksum_not_ready && !packet.gso)
        finish_partial_checksum(packet.payload);
    if (PacketCapture* capture = captures_.running()) capture->record(head, packet.payload, result, now);
    return to_queue_verdict(result.verdict);
}

}  // namespace gw

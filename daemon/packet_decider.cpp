#include "packet_decider.hpp"

// glibc first: <linux/in.h> then leaves struct in_addr and friends to it (libc-compat.h).
#include <netinet/in.h>
#include <linux/netfilter.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "decision_log.hpp"
#include "lan_neighbours.hpp"
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

// The engine judges a group of packets at once (PacketEngine::judge_batch, which
// overlaps their flow lookups' cache misses); what the decider does around it keeps
// each packet's order: the log's copy before the engine rewrites it, the answers after.
void PacketDecider::decide_batch(std::span<QueuedPacket> packets, std::span<QueueVerdict> verdicts,
                                 Instant now) {
    constexpr std::size_t group = 32;
    std::array<ArrivedHead, group> heads;
    std::array<EnginePacket, group> asked;
    std::array<EngineResult, group> results;
    std::array<std::size_t, group> asked_for;
    for (std::size_t first = 0; first < packets.size(); first += group) {
        const std::size_t count = std::min(group, packets.size() - first);
        std::size_t asking = 0;
        for (std::size_t i = first; i < first + count; ++i) {
            if (packets[i].truncated) {
                verdicts[i] = QueueVerdict::drop;
                continue;
            }
            heads[asking] = ArrivedHead::of(packets[i]);
            asked[asking] = engine_packet_of(packets[i], now);
            asked_for[asking++] = i;
        }
        engine_.judge_batch(std::span(asked.data(), asking), now, results);
        for (std::size_t k = 0; k < asking; ++k)
            verdicts[asked_for[k]] = act_on(packets[asked_for[k]], heads[k], results[k], now);
    }
}

PacketDecider::ArrivedHead PacketDecider::ArrivedHead::of(const QueuedPacket& packet) {
    ArrivedHead head;
    head.length = std::min(packet.payload.size(), head.bytes.size());
    std::memcpy(head.bytes.data(), packet.payload.data(), head.length);
    return head;
}

LinkSource PacketDecider::link_source_of(const QueuedPacket& packet, Instant now) const noexcept {
    if (!neighbours_ || !packet.has_source_mac || packet.payload.size() < 20) return LinkSource::not_checked;
    const std::uint8_t* s = packet.payload.data() + 12;
    Ipv4Address source = Ipv4Address::from_octets(s[0], s[1], s[2], s[3]);
    // Only a LAN host's address can be owned; the engine refuses the rest by address.
    if (engine_.lan_class_of(source) != LanAddressClass::host) return LinkSource::not_checked;
    return neighbours_->judge(source, packet.source_mac, now);
}

EnginePacket PacketDecider::engine_packet_of(QueuedPacket& packet, Instant now) const noexcept {
    L4Checksum state = packet.checksum_not_ready ? L4Checksum::pseudo_header_only : L4Checksum::complete;
    // IPv6 is queued where it is routed (FORWARD: the arrival interface says the
    // direction) and where it reaches or leaves the gateway itself (INPUT, OUTPUT).
    if (!packet.payload.empty() && (packet.payload[0] >> 4) == 6) {
        const bool from_lan = packet.in_interface == lan_index_;
        switch (packet.hook) {
            case NF_INET_LOCAL_IN:
                return {packet.payload, from_lan ? EnginePath::ipv6_input_from_lan : EnginePath::ipv6_input_from_outside,
                        state};
            case NF_INET_LOCAL_OUT: return {packet.payload, EnginePath::ipv6_local_output, state};
            default: return {packet.payload, from_lan ? EnginePath::ipv6_outbound : EnginePath::ipv6_inbound, state};
        }
    }
    switch (packet.hook) {
        case NF_INET_PRE_ROUTING:
            if (packet.in_interface != lan_index_) return {packet.payload, EnginePath::inbound, state};
            return {packet.payload, EnginePath::hairpin, state, link_source_of(packet, now)};
        case NF_INET_FORWARD: return {packet.payload, EnginePath::outbound, state};
        case NF_INET_LOCAL_IN: return {packet.payload, EnginePath::input_from_lan, state, link_source_of(packet, now)};
        default: return {packet.payload, EnginePath::local_output, state};
    }
}

QueueVerdict PacketDecider::decide(QueuedPacket& packet, Instant now) {
    if (packet.truncated) return QueueVerdict::drop;
    // The log shows packets as they arrived; the engine rewrites in place.
    ArrivedHead head = ArrivedHead::of(packet);
    return act_on(packet, head, engine_.judge(engine_packet_of(packet, now), now), now);
}

QueueVerdict PacketDecider::act_on(QueuedPacket& packet, const ArrivedHead& arrived, const EngineResult& result,
                                   Instant now) {
    std::span<const std::uint8_t> head(arrived.bytes.data(), arrived.length);
    if (result.verdict == Verdict::drop || result.verdict == Verdict::reject || result.log) {
        bool hairpin = packet.hook == NF_INET_PRE_ROUTING && packet.in_interface == lan_index_;
        bool ipv6 = !packet.payload.empty() && (packet.payload[0] >> 4) == 6;
        const char* direction = ipv6 ? (packet.hook == NF_INET_LOCAL_IN      ? "input6"
                                        : packet.in_interface == lan_index_ ? "outbound6"
                                                                            : "inbound6")
                                : result.input ? "input"  // a WAN packet for the gateway, too
                                : hairpin      ? "hairpin"
                                               : direction_of_hook(packet.hook);
        decisions_.record(result, direction, head, packet.payload.size(), now);
    }
    if (result.verdict == Verdict::reject) {
        if (!packet.payload.empty() && (packet.payload[0] >> 4) == 6) rejects_.answer_ipv6(packet.payload, now);
        else rejects_.answer(packet.payload, now);
    }
    // Unrewritten: a packet is dropped before translation when its mapping is refused.
    if (result.unreachable) rejects_.answer_no_mapping(packet.payload, now);
    // A rewritten packet goes back as CHECKSUM_NONE (nfqnl_mangle), so a partial
    // checksum must be finished here. GSO packets are spared the pass over 64 KiB:
    // software segmentation recomputes their pseudo-header checksum from the new
    // addresses (tcp4_gso_segment) and each segment is then finished as usual.
    // IPv6 is never rewritten, so its partial checksums are left for the kernel (plain accept).
    const bool ipv6 = !packet.payload.empty() && (packet.payload[0] >> 4) == 6;
    if (ipv6 && result.verdict == Verdict::forward) {
        if (PacketCapture* capture = captures_.running()) capture->record(head, packet.payload, result, now);
        return QueueVerdict::accept;
    }
    if (result.verdict == Verdict::forward && packet.checksum_not_ready && !packet.gso)
        finish_partial_checksum(packet.payload);
    if (PacketCapture* capture = captures_.running()) capture->record(head, packet.payload, result, now);
    return to_queue_verdict(result.verdict);
}

}  // namespace gw

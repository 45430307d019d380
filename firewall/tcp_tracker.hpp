// Tracks one TCP connection from the middle of the path, the way netfilter's
// nf_conntrack_proto_tcp.c does: a state table indexed by (direction, segment kind,
// state), and tcp_in_window's bounds on sequence and acknowledgment numbers per
// direction (after Rooij, "Real stateful TCP packet filtering in IP Filter").
//
// Ownership: the firewall's flow record embeds one TcpTracker and is its only user;
// it lives on the flow's worker. Pure and noexcept: no I/O, no clock, no globals.
// Time is the caller's concern: it picks the idle timeout from timeout_class().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "firewall/tcp_state.hpp"
#include "nat/wire_headers.hpp"

namespace gw {

// original: the side that sent the flow's first packet; reply: the other one.
enum class FlowDirection : std::uint8_t { original, reply };

// The fields of a TCP segment that tracking needs, in host byte order.
struct TcpSegment {
    std::uint8_t flags = 0;  // wire::TcpHeader::fin, syn, rst, psh, ack, urg (+ ECE 0x40, CWR 0x80)
    std::uint32_t sequence = 0;
    std::uint32_t acknowledgment = 0;  // meaningful only with the ACK flag
    std::uint16_t window = 0;          // as on the wire, before any scaling
    std::uint32_t payload_length = 0;  // bytes after the TCP header
    // Shift count of a Window Scale option (RFC 7323 §2.2), read from SYN segments only.
    std::optional<std::uint8_t> window_scale;
};

// Reads a segment from its header; the `segment_length` bytes (header, options and
// payload) starting at `header` must be readable. nullopt when the data offset is
// below 5 words or runs past the segment. Options are read only within the header.
// For a fragment, pass the reassembled length: payload_length would be short otherwise.
std::optional<TcpSegment> tcp_segment_from(const wire::TcpHeader& header, std::size_t segment_length) noexcept;

// Whether a real stack would send these flags (netfilter's tcp_valid_flags; PSH, ECE
// and CWR are ignored): SYN+FIN, SYN+RST, FIN without ACK and no flags at all are not.
bool tcp_flags_valid(std::uint8_t flags) noexcept;

// What track() made of a segment; anything but accept means drop it, untouched.
#define GW_TCP_JUDGEMENTS(X)                                                                  \
    X(accept, "valid here; the tracker has taken it into account")                            \
    X(bad_flags, "flag combination no stack sends (SYN+FIN, SYN+RST, none, FIN without ACK)")  \
    X(unexpected_in_state, "valid flags, but not at this point of the connection")            \
    X(sequence_out_of_window, "sequence outside what the receiver's window allows")           \
    X(acknowledgment_out_of_window, "acknowledges data never sent, or data long acknowledged") \
    X(reset_out_of_window, "RST outside the receiver's window (RFC 5961 §3.2)")               \
    X(data_after_fin, "sequence space beyond the sender's own FIN")

enum class TcpJudgement : std::uint8_t {
#define GW_TCP_JUDGEMENT_ENUM(name, text) name,
    GW_TCP_JUDGEMENTS(GW_TCP_JUDGEMENT_ENUM)
#undef GW_TCP_JUDGEMENT_ENUM
    count_
};

std::string_view tcp_judgement_name(TcpJudgement judgement) noexcept;
std::string_view tcp_judgement_description(TcpJudgement judgement) noexcept;

// Whether a flow may start on a segment other than a SYN (netfilter's nf_conntrack_tcp_loose):
// after a daemon restart the established connections through us have lost their state.
enum class TcpPickup : std::uint8_t { refuse, allow };

class TcpTracker {
public:
    // An idle tracker, for flow records of other protocols; a TCP flow gets its
    // tracker from start().
    TcpTracker() = default;

    // The flow's first segment: a plain SYN starts SYN_SENT. With TcpPickup::allow a
    // plain ACK (with or without data) starts ESTABLISHED, like netfilter's pickup; the
    // window scales it cannot know are assumed to be the largest (loose, not absent, bounds).
    // nullopt: no flow may start on this segment.
    static std::optional<TcpTracker> start(const TcpSegment& first, TcpPickup pickup = TcpPickup::refuse) noexcept;

    // Judges a later segment of the flow. The tracker changes only when it returns accept.
    // Some accepted segments change nothing, as in netfilter: a SYN on an established
    // flow, a retransmitted SYN-ACK, an RST in the window but not at the exact sequence.
    // They pass so that the endpoint can answer them with a challenge ACK (RFC 5961 §3.2, §4).
    TcpJudgement track(FlowDirection from, const TcpSegment& segment) noexcept;

    // A later fragment of a segment whose first fragment was accepted carries sequence
    // space [first, end) but no header: it extends what its sender has sent, so that the
    // acknowledgment of the whole segment is in window. False (and no change) when it
    // starts beyond what the receiver's window allows.
    bool take_fragment(FlowDirection from, std::uint32_t first, std::uint32_t end) noexcept;

    // RFC 5927 §4.1: whether a segment `from` sent with this sequence number may still be
    // unacknowledged (SND.UNA <= SEQ <= SND.NXT, from the middle: the receiver's highest
    // ACK up to the sender's next sequence; before any ACK, the receiver's largest window
    // back from the sender's next sequence).
    // An ICMP error quoting anything else is not about this connection.
    bool sequence_in_flight(FlowDirection from, std::uint32_t sequence) const noexcept;

    TcpState state() const noexcept { return state_; }
    TcpTimeoutClass timeout_class() const noexcept { return tcp_timeout_class(state_); }

    bool operator==(const TcpTracker&) const = default;

    // The whole tracker as plain numbers, for the flow-table handover across a restart
    // (flow_snapshot.hpp). restored() refuses what no tracker could hold (a state out of
    // range, a window scale above RFC 7323's 14, unknown flag bits): snapshots are untrusted.
    struct Saved {
        struct Side {
            std::uint32_t end = 0, max_end = 0, max_window = 0, max_ack = 0;
            std::uint8_t scale = 0, flags = 0;
            bool operator==(const Side&) const = default;
        };
        std::array<Side, 2> sides{};  // indexed by FlowDirection
        std::uint8_t state = 0;       // a TcpState
        bool operator==(const Saved&) const = default;
    };
    Saved saved() const noexcept;
    static std::optional<TcpTracker> restored(const Saved& saved) noexcept;

private:
    // What one side has sent: netfilter's ip_ct_tcp_state, sequence numbers mod 2^32.
    struct Peer {
        std::uint32_t end = 0;         // td_end: highest sequence sent + 1 (SYN and FIN count one)
        std::uint32_t max_end = 0;     // td_maxend: highest sequence the other side's window allows
        std::uint32_t max_window = 0;  // td_maxwin: largest window it advertised, scaled; 0: not heard yet
        std::uint32_t max_ack = 0;     // td_maxack: highest acknowledgment it sent (if acked)
        bool operator==(const Peer&) const = default;
    };
    // The one-byte facts about a side, kept out of Peer so that the tracker packs into 40 bytes.
    struct PeerFacts {
        std::uint8_t scale = 0;  // td_scale: shift of its windows (RFC 7323)
        std::uint8_t flags = 0;  // offered_scale | acked | fin_sent
        bool operator==(const PeerFacts&) const = default;
    };

    TcpJudgement judge(FlowDirection from, const TcpSegment& segment) noexcept;
    TcpJudgement judge_reset(std::size_t sender, const TcpSegment& segment) noexcept;
    TcpJudgement judge_window(std::size_t sender, const TcpSegment& segment) noexcept;
    void learn_syn(std::size_t sender, const TcpSegment& syn) noexcept;
    void pick_up(const TcpSegment& first) noexcept;
    void take_in_window(std::size_t sender, const TcpSegment& segment, std::uint32_t end) noexcept;
    bool has(std::size_t side, std::uint8_t flag) const noexcept { return facts_[side].flags & flag; }
    bool fin_acknowledged(std::size_t side) const noexcept;
    TcpState closing_state() const noexcept;

    std::array<Peer, 2> peers_{};  // indexed by FlowDirection
    std::array<PeerFacts, 2> facts_{};
    TcpState state_ = TcpState::syn_sent;
};

static_assert(sizeof(TcpTracker) <= 40, "the tracker is embedded in every flow record");

}  // namespace gw

#include "firewall/tcp_tracker.hpp"

#include <algorithm>
#include <span>

namespace gw {
namespace {

using wire::TcpHeader;

constexpr std::uint8_t ece = 0x40, cwr = 0x80;  // RFC 3168; not in wire::TcpHeader

constexpr std::size_t original = std::size_t(FlowDirection::original);
constexpr std::size_t reply = std::size_t(FlowDirection::reply);

// Sequence space arithmetic modulo 2^32 (RFC 793 §3.3, RFC 1982): `a` is before `b`
// when `b` lies less than 2^31 ahead of it. Every comparison below goes through these.
constexpr bool before(std::uint32_t a, std::uint32_t b) { return std::int32_t(a - b) < 0; }
constexpr bool after(std::uint32_t a, std::uint32_t b) { return before(b, a); }

// RFC 7323 §2.3: a shift count above 14 is used as 14, so no window exceeds 65535 << 14.
constexpr std::uint8_t max_window_shift = 14;
constexpr std::uint32_t max_scaled_window = std::uint32_t(0xffff) << max_window_shift;
// netfilter's MAXACKWINCONST: an ACK may lag the data it answers by the sender's largest
// window, and by at least this much (delayed and reordered ACKs on small windows).
constexpr std::uint32_t min_ack_lag = 66000;

// PeerFacts::flags
constexpr std::uint8_t offered_scale = 1, acked = 2, fin_sent = 4;

// netfilter's get_conntrack_index; RST first, as a RST with anything else is a RST.
enum class Kind : std::uint8_t { syn, syn_ack, fin, ack, rst };

Kind kind_of(std::uint8_t flags) {
    if (flags & TcpHeader::rst) return Kind::rst;
    if (flags & TcpHeader::syn) return (flags & TcpHeader::ack) ? Kind::syn_ack : Kind::syn;
    if (flags & TcpHeader::fin) return Kind::fin;
    return Kind::ack;
}

// The sequence number after the segment: SYN and FIN occupy one each (RFC 793 §3.3).
std::uint32_t segment_end(const TcpSegment& s) {
    return s.sequence + s.payload_length + ((s.flags & TcpHeader::syn) ? 1 : 0) + ((s.flags & TcpHeader::fin) ? 1 : 0);
}

// What a non-RST segment does to the state: netfilter's tcp_conntracks[dir][index][state]
// without its NONE column (start() is that column) and its RST row (judge_reset), with one
// deliberate change: netfilter steps FIN_WAIT -> CLOSE_WAIT -> LAST_ACK -> TIME_WAIT on
// any FIN or ACK from either side; we derive those states from which FINs were sent and
// acknowledged (closing_state), so a retransmitted FIN does not advance the close.
enum class Move : std::uint8_t {
    keep,  // window-checked, state unchanged
    to_syn_sent2,
    to_syn_received,
    to_established,
    follow_fins,  // window-checked, state from the FIN bookkeeping
    reopen,       // a new SYN restarts the flow (see judge)
    ignore,       // passed on unchecked, nothing learned (netfilter's sIG)
    invalid,
};

constexpr Move kp = Move::keep, s2 = Move::to_syn_sent2, sr = Move::to_syn_received, es = Move::to_established,
               fn = Move::follow_fins, ro = Move::reopen, ig = Move::ignore, iv = Move::invalid;

using MoveRow = std::array<Move, tcp_state_count>;
static_assert(tcp_state_count == 9 && TcpState::syn_sent2 == TcpState(8), "columns below follow TcpState");

// Columns: syn_sent, syn_received, established, fin_wait, close_wait, last_ack, time_wait, closed, syn_sent2.
constexpr std::array<std::array<MoveRow, 4>, 2> moves{{
    {{
        // from the original side
        /* syn     */ {kp, ig, ig, ig, ig, ig, ro, ro, kp},
        /* syn_ack */ {iv, kp, iv, iv, iv, iv, iv, iv, sr},
        /* fin     */ {iv, fn, fn, fn, fn, fn, kp, kp, iv},
        /* ack     */ {iv, es, fn, fn, fn, fn, kp, kp, iv},
    }},
    {{
        // from the reply side
        /* syn     */ {s2, iv, iv, iv, iv, iv, iv, iv, kp},
        /* syn_ack */ {sr, ig, ig, ig, ig, ig, ig, ig, sr},
        /* fin     */ {iv, fn, fn, fn, fn, fn, kp, kp, iv},
        /* ack     */ {ig, kp, fn, fn, fn, fn, kp, kp, ig},
    }},
}};

// RFC 793 §3.1 option layout, RFC 7323 §2.2 Window Scale (kind 3, length 3). A malformed
// option ends the walk, as in netfilter's tcp_options.
std::optional<std::uint8_t> window_scale_option(std::span<const std::uint8_t> options) {
    constexpr std::uint8_t end_of_list = 0, no_operation = 1, window_scale = 3;
    for (std::size_t i = 0; i < options.size();) {
        std::uint8_t kind = options[i];
        if (kind == end_of_list) break;
        if (kind == no_operation) {
            ++i;
            continue;
        }
        if (i + 1 >= options.size()) break;
        std::size_t length = options[i + 1];
        if (length < 2 || i + length > options.size()) break;
        if (kind == window_scale && length == 3) return options[i + 2];
        i += length;
    }
    return std::nullopt;
}

struct JudgementText {
    std::string_view name;
    std::string_view description;
};

constexpr std::array<JudgementText, std::size_t(TcpJudgement::count_)> judgement_table{{
#define GW_TCP_JUDGEMENT_TEXT(name, text) {#name, text},
    GW_TCP_JUDGEMENTS(GW_TCP_JUDGEMENT_TEXT)
#undef GW_TCP_JUDGEMENT_TEXT
}};

}  // namespace

std::string_view tcp_judgement_name(TcpJudgement j) noexcept { return judgement_table[std::size_t(j)].name; }

std::string_view tcp_judgement_description(TcpJudgement j) noexcept {
    return judgement_table[std::size_t(j)].description;
}

std::optional<TcpSegment> tcp_segment_from(const wire::TcpHeader& header, std::size_t segment_length) noexcept {
    std::size_t header_length = header.header_length();
    if (header_length < sizeof(wire::TcpHeader) || header_length > segment_length) return std::nullopt;
    TcpSegment s;
    s.flags = header.flags;
    s.sequence = header.sequence.get();
    s.acknowledgment = header.acknowledgment.get();
    s.window = header.window.get();
    s.payload_length = std::uint32_t(segment_length - header_length);
    // RFC 7323 §2.2: the option is meaningful only on a SYN; elsewhere it is ignored.
    if (s.flags & TcpHeader::syn) {
        const auto* options = reinterpret_cast<const std::uint8_t*>(&header) + sizeof(wire::TcpHeader);
        s.window_scale = window_scale_option({options, header_length - sizeof(wire::TcpHeader)});
    }
    return s;
}

bool tcp_flags_valid(std::uint8_t flags) noexcept {
    using H = TcpHeader;
    switch (flags & ~(H::psh | ece | cwr)) {
        case H::syn:
        case H::syn | H::urg:
        case H::syn | H::ack:
        case H::rst:
        case H::rst | H::ack:
        case H::fin | H::ack:
        case H::fin | H::ack | H::urg:
        case H::ack:
        case H::ack | H::urg:
            return true;
        default:
            return false;
    }
}

std::optional<TcpTracker> TcpTracker::start(const TcpSegment& first, TcpPickup pickup) noexcept {
    if (!tcp_flags_valid(first.flags)) return std::nullopt;
    TcpTracker tracker;
    Kind kind = kind_of(first.flags);
    if (kind == Kind::syn) {
        tracker.learn_syn(original, first);
        return tracker;
    }
    // netfilter's pickup starts only on an ACK (its NONE column refuses FIN and RST).
    if (kind == Kind::ack && pickup == TcpPickup::allow) {
        tracker.pick_up(first);
        return tracker;
    }
    return std::nullopt;
}

TcpJudgement TcpTracker::track(FlowDirection from, const TcpSegment& segment) noexcept {
    // Judge a copy so that a refused segment leaves no trace, whatever step refused it.
    TcpTracker next = *this;
    TcpJudgement judgement = next.judge(from, segment);
    if (judgement == TcpJudgement::accept) *this = next;
    return judgement;
}

TcpJudgement TcpTracker::judge(FlowDirection from, const TcpSegment& segment) noexcept {
    if (!tcp_flags_valid(segment.flags)) return TcpJudgement::bad_flags;
    std::size_t sender = std::size_t(from);
    Kind kind = kind_of(segment.flags);
    if (kind == Kind::rst) return judge_reset(sender, segment);
    Move move = moves[sender][std::size_t(kind)][std::size_t(state_)];
    switch (move) {
        case Move::invalid:
            return TcpJudgement::unexpected_in_state;
        case Move::ignore:
            return TcpJudgement::accept;
        case Move::reopen:
            // RFC 1122 §4.2.2.13 lets a new SYN reopen a connection in TIME-WAIT; like
            // netfilter we skip its sequence condition and treat a reset flow the same.
            if (auto fresh = start(segment)) *this = *fresh;
            return TcpJudgement::accept;
        default:
            break;
    }
    if (auto judgement = judge_window(sender, segment); judgement != TcpJudgement::accept) return judgement;
    if (move == Move::to_syn_sent2) state_ = TcpState::syn_sent2;
    if (move == Move::to_syn_received) state_ = TcpState::syn_received;
    if (move == Move::to_established) state_ = TcpState::established;
    if (move == Move::follow_fins) state_ = closing_state();
    return TcpJudgement::accept;
}

TcpJudgement TcpTracker::judge_reset(std::size_t sender, const TcpSegment& segment) noexcept {
    const Peer& from = peers_[sender];
    const Peer& to = peers_[1 - sender];
    if (state_ == TcpState::syn_sent && sender == reply) {
        // RFC 793 p.66, kept by RFC 5961 §3.2: in SYN-SENT an RST counts only if it acknowledges the SYN.
        bool acknowledges_syn = (segment.flags & TcpHeader::ack) && segment.acknowledgment == to.end;
        if (!acknowledges_syn) return TcpJudgement::reset_out_of_window;
        state_ = TcpState::closed;
        return TcpJudgement::accept;
    }
    // RFC 5961 §3.2: the receiver resets only on an RST at exactly RCV.NXT, which from the
    // middle is the highest ACK it sent (before it sent one: the sender's next sequence).
    // An RST right after the sender's last data is exact once that data arrives
    // (netfilter's "RST train"), so it closes too.
    std::uint32_t expected = has(1 - sender, acked) ? to.max_ack : from.end;
    if (segment.sequence == expected || segment.sequence == from.end) {
        state_ = TcpState::closed;
        return TcpJudgement::accept;
    }
    // Inside the window but not exact: the receiver answers with a challenge ACK and stays
    // up, so the flow must too; the RST is passed on (netfilter does the same).
    if (!before(segment.sequence, expected) && !after(segment.sequence, from.max_end)) return TcpJudgement::accept;
    return TcpJudgement::reset_out_of_window;
}

// netfilter's tcp_in_window: the segment must fit between what the sender may send
// (up to the receiver's advertised right edge) and what the receiver has long since
// acknowledged, and its ACK may neither cover unsent data nor lag too far behind.
TcpJudgement TcpTracker::judge_window(std::size_t sender, const TcpSegment& segment) noexcept {
    Peer& from = peers_[sender];
    const Peer& to = peers_[1 - sender];
    bool syn = segment.flags & TcpHeader::syn;
    bool has_ack = segment.flags & TcpHeader::ack;
    std::uint32_t end = segment_end(segment);
    // The side's first SYN, or a SYN with a later ISN while we wait for an answer (the
    // client gave up and retried): it defines where that side's sequence space starts.
    bool restarts = state_ == TcpState::syn_sent && sender == original && !has_ack && after(end, from.end);
    if (syn && (from.max_window == 0 || restarts)) {
        learn_syn(sender, segment);
        if (!has_ack) return TcpJudgement::accept;  // acknowledges nothing: nothing to check
    }
    std::uint32_t sequence = segment.sequence;
    // A segment without sequence space (pure ACK, keepalive, window probe) is judged by its
    // ACK alone, as in netfilter: stacks send them with SND.NXT - 1 and the like.
    if (sequence == end) sequence = end = from.end;
    // RFC 793 §3.5: nothing follows a FIN in its sender's sequence space.
    if (has(sender, fin_sent) && after(end, from.end)) return TcpJudgement::data_after_fin;
    if (after(sequence, from.max_end) || before(end, from.end - to.max_window))
        return TcpJudgement::sequence_out_of_window;
    std::uint32_t ack = has_ack ? segment.acknowledgment : to.end;
    std::uint32_t ack_lag = std::max(from.max_window, min_ack_lag);
    if (after(ack, to.end) || before(ack, to.end - ack_lag)) return TcpJudgement::acknowledgment_out_of_window;
    take_in_window(sender, segment, end);
    return TcpJudgement::accept;
}

// The updating half of netfilter's tcp_in_window, for a segment found in window.
void TcpTracker::take_in_window(std::size_t sender, const TcpSegment& segment, std::uint32_t end) noexcept {
    Peer& from = peers_[sender];
    Peer& to = peers_[1 - sender];
    bool has_ack = segment.flags & TcpHeader::ack;
    std::uint32_t ack = has_ack ? segment.acknowledgment : to.end;
    // RFC 7323 §2.2: the window of a SYN or SYN-ACK is never scaled.
    bool syn = segment.flags & TcpHeader::syn;
    std::uint32_t window = syn ? segment.window : std::uint32_t(segment.window) << facts_[sender].scale;
    from.max_window = std::max(from.max_window, window);
    if (after(end, from.end)) from.end = end;
    if (has_ack && (!has(sender, acked) || after(ack, from.max_ack))) {
        from.max_ack = ack;
        facts_[sender].flags |= acked;
    }
    if (segment.flags & TcpHeader::fin) facts_[sender].flags |= fin_sent;
    // The sender went past the right edge we knew: its receiver must have opened the
    // window wider than we saw (netfilter grows the window rather than doubt the sender).
    // Capped at the largest window there is, so that a sender overrunning again and again
    // cannot wrap it around to a small one.
    if (to.max_window != 0 && after(end, from.max_end))
        to.max_window = std::min(to.max_window + (end - from.max_end), max_scaled_window);
    // This ACK and window let the other side send up to ack + window.
    if (!before(ack + window, to.max_end)) to.max_end = ack + window + (window == 0 ? 1 : 0);
}

bool TcpTracker::take_fragment(FlowDirection from, std::uint32_t first, std::uint32_t end) noexcept {
    Peer& sender = peers_[std::size_t(from)];
    if (after(first, sender.max_end)) return false;
    if (after(end, sender.end)) sender.end = end;
    return true;
}

void TcpTracker::learn_syn(std::size_t sender, const TcpSegment& syn) noexcept {
    Peer& from = peers_[sender];
    from = Peer{};
    from.end = from.max_end = segment_end(syn);
    from.max_window = std::max<std::uint32_t>(syn.window, 1);
    PeerFacts& facts = facts_[sender];
    facts.flags = syn.window_scale ? offered_scale : 0;
    facts.scale = std::min(syn.window_scale.value_or(0), max_window_shift);
    // RFC 7323 §1.3: windows are scaled only if both SYNs carried the option; decided
    // when the second side's SYN arrives.
    bool both_offered = has(original, offered_scale) && has(reply, offered_scale);
    if (peers_[1 - sender].max_window != 0 && !both_offered) facts_[original].scale = facts_[reply].scale = 0;
}

// The SYNs are gone, so is the window scale they negotiated: assume the largest shift
// and the largest window for the side not yet heard, so the bounds are loose rather
// than wrong; the ACK upper bound and RST matching stay exact. (netfilter instead marks
// such flows BE_LIBERAL and stops checking windows altogether.)
void TcpTracker::pick_up(const TcpSegment& first) noexcept {
    facts_[original].scale = facts_[reply].scale = max_window_shift;
    Peer& from = peers_[original];
    Peer& to = peers_[reply];
    from.end = segment_end(first);
    from.max_end = from.end + max_scaled_window;
    from.max_window = 1;
    to.end = to.max_end = first.acknowledgment;
    to.max_window = max_scaled_window;
    take_in_window(original, first, from.end);
    state_ = TcpState::established;
}

bool TcpTracker::fin_acknowledged(std::size_t side) const noexcept {
    std::size_t other = 1 - side;
    return has(side, fin_sent) && has(other, acked) && !before(peers_[other].max_ack, peers_[side].end);
}

// RFC 793 §3.5 from the middle: FIN_WAIT until the first FIN is acknowledged, then
// CLOSE_WAIT (half-closed) until the other FIN; LAST_ACK until both are acknowledged.
TcpState TcpTracker::closing_state() const noexcept {
    bool original_fin = has(original, fin_sent);
    bool reply_fin = has(reply, fin_sent);
    if (original_fin && reply_fin)
        return fin_acknowledged(original) && fin_acknowledged(reply) ? TcpState::time_wait : TcpState::last_ack;
    if (original_fin || reply_fin)
        return fin_acknowledged(original_fin ? original : reply) ? TcpState::close_wait : TcpState::fin_wait;
    return TcpState::established;
}

TcpTracker::Saved TcpTracker::saved() const noexcept {
    Saved out;
    for (std::size_t side = 0; side < 2; ++side) {
        const Peer& p = peers_[side];
        out.sides[side] = {p.end, p.max_end, p.max_window, p.max_ack, facts_[side].scale, facts_[side].flags};
    }
    out.state = std::uint8_t(state_);
    return out;
}

std::optional<TcpTracker> TcpTracker::restored(const Saved& saved) noexcept {
    if (saved.state >= tcp_state_count) return std::nullopt;
    TcpTracker t;
    for (std::size_t side = 0; side < 2; ++side) {
        const Saved::Side& s = saved.sides[side];
        if (s.scale > max_window_shift || (s.flags & ~(offered_scale | acked | fin_sent)) != 0) return std::nullopt;
        t.peers_[side] = {s.end, s.max_end, s.max_window, s.max_ack};
        t.facts_[side] = {s.scale, s.flags};
    }
    t.state_ = TcpState(saved.state);
    return t;
}

bool TcpTracker::sequence_in_flight(FlowDirection from, std::uint32_t sequence) const noexcept {
    std::size_t sender = std::size_t(from), receiver = 1 - sender;
    const Peer& p = peers_[sender];
    // Before the receiver acknowledged anything, what the sender may have in flight is bounded
    // by the receiver's largest window (unheard yet: by an unscaled window's largest).
    std::uint32_t window = peers_[receiver].max_window != 0 ? peers_[receiver].max_window : 0xffff;
    std::uint32_t lowest = has(receiver, acked) ? peers_[receiver].max_ack : p.end - window;
    return !before(sequence, lowest) && !after(sequence, p.end);
}

}  // namespace gw

// The states of a tracked TCP connection as seen from the middle of the path, named
// after netfilter's TCP_CONNTRACK_* (nf_conntrack_proto_tcp.c) so that our logs read
// like `conntrack -L`, and the idle-timeout class each state is under. One table
// holds all three (name, timeout class, description); everything else derives from it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gw {

// Which idle timeout the firewall applies to a TCP flow. RFC 5382 REQ-5 asks for
// >= 2 h 4 min once established and >= 4 min while "partially open or closing"; we
// keep closing apart from opening so that the firewall may configure them separately
// (netfilter: SYN_SENT 2 min, CLOSE_WAIT 60 s, CLOSE 10 s).
enum class TcpTimeoutClass : std::uint8_t { transitory, established, closing };

// Column order: enum name, timeout class, what the tracker has seen.
#define GW_TCP_STATES(X)                                                                           \
    X(syn_sent, transitory, "SYN from the original side, no answer yet")                           \
    X(syn_received, transitory, "SYN-ACK seen, handshake not yet acknowledged")                    \
    X(established, established, "handshake complete, no FIN yet")                                  \
    X(fin_wait, closing, "one side sent FIN, not yet acknowledged")                                \
    X(close_wait, closing, "one side's FIN acknowledged: half-closed, the other side may still send") \
    X(last_ack, closing, "both sides sent FIN, not both acknowledged")                             \
    X(time_wait, closing, "both FINs sent and acknowledged")                                       \
    X(closed, closing, "reset by an RST at the expected sequence")                                 \
    X(syn_sent2, transitory, "SYN from both sides: simultaneous open (RFC 793 figure 8)")

enum class TcpState : std::uint8_t {
#define GW_TCP_STATE_ENUM(name, timeout, description) name,
    GW_TCP_STATES(GW_TCP_STATE_ENUM)
#undef GW_TCP_STATE_ENUM
    count_
};

inline constexpr std::size_t tcp_state_count = std::size_t(TcpState::count_);

struct TcpStateInfo {
    std::string_view name;
    TcpTimeoutClass timeout_class;
    std::string_view description;
};

inline constexpr std::array<TcpStateInfo, tcp_state_count> tcp_state_table{{
#define GW_TCP_STATE_INFO(name, timeout, description) {#name, TcpTimeoutClass::timeout, description},
    GW_TCP_STATES(GW_TCP_STATE_INFO)
#undef GW_TCP_STATE_INFO
}};

constexpr std::string_view tcp_state_name(TcpState state) { return tcp_state_table[std::size_t(state)].name; }

constexpr std::string_view tcp_state_description(TcpState state) {
    return tcp_state_table[std::size_t(state)].description;
}

constexpr TcpTimeoutClass tcp_timeout_class(TcpState state) {
    return tcp_state_table[std::size_t(state)].timeout_class;
}

}  // namespace gw

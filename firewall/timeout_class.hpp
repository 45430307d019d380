// Which idle timeout applies to a flow of either address family; also the idle list the
// flow sits on (flow_table_core.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "firewall/tcp_state.hpp"
#include "nat/mapping.hpp"
#include "nat/nat_config.hpp"

namespace gw {

// The numbers are written in flow snapshots (flow_snapshot.hpp): tcp_opening keeps the
// number of the old tcp_transitory and tcp_closing comes last; a restore recomputes a TCP
// flow's class from its tracker anyway (engine_handover.cpp, ipv6_handover.cpp).
enum class TimeoutClass : std::uint8_t { udp, icmp, tcp_opening, tcp_established, tcp_closing, count_ };

// A TCP flow's class from its tracker's state (RFC 5382 REQ-5: only an established
// connection earns the long timeout; RFC 7857 §2.1: opening and closing apart).
constexpr TimeoutClass tcp_flow_timeout_class(TcpTimeoutClass c) {
    switch (c) {
        case TcpTimeoutClass::established: return TimeoutClass::tcp_established;
        case TcpTimeoutClass::closing: return TimeoutClass::tcp_closing;
        case TcpTimeoutClass::transitory: break;
    }
    return TimeoutClass::tcp_opening;
}

using ClassTimeouts = std::array<Instant, std::size_t(TimeoutClass::count_)>;

// One set of RFC timeouts for every flow, IPv4's and IPv6's alike (nat.timeouts).
inline ClassTimeouts class_timeouts(const NatTimeouts& t) {
    ClassTimeouts timeouts{};
    timeouts[std::size_t(TimeoutClass::udp)] = std::chrono::seconds(t.udp);
    timeouts[std::size_t(TimeoutClass::icmp)] = std::chrono::seconds(t.icmp);
    timeouts[std::size_t(TimeoutClass::tcp_opening)] = std::chrono::seconds(t.tcp_opening);
    timeouts[std::size_t(TimeoutClass::tcp_closing)] = std::chrono::seconds(t.tcp_closing);
    timeouts[std::size_t(TimeoutClass::tcp_established)] = std::chrono::seconds(t.tcp_established);
    return timeouts;
}

}  // namespace gw

// Which idle timeout applies to a flow of either address family; also the idle list the
// flow sits on (flow_table_core.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "nat/mapping.hpp"
#include "nat/nat_config.hpp"

namespace gw {

enum class TimeoutClass : std::uint8_t { udp, icmp, tcp_transitory, tcp_established, count_ };

using ClassTimeouts = std::array<Instant, std::size_t(TimeoutClass::count_)>;

// One set of RFC timeouts for every flow, IPv4's and IPv6's alike (nat.timeouts).
inline ClassTimeouts class_timeouts(const NatTimeouts& t) {
    ClassTimeouts timeouts{};
    timeouts[std::size_t(TimeoutClass::udp)] = std::chrono::seconds(t.udp);
    timeouts[std::size_t(TimeoutClass::icmp)] = std::chrono::seconds(t.icmp);
    timeouts[std::size_t(TimeoutClass::tcp_transitory)] = std::chrono::seconds(t.tcp_transitory);
    timeouts[std::size_t(TimeoutClass::tcp_established)] = std::chrono::seconds(t.tcp_established);
    return timeouts;
}

}  // namespace gw

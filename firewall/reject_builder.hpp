// What a `reject` rule answers with: a TCP RST for TCP (RFC 793 "reset generation"),
// an ICMP destination unreachable otherwise (port unreachable for UDP, administratively
// prohibited for the rest, RFC 1812 5.2.7.1). Built from the packet as it arrived,
// so the answer comes from the address the sender talked to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gw {

// Writes the answer into `out` and returns its length, or 0 when none is due (never
// answer an RST, an ICMP error or a fragment: RFC 1122 3.2.2 and loop avoidance).
std::size_t build_reject(std::span<const std::uint8_t> offending, std::span<std::uint8_t> out) noexcept;

inline constexpr std::size_t max_reject_size = 20 + 8 + 60 + 8;  // IP + ICMP + quoted header + 8 bytes

}  // namespace gw

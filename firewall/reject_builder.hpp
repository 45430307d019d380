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

// RFC 5508 REQ-8: the answer to a LAN host whose packet no NAT mapping could be made for
// (EngineResult::unreachable): an ICMP destination unreachable, administratively
// prohibited (code 13) whatever the protocol, from the gateway itself. Its source address
// is left 0.0.0.0 for the kernel to fill in (raw(7), IP_HDRINCL): the gateway's address
// on the route to the host, its LAN address. 0 when none is due, as above.
std::size_t build_no_mapping_unreachable(std::span<const std::uint8_t> offending, std::span<std::uint8_t> out) noexcept;

inline constexpr std::size_t max_reject_size = 20 + 8 + 60 + 8;  // IP + ICMP + quoted header + 8 bytes

}  // namespace gw

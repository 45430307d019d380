// What a `reject` rule answers an IPv6 packet with: a TCP RST for TCP (RFC 793 reset
// generation), an ICMPv6 Destination Unreachable otherwise — port unreachable (code 4)
// for UDP, administratively prohibited (code 1) for the rest (RFC 4443 §3.1). Built from
// the packet as it arrived, from the address the sender talked to; no NAT for IPv6, so
// that is the LAN or remote host itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gw {

// RFC 4443 §2.4 (c): an ICMPv6 error carries as much of the invoking packet as fits in
// the minimum IPv6 MTU.
inline constexpr std::size_t max_ipv6_reject_size = 1280;

// Writes the answer into `out` (at least max_ipv6_reject_size bytes) and returns its
// length, or 0 when none is due: never to an RST, an ICMPv6 error or informational
// message other than an echo request, a later fragment, or a multicast or unspecified
// source (RFC 4443 §2.4 (e)).
std::size_t build_ipv6_reject(std::span<const std::uint8_t> offending, std::span<std::uint8_t> out) noexcept;

}  // namespace gw

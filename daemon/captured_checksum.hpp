// The TCP/UDP checksum of a packet as a capture holds it. A capture taken on the sending
// host with TX checksum offload holds what the kernel handed the device: for a
// CHECKSUM_PARTIAL packet (tcp_v4_send_check, udp4_hwcsum, their IPv6 twins) the field
// holds the pseudo-header sum, folded and NOT complemented, and the device was to add
// the payload. tcpdump calls those "incorrect"; gatewayd --replay recognises them and
// gives them to the engine as L4Checksum::pseudo_header_only, as the live daemon does
// for packets the queue marks NFQA_SKB_CSUMNOTREADY.
#pragma once

#include <cstdint>
#include <span>

namespace gw {

enum class CapturedChecksum : std::uint8_t {
    complete,  // verifies, or nothing to verify (not TCP/UDP, a fragment, UDP's 0 = none, unparsable)
    partial,   // the field is the pseudo-header sum: offloaded (0 and 0xffff being one value)
    failed,    // neither: corrupted, or forged
};

// Judges an IPv4 or IPv6 packet's TCP/UDP checksum (whole, unfragmented packets only).
CapturedChecksum judge_captured_checksum(std::span<std::uint8_t> packet) noexcept;

// Makes the field the pseudo-header sum (for a checksum trusted although it failed:
// it is then finished like a partial one). False when there is no field to set.
bool make_checksum_partial(std::span<std::uint8_t> packet) noexcept;

// Finishes a partial checksum as skb_checksum_help() would: sum the transport bytes
// with the field as it is, complement, store (IPv4 through finish_partial_checksum).
bool finish_captured_checksum(std::span<std::uint8_t> packet) noexcept;

}  // namespace gw

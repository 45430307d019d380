// In-place rewrites of addresses, ports and ICMP echo identifiers that keep every
// checksum right by incremental update (RFC 1624), never by recomputation.
#pragma once

#include "checksum.hpp"
#include "packet_view.hpp"

namespace gw {

enum class Side : std::uint8_t { source, destination };

// State of the TCP/UDP checksum field as the packet was handed to us.
enum class L4Checksum : std::uint8_t {
    complete,  // a finished checksum (or UDP's 0 = none)
    // CHECKSUM_PARTIAL (NFQA_SKB_CSUMNOTREADY): the field holds only the pseudo-header
    // sum and the kernel adds the payload after us, so only address changes (which are
    // in the pseudo-header) may touch it; port changes must not.
    pseudo_header_only,
};

// Rewrites the address on one side of the IP header and, on the same side, the TCP/UDP
// port, or the identifier of an ICMP echo (which has no sides). Returns every change
// made to the packet's bytes, words and checksum fields alike, so a caller holding an
// enclosing checksum (the ICMP error quoting this datagram) can update it in turn.
ChecksumDelta rewrite_endpoint(PacketView& packet, Side side, Endpoint to, L4Checksum state) noexcept;

// Rewrites only the address on one side (later fragments carry no transport header;
// ICMP errors carry no pseudo-header). Returns the changes as above.
ChecksumDelta rewrite_address(PacketView& packet, Side side, Ipv4Address to) noexcept;

// The port on one side, or the echo identifier; false when the packet has neither.
bool read_port(const PacketView& packet, Side side, Port& port) noexcept;

bool is_icmp_echo(const PacketView& packet) noexcept;
// Destination unreachable, time exceeded, parameter problem: the errors RFC 5508 REQ-3
// says are translated for a known flow.
bool is_icmp_error(const PacketView& packet) noexcept;

}  // namespace gw

namespace gw {

// Completes the TCP/UDP checksum of a packet whose field holds only the pseudo-header
// sum (CHECKSUM_PARTIAL), exactly as the kernel's skb_checksum_help() would: sum the
// transport bytes with the field as it is, complement, store. Needed because
// nfnetlink_queue marks every packet it gets back rewritten as CHECKSUM_NONE, so
// nothing after us would finish it. Returns false when the packet is not TCP/UDP.
bool finish_partial_checksum(std::span<std::uint8_t> datagram) noexcept;

}  // namespace gw

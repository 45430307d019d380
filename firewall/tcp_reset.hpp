// The TCP header of a reset answering a segment, for both families' `reject` answers
// (reject_builder.cpp, ipv6_reject_builder.cpp): they differ only in the IP header and
// the checksum's pseudo header, which each writes itself.
#pragma once

#include <cstdint>

#include "nat/wire_headers.hpp"

namespace gw {

// RFC 793 "reset generation": never a reset to a reset (false, nothing written).
// Otherwise writes every field of `reset` but the checksum (left 0), from `offending`,
// whose data (after its header) is `payload_length` bytes long.
bool write_tcp_reset(const wire::TcpHeader& offending, std::uint32_t payload_length, wire::TcpHeader& reset) noexcept;

}  // namespace gw

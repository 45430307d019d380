// The client side of NAT-PMP (RFC 6886), as gatewayd speaks it to the NAT upstream of its
// WAN (issue 19): reading what came back for a request. Pure: the socket and the
// retransmissions are daemon/upstream_natpmp_client.cpp's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "base/expected.hpp"
#include "igd/natpmp_message.hpp"
#include "igd/upstream_client.hpp"

namespace gw {

struct NatPmpAddressAnswer {
    Ipv4Address external_address;
    std::uint32_t epoch_seconds = 0;
};

struct NatPmpMappingAnswer {
    Port external_port;
    std::uint32_t lifetime_seconds = 0;
    std::uint32_t epoch_seconds = 0;
};

// nullopt: not the answer to that request (another opcode or internal port, or not
// NAT-PMP): keep waiting. A result code other than success is `refused` with the RFC's
// name: NAT-PMP has no "port taken" (§3.3: the server picks another port instead).
std::optional<Expected<NatPmpAddressAnswer, UpstreamFailure>> read_natpmp_address_answer(
    std::span<const std::uint8_t> datagram);
std::optional<Expected<NatPmpMappingAnswer, UpstreamFailure>> read_natpmp_mapping_answer(
    const NatPmpMappingRequest& request, std::span<const std::uint8_t> datagram);

}  // namespace gw

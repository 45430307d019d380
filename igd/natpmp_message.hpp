// NAT-PMP (RFC 6886) messages on the wire: the requests a client sends to UDP 5351 and
// the responses and announcements the gateway sends back. Pure: bytes in, values out
// (and the reverse); every field is big-endian on the wire and converted here only.
//
// Request layouts (RFC 6886 §3.2, §3.3):
//   external address:  version(1)=0 opcode(1)=0
//   mapping:           version(1)=0 opcode(1)=1 UDP|2 TCP reserved(2) internal port(2)
//                      suggested external port(2) requested lifetime seconds(4)
// Response layouts (§3.2, §3.3, §3.5): version 0, opcode 128 + the request's, result
// code(2), seconds since start of epoch(4), then
//   external address:  external IPv4 address(4)                                 = 12 bytes
//   mapping:           internal port(2) mapped external port(2) lifetime(4)      = 16 bytes
//   an error about the request itself (unsupported version or opcode): nothing = 8 bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "base/expected.hpp"
#include <vector>

#include "nat/endpoint.hpp"
#include "nat/mapping.hpp"

namespace gw {

inline constexpr std::uint16_t natpmp_server_port = 5351;
inline constexpr std::uint16_t natpmp_client_port = 5350;  // where announcements go (§3.2.1)
inline constexpr std::uint8_t natpmp_version = 0;
inline constexpr std::uint8_t natpmp_response_bit = 0x80;  // opcode of a response = 128 + request's

enum class NatPmpOpcode : std::uint8_t { external_address = 0, map_udp = 1, map_tcp = 2 };

// RFC 6886 §3.5.
enum class NatPmpResult : std::uint16_t {
    success = 0,
    unsupported_version = 1,
    not_authorized = 2,  // "Not Authorized/Refused": permission rules, a port the client may not have
    network_failure = 3,  // no usable external address (not connected, no DHCP lease yet)
    out_of_resources = 4,  // limits reached, no free port
    unsupported_opcode = 5,
};
inline constexpr std::size_t natpmp_result_count = 6;
std::string_view natpmp_result_name(NatPmpResult result);

struct NatPmpExternalAddressRequest {};

struct NatPmpMappingRequest {
    Protocol protocol = Protocol::udp;
    Port internal;
    Port suggested_external;          // 0: any
    std::uint32_t lifetime_seconds = 0;  // 0: delete (§3.4)

    bool operator==(const NatPmpMappingRequest&) const = default;
};

// Why a datagram is not a request this server takes, and therefore how it is answered.
enum class NatPmpProblem : std::uint8_t {
    too_short,                  // under 2 bytes: no version and opcode to answer to; ignored
    response_opcode,            // opcode >= 128 is a response, silently ignored (§3.5)
    unsupported_version,        // version != 0: answered with result 1 (§3.5)
    unsupported_opcode,         // opcode 3-127: answered with result 5 (§3.5)
    truncated_mapping_request,  // opcode 1 or 2 in under 12 bytes: ignored, as miniupnpd does
};
std::string_view natpmp_problem_name(NatPmpProblem problem);

struct NatPmpDecodeError {
    NatPmpProblem problem;
    std::uint8_t opcode = 0;  // the request's (0 when too short)
};

using NatPmpRequest = std::variant<NatPmpExternalAddressRequest, NatPmpMappingRequest>;
using NatPmpDecoded = Expected<NatPmpRequest, NatPmpDecodeError>;

// Extra bytes after a complete request are ignored; the reserved field of a mapping
// request is ignored on reception (§3.3: "MUST be ignored").
NatPmpDecoded decode_natpmp_request(std::span<const std::uint8_t> datagram);

// 12 bytes. Also the unsolicited announcement (§3.2.1) with result success.
std::vector<std::uint8_t> encode_natpmp_external_address_response(NatPmpResult result, std::uint32_t epoch_seconds,
                                                                  Ipv4Address external_address);
// 16 bytes; `protocol` picks the opcode (129 UDP, 130 TCP).
std::vector<std::uint8_t> encode_natpmp_mapping_response(Protocol protocol, NatPmpResult result,
                                                         std::uint32_t epoch_seconds, Port internal,
                                                         Port mapped_external, std::uint32_t lifetime_seconds);
// 8 bytes: version 0, opcode 128 + `request_opcode` (its low 7 bits), result, epoch.
std::vector<std::uint8_t> encode_natpmp_header_response(std::uint8_t request_opcode, NatPmpResult result,
                                                        std::uint32_t epoch_seconds);

// The client side (issue 19: gatewayd asking the NAT upstream of its WAN).
std::vector<std::uint8_t> encode_natpmp_external_address_request();  // 2 bytes: 0, 0
std::vector<std::uint8_t> encode_natpmp_mapping_request(const NatPmpMappingRequest& request);  // 12 bytes

struct NatPmpExternalAddressResponse {
    NatPmpResult result = NatPmpResult::success;
    std::uint32_t epoch_seconds = 0;
    Ipv4Address external_address;
    bool operator==(const NatPmpExternalAddressResponse&) const = default;
};
struct NatPmpMappingResponse {
    Protocol protocol = Protocol::udp;
    NatPmpResult result = NatPmpResult::success;
    std::uint32_t epoch_seconds = 0;
    Port internal;
    Port mapped_external;
    std::uint32_t lifetime_seconds = 0;
    bool operator==(const NatPmpMappingResponse&) const = default;
};
// An error about the request itself (unsupported version or opcode): the 8-byte header.
struct NatPmpHeaderResponse {
    std::uint8_t request_opcode = 0;
    NatPmpResult result = NatPmpResult::success;
    std::uint32_t epoch_seconds = 0;
    bool operator==(const NatPmpHeaderResponse&) const = default;
};
using NatPmpResponse = std::variant<NatPmpExternalAddressResponse, NatPmpMappingResponse, NatPmpHeaderResponse>;

// nullopt: not a NAT-PMP response (another version, a request, too short for its opcode,
// a result code RFC 6886 does not define).
std::optional<NatPmpResponse> decode_natpmp_response(std::span<const std::uint8_t> datagram);

}  // namespace gw

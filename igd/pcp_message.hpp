// Port Control Protocol (RFC 6887) messages: the wire format only, decoded into typed
// fields and encoded back, byte for byte as the RFC lays them out. What a request means
// (which mapping it grants) is igd/pcp_responder.hpp's job.
//
// Every multi-octet field is in network order on the wire and in host order here;
// addresses stay 16 octets (Ipv6Address), IPv4 ones in their IPv4-mapped form
// ::ffff:a.b.c.d (RFC 6887 §5). Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "base/expected.hpp"
#include <vector>

#include "igd/port_mapping.hpp"
#include "nat/endpoint.hpp"
#include "nat/ipv6_address.hpp"

namespace gw {

inline constexpr std::uint8_t pcp_version = 2;
inline constexpr std::uint16_t pcp_server_port = 5351;
inline constexpr std::uint16_t pcp_client_port = 5350;  // where unsolicited ANNOUNCEs go (§14.1.3)
inline constexpr std::size_t pcp_header_size = 24;
inline constexpr std::size_t pcp_max_message_size = 1100;  // §7: requests and responses alike
inline constexpr std::uint8_t pcp_response_bit = 0x80;     // the R bit of the opcode octet

enum class PcpOpcode : std::uint8_t { announce = 0, map = 1, peer = 2 };

// Opcode-specific data sizes (§11.1, §12.1); ANNOUNCE has none (§14.1).
inline constexpr std::size_t pcp_map_data_size = 36;
inline constexpr std::size_t pcp_peer_data_size = 56;

// RFC 6887 §7.4: every result code the RFC defines (the IANA registry holds no others).
enum class PcpResult : std::uint8_t {
    success = 0,
    unsupp_version = 1,
    not_authorized = 2,
    malformed_request = 3,
    unsupp_opcode = 4,
    unsupp_option = 5,
    malformed_option = 6,
    network_failure = 7,
    no_resources = 8,
    unsupp_protocol = 9,
    user_ex_quota = 10,
    cannot_provide_external = 11,
    address_mismatch = 12,
    excessive_remote_peers = 13,
};
inline constexpr std::size_t pcp_result_count = 14;

// "SUCCESS", "NOT_AUTHORIZED"...: the RFC's names, for logs and tests.
std::string_view pcp_result_name(PcpResult result);
// §7.4 calls each error a long or a short lifetime error: the short ones (NETWORK_FAILURE,
// NO_RESOURCES, USER_EX_QUOTA, CANNOT_PROVIDE_EXTERNAL) may go away by themselves.
bool is_short_lifetime_error(PcpResult result);

enum class PcpOptionCode : std::uint8_t { third_party = 1, prefer_failure = 2, filter = 3 };
// §7.3: the most significant bit of an option code says whether a server that does not
// know the option must refuse the request (0-127) or may ignore the option (128-255).
inline constexpr bool pcp_option_is_optional(std::uint8_t code) { return code >= 128; }

// FILTER (§13.3): let in only this remote peer (prefix) and port; prefix 0 = no filter.
// The prefix counts bits of the 128-bit field: an IPv4 /32 is 128, an IPv4 /24 is 120.
struct PcpFilter {
    std::uint8_t prefix_length = 0;
    Port remote_port;  // 0 = every port
    Ipv6Address remote_address;
    bool operator==(const PcpFilter&) const = default;
};

// The options this server knows, in the order the request gave them where order
// matters (FILTER). Unknown optional options are not kept (they are ignored).
struct PcpOptions {
    std::optional<Ipv6Address> third_party;  // THIRD_PARTY (§13.1): the internal host's address
    bool prefer_failure = false;             // PREFER_FAILURE (§13.2)
    std::vector<PcpFilter> filters;          // FILTER (§13.3), any number
    bool operator==(const PcpOptions&) const = default;
};

// MAP's opcode data (§11.1). In a request the external fields are the client's
// suggestion; in a response, what was assigned (on an error, the suggestion copied).
struct PcpMapData {
    PcpNonce nonce{};
    std::uint8_t protocol = 0;  // IANA protocol number; 0 = all protocols
    Port internal_port;         // 0 = all ports
    Port external_port;
    Ipv6Address external_address;
    bool operator==(const PcpMapData&) const = default;
};

// PEER's opcode data (§12.1): MAP's fields and the remote peer.
struct PcpPeerData {
    PcpMapData map;
    Port remote_port;
    Ipv6Address remote_address;
    bool operator==(const PcpPeerData&) const = default;
};

using PcpOpcodeData = std::variant<std::monostate, PcpMapData, PcpPeerData>;  // monostate: ANNOUNCE

struct PcpRequest {
    PcpOpcode opcode = PcpOpcode::announce;
    std::uint32_t requested_lifetime = 0;
    Ipv6Address client_address;  // the PCP client's IP address field of the header
    PcpOpcodeData data;
    PcpOptions options;
    bool operator==(const PcpRequest&) const = default;
};

// Why a request could not be decoded. `result` nullopt: drop it silently (§8.2: fewer
// than 2 octets, or the R bit set: a response sent to us, or our own looped back).
struct PcpDecodeError {
    std::optional<PcpResult> result;
    std::string reason;  // for the log: "message of 30 octets is not a multiple of 4"
};

// Decodes a request as §8.2 validates it, in its order: size and R bit, version
// (UNSUPP_VERSION), length rules (MALFORMED_REQUEST), opcode (UNSUPP_OPCODE), opcode
// data, then each option in turn (UNSUPP_OPTION for an unknown mandatory one,
// MALFORMED_OPTION for a bad length, a repeat beyond its maximum, or an opcode it is
// not valid for). The first problem wins.
Expected<PcpRequest, PcpDecodeError> decode_pcp_request(std::span<const std::uint8_t> message);

// A response (§7.2) with the opcode data and options given. Used for successes;
// errors are encode_pcp_error_response.
struct PcpResponse {
    PcpOpcode opcode = PcpOpcode::announce;
    PcpResult result = PcpResult::success;
    std::uint32_t lifetime = 0;
    std::uint32_t epoch_seconds = 0;
    PcpOpcodeData data;
    PcpOptions options;  // the options processed, echoed (§13: "may appear in response")
    bool operator==(const PcpResponse&) const = default;
};
std::vector<std::uint8_t> encode_pcp_response(const PcpResponse& response);

// An error response: the request copied whole (opcode data and every option, §7.3:
// "a complete copy of the request packet"), under a response header with `result`.
// A request whose length breaks the size rules gets the response header alone (a copy
// would break them too). `request` must hold at least the 2 octets decode needs.
std::vector<std::uint8_t> encode_pcp_error_response(std::span<const std::uint8_t> request, PcpResult result,
                                                    std::uint32_t lifetime, std::uint32_t epoch_seconds);

// The ANNOUNCE response a server multicasts to 224.0.0.1:5350 and [ff02::1]:5350 when it
// starts or loses its state (§14.1.3): SUCCESS, lifetime 0, the new epoch.
std::vector<std::uint8_t> encode_pcp_unsolicited_announce(std::uint32_t epoch_seconds);

// A request as a client sends it: what the tests, the fuzz seeds and the lab build
// requests with (options in the order: THIRD_PARTY, PREFER_FAILURE, FILTERs).
std::vector<std::uint8_t> encode_pcp_request(const PcpRequest& request);

// Decodes a response (tests and the lab check answers with it). nullopt when it is
// not a well-formed PCP response.
std::optional<PcpResponse> decode_pcp_response(std::span<const std::uint8_t> message);

// ::ffff:a.b.c.d, and back (nullopt for an address that is not IPv4-mapped).
Ipv6Address pcp_address_of(Ipv4Address address);
std::optional<Ipv4Address> ipv4_of_pcp_address(const Ipv6Address& address);
// The all-zeros address of either family (§5: "::" or "::ffff:0.0.0.0"): no suggestion.
bool is_pcp_unspecified(const Ipv6Address& address);

}  // namespace gw

// STUN Binding (RFC 5389): the request gatewayd sends to learn the address the internet
// sees it as, and the decoder of the answer. Pure: bytes in, values out; the socket,
// the clock and the retransmissions are daemon/stun_client's.
//
// The decoder takes the answers of RFC 5389 servers (XOR-MAPPED-ADDRESS) and of RFC 3489
// ones (MAPPED-ADDRESS, CHANGED-ADDRESS): a 3489 server echoes the 16 bytes after the
// type and length whole, so our magic cookie comes back in its transaction id and the
// same check covers both. Every refusal is a StunProblem value with its reason.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nat/endpoint.hpp"

namespace gw {

inline constexpr std::uint32_t stun_magic_cookie = 0x2112A442;  // RFC 5389 section 6
inline constexpr std::size_t stun_header_bytes = 20;
using StunTransactionId = std::array<std::uint8_t, 12>;  // 96 bits, chosen by the caller (random)

// RFC 5780 section 7.2 (RFC 3489 section 11.2.4): ask the server to answer from its
// other address and/or port, which tests how the NATs upstream filter.
struct StunChangeRequest {
    bool change_address = false;
    bool change_port = false;
};

// A Binding Request: the header, plus CHANGE-REQUEST when one is asked for.
std::vector<std::uint8_t> encode_stun_binding_request(const StunTransactionId& id,
                                                      std::optional<StunChangeRequest> change = std::nullopt);

enum class StunProblem : std::uint8_t {
    too_short,                    // under 20 bytes: not even a header
    not_stun,                     // the first two bits are not 0, or the length is not a multiple of 4
    length_mismatch,              // the header's length is not the datagram's
    not_a_binding_response,       // another method or class (a request, an indication)
    wrong_transaction,            // cookie or transaction id not ours: a stray or forged answer
    truncated_attribute,          // an attribute runs past the message
    unknown_required_attribute,   // comprehension-required (type < 0x8000) and unknown: RFC 5389 7.3.3
    bad_address_attribute,        // an address attribute of the wrong length or family
    bad_fingerprint,              // FINGERPRINT present and wrong, or not last (RFC 5389 15.5)
    no_mapped_address,            // a success response without any mapped address
    error_response,               // the server answered with ERROR-CODE (code and reason given)
};
std::string_view stun_problem_name(StunProblem problem);

struct StunBindingSuccess {
    Endpoint mapped;                       // where the server saw the request come from
    bool xor_mapped = false;               // from XOR-MAPPED-ADDRESS (RFC 5389), else MAPPED-ADDRESS (RFC 3489)
    std::optional<Endpoint> other_address; // OTHER-ADDRESS (RFC 5780) or CHANGED-ADDRESS (RFC 3489)
};

struct StunFailure {
    StunProblem problem;
    int error_code = 0;      // error_response: class * 100 + number (RFC 5389 15.6)
    std::string reason;      // error_response: the server's reason phrase
};

using StunBindingResult = std::variant<StunBindingSuccess, StunFailure>;

// Decodes one datagram as the answer to the request with `expected`.
StunBindingResult decode_stun_binding_response(std::span<const std::uint8_t> datagram,
                                               const StunTransactionId& expected);

// "no_mapped_address", or "error_response 420 Unknown Attribute": for logs and status.
std::string describe(const StunFailure& failure);

}  // namespace gw

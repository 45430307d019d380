#include "nat/stun_message.hpp"

#include <algorithm>

namespace gw {
namespace {

constexpr std::uint16_t binding_request = 0x0001;
constexpr std::uint16_t binding_success = 0x0101;
constexpr std::uint16_t binding_error = 0x0111;

// RFC 5389 section 18.2, RFC 3489 section 11.2, RFC 5780 section 7.
enum : std::uint16_t {
    mapped_address = 0x0001,
    response_address = 0x0002,      // RFC 3489
    change_request = 0x0003,        // RFC 3489, RFC 5780
    source_address = 0x0004,        // RFC 3489
    changed_address = 0x0005,       // RFC 3489
    username = 0x0006,
    password = 0x0007,              // RFC 3489
    message_integrity = 0x0008,
    error_code = 0x0009,
    unknown_attributes = 0x000A,
    reflected_from = 0x000B,        // RFC 3489
    realm = 0x0014,
    nonce = 0x0015,
    xor_mapped_address = 0x0020,
    padding = 0x0026,               // RFC 5780
    response_port = 0x0027,         // RFC 5780
    // Comprehension-optional (0x8000 and up) are skipped whatever they are; these are read.
    xor_mapped_address_draft = 0x8020,  // pre-RFC servers (draft-ietf-behave-rfc3489bis-02)
    fingerprint = 0x8028,
    other_address = 0x802C,         // RFC 5780
};

constexpr std::uint32_t fingerprint_xor = 0x5354554e;  // RFC 5389 section 15.5: "STUN"

std::uint16_t read16(std::span<const std::uint8_t> b, std::size_t at) { return std::uint16_t(b[at] << 8 | b[at + 1]); }
std::uint32_t read32(std::span<const std::uint8_t> b, std::size_t at) {
    return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(std::uint8_t(v >> 8));
    out.push_back(std::uint8_t(v));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    put16(out, std::uint16_t(v >> 16));
    put16(out, std::uint16_t(v));
}

// CRC-32 (ISO HDLC, as zlib): what FINGERPRINT carries.
std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
    std::uint32_t crc = 0xffffffff;
    for (std::uint8_t byte : bytes) {
        crc ^= byte;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320 & (0u - (crc & 1)));
    }
    return ~crc;
}

bool understood(std::uint16_t type) {
    switch (type) {
        case mapped_address: case response_address: case change_request: case source_address:
        case changed_address: case username: case password: case message_integrity: case error_code:
        case unknown_attributes: case reflected_from: case realm: case nonce: case xor_mapped_address:
        case padding: case response_port:
            return true;
        default: return type >= 0x8000;  // comprehension-optional: may be ignored
    }
}

// An IPv4 address attribute (RFC 5389 15.1): reserved byte, family 0x01, port, address.
// With `xored`, port and address are XORed with the magic cookie (15.2).
std::optional<Endpoint> address_value(std::span<const std::uint8_t> value, bool xored) {
    if (value.size() != 8 || value[1] != 0x01) return std::nullopt;  // 0x02 (IPv6) cannot answer an IPv4 request
    std::uint16_t port = read16(value, 2);
    std::uint32_t address = read32(value, 4);
    if (xored) {
        port ^= std::uint16_t(stun_magic_cookie >> 16);
        address ^= stun_magic_cookie;
    }
    return Endpoint{Ipv4Address(address), Port{port}};
}

StunFailure failed(StunProblem problem) { return StunFailure{problem, 0, {}}; }

}  // namespace

std::vector<std::uint8_t> encode_stun_binding_request(const StunTransactionId& id, std::optional<StunChangeRequest> change) {
    std::vector<std::uint8_t> out;
    out.reserve(stun_header_bytes + 8);
    put16(out, binding_request);
    put16(out, change ? 8 : 0);
    put32(out, stun_magic_cookie);
    out.insert(out.end(), id.begin(), id.end());
    if (change) {
        put16(out, change_request);
        put16(out, 4);
        put32(out, (change->change_address ? 0x4u : 0u) | (change->change_port ? 0x2u : 0u));
    }
    return out;
}

std::string_view stun_problem_name(StunProblem problem) {
    switch (problem) {
        case StunProblem::too_short: return "too_short";
        case StunProblem::not_stun: return "not_stun";
        case StunProblem::length_mismatch: return "length_mismatch";
        case StunProblem::not_a_binding_response: return "not_a_binding_response";
        case StunProblem::wrong_transaction: return "wrong_transaction";
        case StunProblem::truncated_attribute: return "truncated_attribute";
        case StunProblem::unknown_required_attribute: return "unknown_required_attribute";
        case StunProblem::bad_address_attribute: return "bad_address_attribute";
        case StunProblem::bad_fingerprint: return "bad_fingerprint";
        case StunProblem::no_mapped_address: return "no_mapped_address";
        case StunProblem::error_response: return "error_response";
    }
    return "unknown";
}

std::string describe(const StunFailure& failure) {
    std::string text(stun_problem_name(failure.problem));
    if (failure.problem == StunProblem::error_response)
        text += " " + std::to_string(failure.error_code) + (failure.reason.empty() ? "" : " " + failure.reason);
    return text;
}

StunBindingResult decode_stun_binding_response(std::span<const std::uint8_t> m, const StunTransactionId& expected) {
    if (m.size() < stun_header_bytes) return failed(StunProblem::too_short);
    const std::uint16_t type = read16(m, 0), length = read16(m, 2);
    // RFC 5389 section 6: the two top bits are zero and attributes keep 4-byte alignment.
    if ((type & 0xC000) != 0 || length % 4 != 0) return failed(StunProblem::not_stun);
    if (std::size_t(length) + stun_header_bytes != m.size()) return failed(StunProblem::length_mismatch);
    if (type != binding_success && type != binding_error) return failed(StunProblem::not_a_binding_response);
    // The cookie is ours too: a 3489 server echoes it as part of its 128-bit id.
    if (read32(m, 4) != stun_magic_cookie || !std::equal(expected.begin(), expected.end(), m.begin() + 8))
        return failed(StunProblem::wrong_transaction);

    std::optional<Endpoint> xor_mapped, draft_xor_mapped, plain_mapped, other;
    std::optional<StunFailure> error;
    for (std::size_t at = stun_header_bytes; at < m.size();) {
        if (at + 4 > m.size()) return failed(StunProblem::truncated_attribute);
        const std::uint16_t attribute = read16(m, at), value_length = read16(m, at + 2);
        const std::size_t padded = (std::size_t(value_length) + 3) & ~std::size_t(3);  // RFC 5389 section 15
        if (at + 4 + padded > m.size()) return failed(StunProblem::truncated_attribute);
        auto value = m.subspan(at + 4, value_length);
        if (!understood(attribute)) return failed(StunProblem::unknown_required_attribute);
        switch (attribute) {
            case xor_mapped_address:
            case xor_mapped_address_draft:
            case mapped_address:
            case other_address:
            case changed_address: {
                auto endpoint = address_value(value, attribute == xor_mapped_address || attribute == xor_mapped_address_draft);
                if (!endpoint) return failed(StunProblem::bad_address_attribute);
                if (attribute == xor_mapped_address) xor_mapped = endpoint;
                else if (attribute == xor_mapped_address_draft) draft_xor_mapped = endpoint;
                else if (attribute == mapped_address) plain_mapped = endpoint;
                else if (!other || attribute == other_address) other = endpoint;
                break;
            }
            case error_code:
                if (value.size() < 4) return failed(StunProblem::truncated_attribute);
                error = StunFailure{StunProblem::error_response, (value[2] & 0x07) * 100 + value[3],
                                    std::string(value.begin() + 4, value.end())};
                break;
            case fingerprint:
                if (value.size() != 4 || at + 8 != m.size()) return failed(StunProblem::bad_fingerprint);
                if (read32(value, 0) != (crc32(m.first(at)) ^ fingerprint_xor)) return failed(StunProblem::bad_fingerprint);
                break;
            default: break;
        }
        at += 4 + padded;
    }
    if (type == binding_error) return error ? *error : StunFailure{StunProblem::error_response, 0, {}};
    StunBindingSuccess success;
    success.other_address = other;
    if (xor_mapped || draft_xor_mapped) {
        success.mapped = xor_mapped ? *xor_mapped : *draft_xor_mapped;
        success.xor_mapped = true;
    } else if (plain_mapped) {
        success.mapped = *plain_mapped;
    } else {
        return failed(StunProblem::no_mapped_address);
    }
    return success;
}

}  // namespace gw

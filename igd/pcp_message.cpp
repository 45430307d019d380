#include "igd/pcp_message.hpp"

#include <algorithm>
#include <array>

namespace gw {
namespace {

// Field offsets, as RFC 6887 draws them (§7.1, §7.2, §7.3, §11.1, §12.1, §13).
namespace request_header {
constexpr std::size_t version = 0, opcode = 1, lifetime = 4, client_address = 8;
}
namespace response_header {
constexpr std::size_t version = 0, opcode = 1, result = 3, lifetime = 4, epoch = 8;
}
namespace map_data {  // from the end of the common header
constexpr std::size_t nonce = 0, protocol = 12, internal_port = 16, external_port = 18, external_address = 20;
}
namespace peer_data {  // after MAP's fields
constexpr std::size_t remote_port = 36, remote_address = 40;
}
constexpr std::size_t option_header_size = 4;
constexpr std::size_t third_party_length = 16;
constexpr std::size_t prefer_failure_length = 0;
constexpr std::size_t filter_length = 20;
namespace filter_data {
constexpr std::size_t prefix_length = 1, remote_port = 2, remote_address = 4;
}
// An IPv4 prefix /n is 96+n bits of the IPv4-mapped field (§13.3).
constexpr std::uint8_t ipv4_mapped_prefix_bits = 96;

std::uint16_t load16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return std::uint16_t(bytes[at] << 8 | bytes[at + 1]);
}
std::uint32_t load32(std::span<const std::uint8_t> bytes, std::size_t at) {
    return std::uint32_t(bytes[at]) << 24 | std::uint32_t(bytes[at + 1]) << 16 | std::uint32_t(bytes[at + 2]) << 8 |
           bytes[at + 3];
}
Ipv6Address load_address(std::span<const std::uint8_t> bytes, std::size_t at) {
    Ipv6Address::Bytes raw{};
    std::copy_n(bytes.begin() + std::ptrdiff_t(at), raw.size(), raw.begin());
    return Ipv6Address(raw);
}

void append16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(std::uint8_t(value >> 8));
    out.push_back(std::uint8_t(value));
}
void append32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    append16(out, std::uint16_t(value >> 16));
    append16(out, std::uint16_t(value));
}
void append_address(std::vector<std::uint8_t>& out, const Ipv6Address& address) {
    out.insert(out.end(), address.bytes().begin(), address.bytes().end());
}
void append_zeros(std::vector<std::uint8_t>& out, std::size_t count) { out.insert(out.end(), count, 0); }

bool breaks_size_rules(std::size_t size) {
    return size < pcp_header_size || size > pcp_max_message_size || size % 4 != 0;
}

std::size_t opcode_data_size(PcpOpcode opcode) {
    switch (opcode) {
        case PcpOpcode::announce: return 0;
        case PcpOpcode::map: return pcp_map_data_size;
        case PcpOpcode::peer: return pcp_peer_data_size;
    }
    return 0;
}

PcpMapData decode_map_data(std::span<const std::uint8_t> data) {
    PcpMapData map;
    std::copy_n(data.begin() + map_data::nonce, map.nonce.size(), map.nonce.begin());
    map.protocol = data[map_data::protocol];
    map.internal_port = Port{load16(data, map_data::internal_port)};
    map.external_port = Port{load16(data, map_data::external_port)};
    map.external_address = load_address(data, map_data::external_address);
    return map;
}

PcpOpcodeData decode_opcode_data(PcpOpcode opcode, std::span<const std::uint8_t> data) {
    switch (opcode) {
        case PcpOpcode::announce: return std::monostate{};
        case PcpOpcode::map: return decode_map_data(data);
        case PcpOpcode::peer:
            return PcpPeerData{decode_map_data(data), Port{load16(data, peer_data::remote_port)},
                               load_address(data, peer_data::remote_address)};
    }
    return std::monostate{};
}

std::string option_name(std::uint8_t code) {
    switch (code) {
        case std::uint8_t(PcpOptionCode::third_party): return "THIRD_PARTY";
        case std::uint8_t(PcpOptionCode::prefer_failure): return "PREFER_FAILURE";
        case std::uint8_t(PcpOptionCode::filter): return "FILTER";
    }
    return "option " + std::to_string(code);
}

std::string_view opcode_name(PcpOpcode opcode) {
    switch (opcode) {
        case PcpOpcode::announce: return "ANNOUNCE";
        case PcpOpcode::map: return "MAP";
        case PcpOpcode::peer: return "PEER";
    }
    return "?";
}

// One known option's data into `options`; the refusal when it breaks §13's rules.
Expected<void, PcpDecodeError> decode_known_option(PcpOptionCode code, PcpOpcode opcode,
                                                  std::span<const std::uint8_t> data, PcpOptions& options) {
    auto malformed = [&](const std::string& why) {
        return unexpected(PcpDecodeError{PcpResult::malformed_option, option_name(std::uint8_t(code)) + ": " + why});
    };
    // Valid for opcodes (§13.1-13.3): THIRD_PARTY with MAP and PEER, the others with MAP.
    bool valid_here = opcode == PcpOpcode::map || (opcode == PcpOpcode::peer && code == PcpOptionCode::third_party);
    if (!valid_here) return malformed(std::string("not valid with ") + std::string(opcode_name(opcode)));
    switch (code) {
        case PcpOptionCode::third_party:
            if (data.size() != third_party_length) return malformed("length " + std::to_string(data.size()) + ", not 16");
            if (options.third_party) return malformed("appears more than once");
            options.third_party = load_address(data, 0);
            return {};
        case PcpOptionCode::prefer_failure:
            if (data.size() != prefer_failure_length) return malformed("length " + std::to_string(data.size()) + ", not 0");
            if (options.prefer_failure) return malformed("appears more than once");
            options.prefer_failure = true;
            return {};
        case PcpOptionCode::filter: {
            if (data.size() != filter_length) return malformed("length " + std::to_string(data.size()) + ", not 20");
            PcpFilter filter{data[filter_data::prefix_length], Port{load16(data, filter_data::remote_port)},
                             load_address(data, filter_data::remote_address)};
            // §13.3: at most 128 bits, and an IPv4 prefix is 96 + its IPv4 length.
            if (filter.prefix_length > 128 ||
                (filter.prefix_length != 0 && filter.remote_address.is_v4_mapped() &&
                 filter.prefix_length < ipv4_mapped_prefix_bits))
                return malformed("prefix length " + std::to_string(filter.prefix_length) + " is invalid");
            options.filters.push_back(filter);
            return {};
        }
    }
    return {};
}

// A server refuses what it does not understand; a client reading a response ignores it
// (§7.3: "PCP clients MUST ignore Options that they do not understand").
enum class OptionReader : std::uint8_t { server, client };

Expected<void, PcpDecodeError> decode_options(std::span<const std::uint8_t> bytes, PcpOpcode opcode,
                                              PcpOptions& options, OptionReader reader = OptionReader::server) {
    while (!bytes.empty()) {
        // The message length is a multiple of 4, so a whole option header is always there.
        std::uint8_t code = bytes[0];
        std::size_t length = load16(bytes, 2);
        std::size_t padded = (length + 3) & ~std::size_t(3);
        if (option_header_size + padded > bytes.size())
            return unexpected(PcpDecodeError{PcpResult::malformed_option,
                                  option_name(code) + ": length " + std::to_string(length) + " runs past the message"});
        auto data = bytes.subspan(option_header_size, length);
        if (code >= std::uint8_t(PcpOptionCode::third_party) && code <= std::uint8_t(PcpOptionCode::filter)) {
            auto known = decode_known_option(PcpOptionCode(code), opcode, data, options);
            if (!known && reader == OptionReader::server) return known;
        } else if (!pcp_option_is_optional(code) && reader == OptionReader::server) {
            return unexpected(PcpDecodeError{PcpResult::unsupp_option, "unknown mandatory " + option_name(code)});
        }
        bytes = bytes.subspan(option_header_size + padded);
    }
    return {};
}

void append_option_header(std::vector<std::uint8_t>& out, PcpOptionCode code, std::uint16_t length) {
    out.push_back(std::uint8_t(code));
    out.push_back(0);
    append16(out, length);
}

void append_options(std::vector<std::uint8_t>& out, const PcpOptions& options) {
    if (options.third_party) {
        append_option_header(out, PcpOptionCode::third_party, third_party_length);
        append_address(out, *options.third_party);
    }
    if (options.prefer_failure) append_option_header(out, PcpOptionCode::prefer_failure, prefer_failure_length);
    for (const PcpFilter& filter : options.filters) {
        append_option_header(out, PcpOptionCode::filter, filter_length);
        out.push_back(0);
        out.push_back(filter.prefix_length);
        append16(out, filter.remote_port.value);
        append_address(out, filter.remote_address);
    }
}

void append_map_data(std::vector<std::uint8_t>& out, const PcpMapData& map) {
    out.insert(out.end(), map.nonce.begin(), map.nonce.end());
    out.push_back(map.protocol);
    append_zeros(out, 3);
    append16(out, map.internal_port.value);
    append16(out, map.external_port.value);
    append_address(out, map.external_address);
}

void append_opcode_data(std::vector<std::uint8_t>& out, const PcpOpcodeData& data) {
    if (const auto* map = std::get_if<PcpMapData>(&data)) append_map_data(out, *map);
    if (const auto* peer = std::get_if<PcpPeerData>(&data)) {
        append_map_data(out, peer->map);
        append16(out, peer->remote_port.value);
        append_zeros(out, 2);
        append_address(out, peer->remote_address);
    }
}

std::vector<std::uint8_t> encoded_response_header(std::uint8_t opcode, PcpResult result, std::uint32_t lifetime,
                                          std::uint32_t epoch_seconds) {
    std::vector<std::uint8_t> out;
    out.reserve(pcp_header_size + pcp_peer_data_size);
    out.push_back(pcp_version);
    out.push_back(std::uint8_t(pcp_response_bit | (opcode & 0x7f)));
    out.push_back(0);
    out.push_back(std::uint8_t(result));
    append32(out, lifetime);
    append32(out, epoch_seconds);
    append_zeros(out, 12);
    return out;
}

}  // namespace

std::string_view pcp_result_name(PcpResult result) {
    switch (result) {
        case PcpResult::success: return "SUCCESS";
        case PcpResult::unsupp_version: return "UNSUPP_VERSION";
        case PcpResult::not_authorized: return "NOT_AUTHORIZED";
        case PcpResult::malformed_request: return "MALFORMED_REQUEST";
        case PcpResult::unsupp_opcode: return "UNSUPP_OPCODE";
        case PcpResult::unsupp_option: return "UNSUPP_OPTION";
        case PcpResult::malformed_option: return "MALFORMED_OPTION";
        case PcpResult::network_failure: return "NETWORK_FAILURE";
        case PcpResult::no_resources: return "NO_RESOURCES";
        case PcpResult::unsupp_protocol: return "UNSUPP_PROTOCOL";
        case PcpResult::user_ex_quota: return "USER_EX_QUOTA";
        case PcpResult::cannot_provide_external: return "CANNOT_PROVIDE_EXTERNAL";
        case PcpResult::address_mismatch: return "ADDRESS_MISMATCH";
        case PcpResult::excessive_remote_peers: return "EXCESSIVE_REMOTE_PEERS";
    }
    return "?";
}

bool is_short_lifetime_error(PcpResult result) {
    return result == PcpResult::network_failure || result == PcpResult::no_resources ||
           result == PcpResult::user_ex_quota || result == PcpResult::cannot_provide_external;
}

Ipv6Address pcp_address_of(Ipv4Address address) {
    Ipv6Address::Bytes raw{};
    raw[10] = 0xff;
    raw[11] = 0xff;
    for (int i = 0; i < 4; ++i) raw[12 + std::size_t(i)] = std::uint8_t(address.host_order() >> (24 - 8 * i));
    return Ipv6Address(raw);
}

std::optional<Ipv4Address> ipv4_of_pcp_address(const Ipv6Address& address) {
    if (!address.is_v4_mapped()) return std::nullopt;
    const auto& b = address.bytes();
    return Ipv4Address::from_octets(b[12], b[13], b[14], b[15]);
}

bool is_pcp_unspecified(const Ipv6Address& address) {
    return address.is_unspecified() || address == pcp_address_of(Ipv4Address());
}

Expected<PcpRequest, PcpDecodeError> decode_pcp_request(std::span<const std::uint8_t> message) {
    if (message.size() < 2) return unexpected(PcpDecodeError{std::nullopt, "fewer than 2 octets"});
    if (message[request_header::opcode] & pcp_response_bit)
        return unexpected(PcpDecodeError{std::nullopt, "R bit set: a response, not a request"});
    if (message[request_header::version] != pcp_version)
        return unexpected(PcpDecodeError{PcpResult::unsupp_version,
                              "version " + std::to_string(message[request_header::version])});
    if (breaks_size_rules(message.size()))
        return unexpected(PcpDecodeError{PcpResult::malformed_request,
                              "length " + std::to_string(message.size()) +
                                  " (PCP messages are 24 to 1100 octets, a multiple of 4)"});
    std::uint8_t opcode_value = message[request_header::opcode];
    if (opcode_value > std::uint8_t(PcpOpcode::peer))
        return unexpected(PcpDecodeError{PcpResult::unsupp_opcode, "opcode " + std::to_string(opcode_value)});

    PcpRequest request;
    request.opcode = PcpOpcode(opcode_value);
    request.requested_lifetime = load32(message, request_header::lifetime);
    request.client_address = load_address(message, request_header::client_address);
    std::size_t data_size = opcode_data_size(request.opcode);
    if (message.size() < pcp_header_size + data_size)
        return unexpected(PcpDecodeError{PcpResult::malformed_request, std::string(opcode_name(request.opcode)) + " needs " +
                                                                std::to_string(data_size) + " octets of opcode data"});
    request.data = decode_opcode_data(request.opcode, message.subspan(pcp_header_size, data_size));
    if (auto options = decode_options(message.subspan(pcp_header_size + data_size), request.opcode, request.options);
        !options)
        return unexpected(std::move(options).error());
    return request;
}

std::vector<std::uint8_t> encode_pcp_response(const PcpResponse& response) {
    auto out = encoded_response_header(std::uint8_t(response.opcode), response.result, response.lifetime,
                               response.epoch_seconds);
    append_opcode_data(out, response.data);
    append_options(out, response.options);
    return out;
}

std::vector<std::uint8_t> encode_pcp_error_response(std::span<const std::uint8_t> request, PcpResult result,
                                                    std::uint32_t lifetime, std::uint32_t epoch_seconds) {
    if (request.size() < 2) return {};
    auto header = encoded_response_header(request[request_header::opcode], result, lifetime, epoch_seconds);
    // A request of another version is not ours to interpret; one of a bad length
    // cannot be copied without breaking the same rules in the response.
    if (result == PcpResult::unsupp_version || breaks_size_rules(request.size())) return header;
    std::vector<std::uint8_t> out(request.begin(), request.end());
    std::copy(header.begin(), header.end(), out.begin());
    return out;
}

std::vector<std::uint8_t> encode_pcp_unsolicited_announce(std::uint32_t epoch_seconds) {
    return encoded_response_header(std::uint8_t(PcpOpcode::announce), PcpResult::success, 0, epoch_seconds);
}

std::vector<std::uint8_t> encode_pcp_request(const PcpRequest& request) {
    std::vector<std::uint8_t> out;
    out.push_back(pcp_version);
    out.push_back(std::uint8_t(request.opcode));
    append_zeros(out, 2);
    append32(out, request.requested_lifetime);
    append_address(out, request.client_address);
    append_opcode_data(out, request.data);
    append_options(out, request.options);
    return out;
}

std::optional<PcpResponse> decode_pcp_response(std::span<const std::uint8_t> message) {
    if (breaks_size_rules(message.size())) return std::nullopt;
    if (message[response_header::version] != pcp_version) return std::nullopt;
    std::uint8_t opcode_octet = message[response_header::opcode];
    if (!(opcode_octet & pcp_response_bit)) return std::nullopt;
    std::uint8_t opcode_value = opcode_octet & 0x7f;
    if (opcode_value > std::uint8_t(PcpOpcode::peer)) return std::nullopt;
    PcpResponse response;
    response.opcode = PcpOpcode(opcode_value);
    auto result = message[response_header::result];
    if (result >= pcp_result_count) return std::nullopt;
    response.result = PcpResult(result);
    response.lifetime = load32(message, response_header::lifetime);
    response.epoch_seconds = load32(message, response_header::epoch);
    // An error answering a request of a bad length or version is the header alone.
    if (message.size() == pcp_header_size) return response;
    std::size_t data_size = opcode_data_size(response.opcode);
    if (message.size() < pcp_header_size + data_size) return std::nullopt;
    response.data = decode_opcode_data(response.opcode, message.subspan(pcp_header_size, data_size));
    if (!decode_options(message.subspan(pcp_header_size + data_size), response.opcode, response.options,
                        OptionReader::client))
        return std::nullopt;
    return response;
}

}  // namespace gw

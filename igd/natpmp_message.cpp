#include "igd/natpmp_message.hpp"

namespace gw {
namespace {

constexpr std::size_t mapping_request_size = 12;

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return std::uint16_t((bytes[at] << 8) | bytes[at + 1]);
}

std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::size_t at) {
    return (std::uint32_t(bytes[at]) << 24) | (std::uint32_t(bytes[at + 1]) << 16) |
           (std::uint32_t(bytes[at + 2]) << 8) | std::uint32_t(bytes[at + 3]);
}

void append_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(std::uint8_t(value >> 8));
    out.push_back(std::uint8_t(value));
}

void append_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    append_u16(out, std::uint16_t(value >> 16));
    append_u16(out, std::uint16_t(value));
}

// The common response header (§3.5): version, opcode, result code, epoch.
std::vector<std::uint8_t> header(std::uint8_t request_opcode, NatPmpResult result, std::uint32_t epoch_seconds) {
    std::vector<std::uint8_t> out;
    out.reserve(16);
    out.push_back(natpmp_version);
    out.push_back(std::uint8_t(natpmp_response_bit | (request_opcode & 0x7f)));
    append_u16(out, std::uint16_t(result));
    append_u32(out, epoch_seconds);
    return out;
}

}  // namespace

std::string_view natpmp_result_name(NatPmpResult result) {
    switch (result) {
        case NatPmpResult::success: return "success";
        case NatPmpResult::unsupported_version: return "unsupported_version";
        case NatPmpResult::not_authorized: return "not_authorized";
        case NatPmpResult::network_failure: return "network_failure";
        case NatPmpResult::out_of_resources: return "out_of_resources";
        case NatPmpResult::unsupported_opcode: return "unsupported_opcode";
    }
    return "unknown";
}

std::string_view natpmp_problem_name(NatPmpProblem problem) {
    switch (problem) {
        case NatPmpProblem::too_short: return "too_short";
        case NatPmpProblem::response_opcode: return "response_opcode";
        case NatPmpProblem::unsupported_version: return "unsupported_version";
        case NatPmpProblem::unsupported_opcode: return "unsupported_opcode";
        case NatPmpProblem::truncated_mapping_request: return "truncated_mapping_request";
    }
    return "unknown";
}

NatPmpDecoded decode_natpmp_request(std::span<const std::uint8_t> datagram) {
    if (datagram.size() < 2) return unexpected(NatPmpDecodeError{NatPmpProblem::too_short, 0});
    std::uint8_t version = datagram[0];
    std::uint8_t opcode = datagram[1];
    // A response (ours reflected, or another gateway's) must never be answered: two
    // servers would otherwise answer each other forever.
    if (opcode & natpmp_response_bit) return unexpected(NatPmpDecodeError{NatPmpProblem::response_opcode, opcode});
    if (version != natpmp_version) return unexpected(NatPmpDecodeError{NatPmpProblem::unsupported_version, opcode});
    switch (NatPmpOpcode(opcode)) {
        case NatPmpOpcode::external_address: return NatPmpRequest{NatPmpExternalAddressRequest{}};
        case NatPmpOpcode::map_udp:
        case NatPmpOpcode::map_tcp: {
            if (datagram.size() < mapping_request_size)
                return unexpected(NatPmpDecodeError{NatPmpProblem::truncated_mapping_request, opcode});
            NatPmpMappingRequest request;
            request.protocol = opcode == std::uint8_t(NatPmpOpcode::map_udp) ? Protocol::udp : Protocol::tcp;
            // Bytes 2-3 are reserved: ignored on reception (§3.3).
            request.internal = Port{read_u16(datagram, 4)};
            request.suggested_external = Port{read_u16(datagram, 6)};
            request.lifetime_seconds = read_u32(datagram, 8);
            return NatPmpRequest{request};
        }
    }
    return unexpected(NatPmpDecodeError{NatPmpProblem::unsupported_opcode, opcode});
}

std::vector<std::uint8_t> encode_natpmp_external_address_response(NatPmpResult result, std::uint32_t epoch_seconds,
                                                                  Ipv4Address external_address) {
    auto out = header(std::uint8_t(NatPmpOpcode::external_address), result, epoch_seconds);
    // §3.2: undefined unless the result is success; sent as zero then.
    append_u32(out, result == NatPmpResult::success ? external_address.host_order() : 0);
    return out;
}

std::vector<std::uint8_t> encode_natpmp_mapping_response(Protocol protocol, NatPmpResult result,
                                                         std::uint32_t epoch_seconds, Port internal,
                                                         Port mapped_external, std::uint32_t lifetime_seconds) {
    auto opcode = protocol == Protocol::udp ? NatPmpOpcode::map_udp : NatPmpOpcode::map_tcp;
    auto out = header(std::uint8_t(opcode), result, epoch_seconds);
    bool granted = result == NatPmpResult::success;
    append_u16(out, internal.value);
    append_u16(out, granted ? mapped_external.value : 0);
    append_u32(out, granted ? lifetime_seconds : 0);
    return out;
}

std::vector<std::uint8_t> encode_natpmp_header_response(std::uint8_t request_opcode, NatPmpResult result,
                                                        std::uint32_t epoch_seconds) {
    return header(request_opcode, result, epoch_seconds);
}

std::vector<std::uint8_t> encode_natpmp_external_address_request() {
    return {natpmp_version, std::uint8_t(NatPmpOpcode::external_address)};
}

std::vector<std::uint8_t> encode_natpmp_mapping_request(const NatPmpMappingRequest& request) {
    auto opcode = request.protocol == Protocol::udp ? NatPmpOpcode::map_udp : NatPmpOpcode::map_tcp;
    std::vector<std::uint8_t> out{natpmp_version, std::uint8_t(opcode), 0, 0};  // reserved: zero (§3.3)
    append_u16(out, request.internal.value);
    append_u16(out, request.suggested_external.value);
    append_u32(out, request.lifetime_seconds);
    return out;
}

std::optional<NatPmpResponse> decode_natpmp_response(std::span<const std::uint8_t> datagram) {
    constexpr std::size_t header_size = 8, address_size = 12, mapping_size = 16;
    if (datagram.size() < header_size || datagram[0] != natpmp_version || !(datagram[1] & natpmp_response_bit))
        return std::nullopt;
    std::uint8_t opcode = datagram[1] & 0x7f;
    std::uint16_t result = read_u16(datagram, 2);
    if (result >= natpmp_result_count) return std::nullopt;
    std::uint32_t epoch = read_u32(datagram, 4);
    // An error about the request itself carries the header alone (§3.5).
    bool header_only = result == std::uint16_t(NatPmpResult::unsupported_version) ||
                       result == std::uint16_t(NatPmpResult::unsupported_opcode);
    if (opcode == std::uint8_t(NatPmpOpcode::external_address) && datagram.size() >= address_size)
        return NatPmpExternalAddressResponse{NatPmpResult(result), epoch, Ipv4Address(read_u32(datagram, 8))};
    if ((opcode == std::uint8_t(NatPmpOpcode::map_udp) || opcode == std::uint8_t(NatPmpOpcode::map_tcp)) &&
        datagram.size() >= mapping_size)
        return NatPmpMappingResponse{opcode == std::uint8_t(NatPmpOpcode::map_udp) ? Protocol::udp : Protocol::tcp,
                                     NatPmpResult(result), epoch, Port{read_u16(datagram, 8)},
                                     Port{read_u16(datagram, 10)}, read_u32(datagram, 12)};
    if (header_only) return NatPmpHeaderResponse{opcode, NatPmpResult(result), epoch};
    return std::nullopt;
}

}  // namespace gw

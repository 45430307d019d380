#include "igd/natpmp_exchange.hpp"

#include <string>
#include <variant>

namespace gw {
namespace {

UpstreamFailure refusal(NatPmpResult result) {
    return UpstreamFailure{UpstreamFailure::Kind::refused, "NAT-PMP " + std::string(natpmp_result_name(result))};
}

std::uint8_t opcode_of(Protocol protocol) {
    return std::uint8_t(protocol == Protocol::udp ? NatPmpOpcode::map_udp : NatPmpOpcode::map_tcp);
}

}  // namespace

std::optional<Expected<NatPmpAddressAnswer, UpstreamFailure>> read_natpmp_address_answer(
    std::span<const std::uint8_t> datagram) {
    auto response = decode_natpmp_response(datagram);
    if (!response) return std::nullopt;
    if (const auto* header = std::get_if<NatPmpHeaderResponse>(&*response)) {
        if (header->request_opcode != std::uint8_t(NatPmpOpcode::external_address)) return std::nullopt;
        return unexpected(refusal(header->result));
    }
    const auto* answer = std::get_if<NatPmpExternalAddressResponse>(&*response);
    if (!answer) return std::nullopt;
    if (answer->result != NatPmpResult::success) return unexpected(refusal(answer->result));
    if (answer->external_address == Ipv4Address())
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::bad_answer, "NAT-PMP success with address 0.0.0.0"});
    return NatPmpAddressAnswer{answer->external_address, answer->epoch_seconds};
}

std::optional<Expected<NatPmpMappingAnswer, UpstreamFailure>> read_natpmp_mapping_answer(
    const NatPmpMappingRequest& request, std::span<const std::uint8_t> datagram) {
    auto response = decode_natpmp_response(datagram);
    if (!response) return std::nullopt;
    if (const auto* header = std::get_if<NatPmpHeaderResponse>(&*response)) {
        if (header->request_opcode != opcode_of(request.protocol)) return std::nullopt;
        return unexpected(refusal(header->result));
    }
    const auto* answer = std::get_if<NatPmpMappingResponse>(&*response);
    // §3.3: the opcode and the internal port say which request this answers.
    if (!answer || answer->protocol != request.protocol || answer->internal != request.internal) return std::nullopt;
    if (answer->result != NatPmpResult::success) return unexpected(refusal(answer->result));
    if (request.lifetime_seconds != 0 && (answer->mapped_external.value == 0 || answer->lifetime_seconds == 0))
        return unexpected(UpstreamFailure{UpstreamFailure::Kind::bad_answer,
                                          "NAT-PMP success with external port " +
                                              std::to_string(answer->mapped_external.value) + " for " +
                                              std::to_string(answer->lifetime_seconds) + " s"});
    return NatPmpMappingAnswer{answer->mapped_external, answer->lifetime_seconds, answer->epoch_seconds};
}

}  // namespace gw

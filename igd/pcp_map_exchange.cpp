#include "igd/pcp_map_exchange.hpp"

#include <variant>

namespace gw {
namespace {

constexpr std::uint8_t natpmp_version = 0;
constexpr std::uint8_t natpmp_unsupported_version = 1;

// RFC 6886 §3.5 with erratum 3618, and RFC 6887 §9: a NAT-PMP server answers a PCP
// request with version 0, opcode 128 + the request's, result 1.
bool is_natpmp_unsupported_version(std::span<const std::uint8_t> datagram) {
    return datagram.size() >= 4 && datagram[0] == natpmp_version &&
           datagram[1] == (pcp_response_bit | std::uint8_t(PcpOpcode::map)) && datagram[2] == 0 &&
           datagram[3] == natpmp_unsupported_version;
}

UpstreamFailure failure(UpstreamFailure::Kind kind, std::string reason) { return UpstreamFailure{kind, std::move(reason)}; }

}  // namespace

UpstreamFailure::Kind upstream_failure_kind_of(PcpResult result) {
    return result == PcpResult::cannot_provide_external ? UpstreamFailure::Kind::port_taken
                                                        : UpstreamFailure::Kind::refused;
}

std::vector<std::uint8_t> encode_pcp_map_ask(const PcpMapAsk& ask) {
    PcpRequest request;
    request.opcode = PcpOpcode::map;
    request.requested_lifetime = ask.lifetime;
    request.client_address = pcp_address_of(ask.client);
    PcpMapData map;
    map.nonce = ask.nonce;
    map.protocol = ask.protocol;
    map.internal_port = ask.internal_port;
    map.external_port = ask.suggested_external;
    map.external_address = pcp_address_of(ask.suggested_address);  // ::ffff:0.0.0.0 = none (§11.1)
    request.data = map;
    return encode_pcp_request(request);
}

std::optional<Expected<PcpMapAnswer, UpstreamFailure>> read_pcp_map_answer(const PcpMapAsk& ask,
                                                                           std::span<const std::uint8_t> datagram) {
    if (is_natpmp_unsupported_version(datagram))
        return unexpected(failure(UpstreamFailure::Kind::refused,
                                  "the server answered as NAT-PMP (version 0): it does not speak PCP"));
    auto response = decode_pcp_response(datagram);
    if (!response || response->opcode != PcpOpcode::map) return std::nullopt;
    const auto* map = std::get_if<PcpMapData>(&response->data);
    if (!map) {
        // A header alone answers a request the server could not read at all (a version or
        // a length it refuses, §7.3): it carries no nonce to match, and nothing else asked.
        if (response->result == PcpResult::success) return std::nullopt;
        return unexpected(failure(upstream_failure_kind_of(response->result),
                                  "PCP " + std::string(pcp_result_name(response->result))));
    }
    // §11.4: the nonce, protocol and internal port say which request this answers.
    if (map->nonce != ask.nonce || map->protocol != ask.protocol || map->internal_port != ask.internal_port)
        return std::nullopt;
    // A create and a delete of the same mapping look alike but for the lifetime: a late
    // copy of the one must not pass for the answer to the other.
    if (response->result == PcpResult::success && (ask.lifetime == 0) != (response->lifetime == 0))
        return std::nullopt;
    if (response->result != PcpResult::success)
        return unexpected(failure(upstream_failure_kind_of(response->result),
                                  "PCP " + std::string(pcp_result_name(response->result)) + " (stands for " +
                                      std::to_string(response->lifetime) + " s)"));
    auto address = ipv4_of_pcp_address(map->external_address);
    if (!address) return unexpected(failure(UpstreamFailure::Kind::bad_answer,
                                            "assigned external address " + map->external_address.to_string() +
                                                " is not IPv4"));
    if (ask.lifetime != 0 && (map->external_port.value == 0 || *address == Ipv4Address()))
        return unexpected(failure(UpstreamFailure::Kind::bad_answer,
                                  "SUCCESS without an external address and port: " + address->to_string() + ":" +
                                      std::to_string(map->external_port.value)));
    return PcpMapAnswer{*address, map->external_port, response->lifetime, response->epoch_seconds};
}

}  // namespace gw

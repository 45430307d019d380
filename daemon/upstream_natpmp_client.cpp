#include "upstream_natpmp_client.hpp"

#include "upstream_udp.hpp"

namespace gw {

NatPmpUpstreamClient::NatPmpUpstreamClient(Ipv4Address wan_address, Ipv4Address server,
                                           const UpstreamTimeouts& timeouts)
    : wan_address_(wan_address), server_{server, Port{natpmp_server_port}}, timeouts_(timeouts) {}

std::string NatPmpUpstreamClient::describe() const { return to_string(server_); }

Expected<Ipv4Address, UpstreamFailure> NatPmpUpstreamClient::external_address() {
    UpstreamUdpSession session(wan_address_, server_);
    const auto request = encode_natpmp_external_address_request();
    std::optional<Expected<NatPmpAddressAnswer, UpstreamFailure>> answer;
    UdpExchange exchange = session.exchange(request, timeouts_.udp_initial, timeouts_.udp_budget,
                                            [&](std::span<const std::uint8_t> datagram) {
                                                answer = read_natpmp_address_answer(datagram);
                                                return answer.has_value();
                                            });
    if (!exchange.answered) return unexpected(UpstreamFailure{UpstreamFailure::Kind::no_answer, exchange.problem});
    if (!*answer) return unexpected(std::move(*answer).error());
    last_address_ = (*answer)->external_address;
    return *last_address_;
}

Expected<NatPmpMappingAnswer, UpstreamFailure> NatPmpUpstreamClient::ask(const NatPmpMappingRequest& request) {
    UpstreamUdpSession session(wan_address_, server_);
    const auto bytes = encode_natpmp_mapping_request(request);
    std::optional<Expected<NatPmpMappingAnswer, UpstreamFailure>> answer;
    UdpExchange exchange = session.exchange(bytes, timeouts_.udp_initial, timeouts_.udp_budget,
                                            [&](std::span<const std::uint8_t> datagram) {
                                                answer = read_natpmp_mapping_answer(request, datagram);
                                                return answer.has_value();
                                            });
    if (!exchange.answered) return unexpected(UpstreamFailure{UpstreamFailure::Kind::no_answer, exchange.problem});
    return std::move(*answer);
}

Expected<UpstreamGrant, UpstreamFailure> NatPmpUpstreamClient::map(const UpstreamRequest& request) {
    if (!last_address_) {
        auto address = external_address();
        if (!address) return unexpected(std::move(address).error());
    }
    NatPmpMappingRequest ask_for;
    ask_for.protocol = request.protocol;
    ask_for.internal = request.internal_port;
    ask_for.suggested_external = request.suggested_external;
    ask_for.lifetime_seconds = std::uint32_t(std::max<std::chrono::seconds::rep>(request.lifetime.count(), 1));
    auto answer = ask(ask_for);
    if (!answer) return unexpected(std::move(answer).error());
    UpstreamGrant grant;
    grant.via = UpstreamProtocol::natpmp;
    grant.external_address = *last_address_;
    grant.external_port = answer->external_port;
    grant.lifetime = std::chrono::seconds(answer->lifetime_seconds);
    grant.epoch_seconds = answer->epoch_seconds;
    return grant;
}

std::optional<UpstreamFailure> NatPmpUpstreamClient::unmap(Protocol protocol, Port internal_port,
                                                           const UpstreamGrant&) {
    NatPmpMappingRequest ask_for;
    ask_for.protocol = protocol;
    ask_for.internal = internal_port;
    auto answer = ask(ask_for);
    if (!answer) return std::move(answer).error();
    return std::nullopt;
}

}  // namespace gw

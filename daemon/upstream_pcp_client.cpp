#include "upstream_pcp_client.hpp"

#include <sodium.h>

#include "upstream_udp.hpp"

namespace gw {
namespace {

// §11.6's "short lifetime"; a server may raise it to its minimum (gatewayd's is 120 s),
// which does not matter: the probe is deleted at once.
constexpr std::uint32_t probe_lifetime_seconds = 60;

}  // namespace

PcpNonce random_pcp_nonce() {
    PcpNonce nonce{};
    if (sodium_init() < 0) return nonce;  // not reached on Linux: sodium_init fails only without a random source
    randombytes_buf(nonce.data(), nonce.size());
    return nonce;
}

PcpUpstreamClient::PcpUpstreamClient(Ipv4Address wan_address, Ipv4Address server, const UpstreamTimeouts& timeouts)
    : wan_address_(wan_address), server_{server, Port{pcp_server_port}}, timeouts_(timeouts) {}

std::string PcpUpstreamClient::describe() const { return to_string(server_); }

Expected<PcpMapAnswer, UpstreamFailure> PcpUpstreamClient::ask(UpstreamUdpSession& session, const PcpMapAsk& ask) {
    if (!session.ok()) return unexpected(UpstreamFailure{UpstreamFailure::Kind::no_answer, session.problem()});
    const auto request = encode_pcp_map_ask(ask);
    std::optional<Expected<PcpMapAnswer, UpstreamFailure>> answer;
    UdpExchange exchange = session.exchange(request, timeouts_.udp_initial, timeouts_.udp_budget,
                                            [&](std::span<const std::uint8_t> datagram) {
                                                answer = read_pcp_map_answer(ask, datagram);
                                                return answer.has_value();
                                            });
    if (!exchange.answered) return unexpected(UpstreamFailure{UpstreamFailure::Kind::no_answer, exchange.problem});
    return std::move(*answer);
}

Expected<Ipv4Address, UpstreamFailure> PcpUpstreamClient::external_address() {
    UpstreamUdpSession session(wan_address_, server_);
    PcpMapAsk probe;
    probe.client = wan_address_;
    probe.nonce = random_pcp_nonce();
    probe.protocol = std::uint8_t(Protocol::udp);
    probe.internal_port = session.local_port();
    probe.lifetime = probe_lifetime_seconds;
    auto answer = ask(session, probe);
    if (!answer) return unexpected(std::move(answer).error());
    probe.lifetime = 0;  // delete it (§15); a lost delete leaves a probe that expires by itself
    (void)ask(session, probe);
    return answer->external_address;
}

Expected<UpstreamGrant, UpstreamFailure> PcpUpstreamClient::map(const UpstreamRequest& request) {
    UpstreamUdpSession session(wan_address_, server_);
    PcpMapAsk ask_for;
    ask_for.client = wan_address_;
    ask_for.nonce = request.nonce ? *request.nonce : random_pcp_nonce();
    ask_for.protocol = std::uint8_t(request.protocol);
    ask_for.internal_port = request.internal_port;
    ask_for.suggested_external = request.suggested_external;
    ask_for.lifetime = std::uint32_t(std::max<std::chrono::seconds::rep>(request.lifetime.count(), 1));
    auto answer = ask(session, ask_for);
    if (!answer) return unexpected(std::move(answer).error());
    UpstreamGrant grant;
    grant.via = UpstreamProtocol::pcp;
    grant.external_address = answer->external_address;
    grant.external_port = answer->external_port;
    grant.lifetime = std::chrono::seconds(answer->lifetime);
    grant.nonce = ask_for.nonce;
    grant.epoch_seconds = answer->epoch_seconds;
    return grant;
}

std::optional<UpstreamFailure> PcpUpstreamClient::unmap(Protocol protocol, Port internal_port,
                                                        const UpstreamGrant& grant) {
    if (!grant.nonce)
        return UpstreamFailure{UpstreamFailure::Kind::refused, "no nonce: this mapping was not made by PCP"};
    UpstreamUdpSession session(wan_address_, server_);
    PcpMapAsk ask_for;
    ask_for.client = wan_address_;
    ask_for.nonce = *grant.nonce;
    ask_for.protocol = std::uint8_t(protocol);
    ask_for.internal_port = internal_port;
    ask_for.lifetime = 0;
    auto answer = ask(session, ask_for);
    if (!answer) return std::move(answer).error();
    return std::nullopt;
}

}  // namespace gw

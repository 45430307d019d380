// Builders for PCP tests: requests as a client would send them (through the library's
// own encoder, checked byte for byte against the RFC in pcp_message_test.cpp), raw
// options for the malformed ones the encoder cannot produce, and a responder set up
// with the lab's addresses.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "igd/mapping_policy.hpp"
#include "igd/pcp_message.hpp"
#include "igd/pcp_responder.hpp"

namespace gw::pcp_test {

inline constexpr Ipv4Address lan(std::uint8_t host) { return Ipv4Address::from_octets(192, 168, 50, host); }
inline constexpr Ipv4Address wan_address = Ipv4Address::from_octets(203, 0, 113, 1);
inline constexpr Ipv4Address gateway_lan = lan(1);

inline PcpNonce nonce(std::uint8_t seed) {
    PcpNonce n{};
    for (std::size_t i = 0; i < n.size(); ++i) n[i] = std::uint8_t(seed + i);
    return n;
}

struct MapRequest {
    Ipv4Address client = lan(20);
    std::uint8_t protocol = std::uint8_t(Protocol::tcp);
    std::uint16_t internal_port = 5000;
    std::uint16_t suggested_port = 0;
    Ipv6Address suggested_address{};
    std::uint32_t lifetime = 3600;
    PcpNonce mapping_nonce = nonce(1);
    PcpOptions options{};

    PcpRequest request() const {
        PcpRequest r;
        r.opcode = PcpOpcode::map;
        r.requested_lifetime = lifetime;
        r.client_address = pcp_address_of(client);
        r.data = PcpMapData{mapping_nonce, protocol, Port{internal_port}, Port{suggested_port}, suggested_address};
        r.options = options;
        return r;
    }
    std::vector<std::uint8_t> bytes() const { return encode_pcp_request(request()); }
};

struct PeerRequest {
    MapRequest map;
    Ipv4Address remote = Ipv4Address::from_octets(198, 51, 100, 7);
    std::uint16_t remote_port = 3478;

    PcpRequest request() const {
        PcpRequest r = map.request();
        r.opcode = PcpOpcode::peer;
        r.data = PcpPeerData{std::get<PcpMapData>(r.data), Port{remote_port}, pcp_address_of(remote)};
        return r;
    }
    std::vector<std::uint8_t> bytes() const { return encode_pcp_request(request()); }
};

inline std::vector<std::uint8_t> announce_bytes(Ipv4Address client = lan(20)) {
    PcpRequest r;
    r.client_address = pcp_address_of(client);
    return encode_pcp_request(r);
}

// Appends an option as it goes on the wire: code, reserved, length, data, zero padding.
inline std::vector<std::uint8_t> with_raw_option(std::vector<std::uint8_t> message, std::uint8_t code,
                                                 std::vector<std::uint8_t> data) {
    message.push_back(code);
    message.push_back(0);
    message.push_back(std::uint8_t(data.size() >> 8));
    message.push_back(std::uint8_t(data.size()));
    message.insert(message.end(), data.begin(), data.end());
    while (message.size() % 4 != 0) message.push_back(0);
    return message;
}

inline PcpFilter filter(Ipv4Address remote, std::uint8_t ipv4_prefix, std::uint16_t port = 0) {
    return PcpFilter{std::uint8_t(ipv4_prefix == 0 ? 0 : 96 + ipv4_prefix), Port{port}, pcp_address_of(remote)};
}

inline PcpResponse decoded_response(const std::vector<std::uint8_t>& bytes) {
    auto response = decode_pcp_response(bytes);
    REQUIRE(response);
    return *response;
}

// ---- answering requests: a responder with the lab's addresses

inline constexpr Instant t0 = std::chrono::milliseconds(1'000'000);
inline constexpr std::uint32_t epoch = 4242;

// The lab's policy: LAN hosts may map 1024-65535 to their ports 1024-65535.
inline IgdConfig igd_config(bool secure_mode = true) {
    IgdConfig config;
    config.secure_mode = secure_mode;
    config.permissions = {UpnpPermission{true, {1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"), {1024, 65535}}};
    return config;
}

inline PcpRequestContext context_for(Ipv4Address client = lan(20)) {
    PcpRequestContext context;
    context.source = Endpoint{client, Port{5350}};
    context.server_address = gateway_lan;
    context.external_address = wan_address;
    context.epoch_seconds = epoch;
    return context;
}

struct Answered {
    PcpAnswer answer;
    PcpResponse response;
};

// The answer to `request`, which must be a response that decodes.
inline Answered ask(MappingPolicy& policy, const std::vector<std::uint8_t>& request,
                    const PcpRequestContext& context = context_for(), Instant now = t0) {
    PcpAnswer answer = answer_pcp(request, context, policy, now);
    INFO(answer.reason);
    REQUIRE(!answer.response.empty());
    auto response = decode_pcp_response(answer.response);
    REQUIRE(response);
    CHECK(response->epoch_seconds == epoch);
    CHECK(answer.result == response->result);
    return {std::move(answer), *response};
}

inline PcpResult result_of(MappingPolicy& policy, const std::vector<std::uint8_t>& request,
                           const PcpRequestContext& context = context_for()) {
    return ask(policy, request, context).response.result;
}

}  // namespace gw::pcp_test

// libFuzzer harness for the PCP server (igd/pcp_responder.hpp): any datagram sent to
// UDP 5351 is answered within the RFC's rules or dropped, and whatever it grants obeys
// the mapping policy. Two policies are kept across inputs (secure mode with THIRD_PARTY
// refused; open with THIRD_PARTY allowed), and the clock advances a second per input,
// so refreshes, nonce checks, deletes, limits and expiry meet what earlier inputs left.
//
// Invariants: a response is a whole number of 32-bit words, at most 1100 octets, has
// the R bit set and the request's opcode; a SUCCESS to MAP decodes, echoes the nonce,
// protocol and internal port, and grants exactly one mapping described "PCP" with that
// nonce (none when the lifetime was 0); an error changes nothing.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "igd/mapping_policy.hpp"
#include "igd/pcp_responder.hpp"

namespace {

using namespace gw;

[[noreturn]] void invariant_broken(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "pcp_request invariant broken: %s %s\n", what, detail.c_str());
    std::abort();
}

IgdConfig policy_config(bool secure_mode) {
    IgdConfig config;
    config.secure_mode = secure_mode;
    config.per_client_limit = 8;
    config.max_mappings = 16;
    config.permissions = {UpnpPermission{true, {1024, 65535}, *Ipv4Network::parse("192.168.50.0/24"), {1024, 65535}}};
    return config;
}

PcpRequestContext context(bool allow_third_party) {
    PcpRequestContext c;
    c.source = Endpoint{Ipv4Address::from_octets(192, 168, 50, 20), Port{5350}};
    c.server_address = Ipv4Address::from_octets(192, 168, 50, 1);
    c.external_address = Ipv4Address::from_octets(203, 0, 113, 1);
    c.epoch_seconds = 77;
    c.config.allow_third_party = allow_third_party;
    c.outbound_mapping = [](Protocol protocol, Endpoint internal, Endpoint) -> std::optional<Port> {
        if (protocol == Protocol::udp) return Port{std::uint16_t(internal.port.value ^ 0x8000)};
        return std::nullopt;
    };
    return c;
}

void check_answer(std::span<const std::uint8_t> request, const PcpAnswer& answer, std::size_t mappings_before,
                  const MappingPolicy& policy) {
    const auto& out = answer.response;
    if (out.empty()) {
        if (answer.result) invariant_broken("a result without a response");
        if (!answer.changes.empty()) invariant_broken("a dropped request changed mappings");
        return;
    }
    if (out.size() % 4 != 0 || out.size() > pcp_max_message_size) invariant_broken("response size", answer.reason);
    if (!(out[1] & pcp_response_bit)) invariant_broken("R bit not set", answer.reason);
    if ((out[1] & 0x7f) != (request[1] & 0x7f)) invariant_broken("opcode not the request's", answer.reason);
    if (!answer.result) invariant_broken("a response without a result");
    if (*answer.result != PcpResult::success) {
        if (!answer.changes.empty() || policy.size() != mappings_before)
            invariant_broken("an error changed mappings", answer.reason);
        return;
    }
    auto response = decode_pcp_response(out);
    if (!response) invariant_broken("a SUCCESS response does not decode", answer.reason);
    if (response->opcode != PcpOpcode::map) return;
    auto decoded = decode_pcp_request(request);
    const auto& asked = std::get<PcpMapData>(decoded.value().data);
    const auto& given = std::get<PcpMapData>(response->data);
    if (given.nonce != asked.nonce || given.protocol != asked.protocol || given.internal_port != asked.internal_port)
        invariant_broken("MAP fields not echoed", answer.reason);
    bool deleting = decoded.value().requested_lifetime == 0;
    if (deleting != (response->lifetime == 0)) invariant_broken("lifetime", answer.reason);
    if (deleting) {
        if (!answer.changes.granted.empty()) invariant_broken("a delete granted", answer.reason);
        for (const auto& m : answer.changes.removed)
            if (m.pcp_nonce != asked.nonce) invariant_broken("a delete removed another nonce's mapping");
        return;
    }
    if (answer.changes.granted.size() != 1) invariant_broken("a MAP did not grant one mapping", answer.reason);
    const PortMapping& m = answer.changes.granted.front();
    if (m.pcp_nonce != asked.nonce || m.description != pcp_mapping_description || m.external != given.external_port ||
        m.external.value == 0)
        invariant_broken("granted mapping", answer.reason);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static MappingPolicy secure(policy_config(true), {{Protocol::tcp, PortRange{8080, 8080}}});
    static MappingPolicy open(policy_config(false), {});
    static Instant now = std::chrono::seconds(1000);
    now += std::chrono::seconds(1);
    std::span<const std::uint8_t> request(data, size);
    for (auto [policy, allow_third_party] : {std::pair{&secure, false}, std::pair{&open, true}}) {
        policy->expire(now);
        std::size_t before = policy->size();
        PcpAnswer answer = answer_pcp(request, context(allow_third_party), *policy, now);
        check_answer(request, answer, before, *policy);
    }
    return 0;
}

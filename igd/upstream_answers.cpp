// judge_upstream and the answer rewriting of upstream_carrier.hpp.
#include <algorithm>

#include "igd/pcp_responder.hpp"
#include "igd/upstream_carrier.hpp"

namespace gw {
namespace {

// RFC 6886 §3.3: version, opcode, result (2), epoch (4), internal port (2), mapped
// external port (2), lifetime (4).
constexpr std::size_t natpmp_mapping_response_size = 16;
constexpr std::size_t natpmp_result_offset = 2;
constexpr std::size_t natpmp_mapped_port_offset = 10;
constexpr std::size_t natpmp_lifetime_offset = 12;
// RFC 6887 §7.2 and §11.1: the result code (1), the lifetime (4); after the 24-byte
// header, MAP and PEER alike: nonce (12), protocol (1), reserved (3), internal port (2),
// assigned external port (2), assigned external address (16).
constexpr std::size_t pcp_result_offset = 3;
constexpr std::size_t pcp_lifetime_offset = 4;
constexpr std::size_t pcp_port_offset = pcp_header_size + 18;
constexpr std::size_t pcp_address_offset = pcp_header_size + 20;
constexpr std::uint8_t pcp_opcode_map = 1, pcp_opcode_peer = 2;

void put16(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint16_t value) {
    bytes[at] = std::uint8_t(value >> 8);
    bytes[at + 1] = std::uint8_t(value);
}

void put32(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) bytes[at + std::size_t(i)] = std::uint8_t(value >> (24 - 8 * i));
}

std::uint32_t get32(const std::vector<std::uint8_t>& bytes, std::size_t at) {
    return std::uint32_t(bytes[at]) << 24 | std::uint32_t(bytes[at + 1]) << 16 | std::uint32_t(bytes[at + 2]) << 8 |
           bytes[at + 3];
}

bool is_natpmp_mapping_response(const std::vector<std::uint8_t>& r) {
    return r.size() == natpmp_mapping_response_size && r[0] == natpmp_version && (r[1] == 129 || r[1] == 130);
}

bool is_pcp_map_or_peer_response(const std::vector<std::uint8_t>& r) {
    if (r.size() < pcp_address_offset + 16 || r[0] != pcp_version || !(r[1] & 0x80)) return false;
    std::uint8_t opcode = r[1] & 0x7f;
    return opcode == pcp_opcode_map || opcode == pcp_opcode_peer;
}

std::string failure_text(const UpstreamOutcome& outcome) {
    if (outcome.kind == UpstreamOutcome::Kind::pending) return "the upstream did not answer in time";
    if (!outcome.failure) return "the upstream failed";
    return "the upstream " +
           std::string(outcome.failure->kind == UpstreamFailure::Kind::port_taken ? "has the port taken"
                       : outcome.failure->kind == UpstreamFailure::Kind::refused  ? "refused"
                       : outcome.failure->kind == UpstreamFailure::Kind::no_answer ? "did not answer"
                                                                                   : "answered badly") +
           (outcome.failure->reason.empty() ? std::string() : " (" + outcome.failure->reason + ")");
}

}  // namespace

UpstreamJudgement judge_upstream(const UpstreamOutcome& outcome, Port local_port, bool refuse_on_failure,
                                 bool fixed_port, bool any_port) {
    UpstreamJudgement j;
    switch (outcome.kind) {
        case UpstreamOutcome::Kind::not_carried: return j;
        case UpstreamOutcome::Kind::pending:
        case UpstreamOutcome::Kind::failed:
            j.why = failure_text(outcome);
            j.port_taken = outcome.failure && outcome.failure->kind == UpstreamFailure::Kind::port_taken;
            if (refuse_on_failure) j.kind = UpstreamJudgement::Kind::refuse;
            else j.warn = true;
            return j;
        case UpstreamOutcome::Kind::held: break;
    }
    if (outcome.external_port == local_port || !(fixed_port || any_port)) {
        j.kind = UpstreamJudgement::Kind::upstream;
        return j;
    }
    j.why = "the upstream gave port " + std::to_string(outcome.external_port.value) + " for " +
            std::to_string(local_port.value);
    if (fixed_port && refuse_on_failure) {
        j.kind = UpstreamJudgement::Kind::refuse;
        j.port_taken = true;
    } else {
        j.warn = true;
    }
    return j;
}

void natpmp_answer_upstream_port(std::vector<std::uint8_t>& response, Port external) {
    if (is_natpmp_mapping_response(response)) put16(response, natpmp_mapped_port_offset, external.value);
}

void natpmp_answer_error(std::vector<std::uint8_t>& response, NatPmpResult result) {
    if (!is_natpmp_mapping_response(response)) return;
    put16(response, natpmp_result_offset, std::uint16_t(result));
    put16(response, natpmp_mapped_port_offset, 0);
    put32(response, natpmp_lifetime_offset, 0);
}

void pcp_answer_upstream(std::vector<std::uint8_t>& response, Ipv4Address address, Port port,
                         std::chrono::seconds upstream_lifetime_left) {
    if (!is_pcp_map_or_peer_response(response) || response[pcp_result_offset] != 0) return;
    put16(response, pcp_port_offset, port.value);
    // An IPv4-mapped IPv6 address (RFC 6887 §5).
    std::fill(response.begin() + pcp_address_offset, response.begin() + pcp_address_offset + 10, 0);
    response[pcp_address_offset + 10] = response[pcp_address_offset + 11] = 0xff;
    put32(response, pcp_address_offset + 12, address.host_order());
    // RFC 7648 §4: the lifetime answered is the smaller of the local and the upstream one.
    auto local = get32(response, pcp_lifetime_offset);
    if (upstream_lifetime_left.count() > 0 && std::uint64_t(upstream_lifetime_left.count()) < local)
        put32(response, pcp_lifetime_offset, std::uint32_t(upstream_lifetime_left.count()));
}

void pcp_answer_error(std::vector<std::uint8_t>& response, PcpResult result) {
    if (!is_pcp_map_or_peer_response(response)) return;
    response[pcp_result_offset] = std::uint8_t(result);
    put32(response, pcp_lifetime_offset,
          is_short_lifetime_error(result) ? pcp_short_error_lifetime_seconds : pcp_long_error_lifetime_seconds);
}

}  // namespace gw

// The upstream's unsolicited announcements (RFC 6887 §14.1.3, RFC 6886 §3.2.1): a PCP
// ANNOUNCE or a NAT-PMP external-address announcement from the server in use, port 5351,
// to our WAN address or 224.0.0.1, means it restarted; anything else is ignored, by name.
#include <catch2/catch.hpp>

#include "igd/natpmp_message.hpp"
#include "igd/pcp_message.hpp"
#include "igd/upstream_announcement.hpp"

namespace gw {
namespace {

constexpr Ipv4Address server = Ipv4Address::from_octets(100, 64, 0, 1);
constexpr Ipv4Address wan = Ipv4Address::from_octets(100, 64, 0, 2);
constexpr Ipv4Address neighbour = Ipv4Address::from_octets(100, 64, 0, 9);
constexpr AnnouncingUpstream in_use{server, wan};

const std::vector<std::uint8_t> pcp_announce = encode_pcp_unsolicited_announce(7);
const std::vector<std::uint8_t> natpmp_announce =
    encode_natpmp_external_address_response(NatPmpResult::success, 3, Ipv4Address::from_octets(203, 0, 113, 1));

AnnouncementVerdict judge(const std::vector<std::uint8_t>& payload, Endpoint source = {server, Port{5351}},
                          Ipv4Address destination = all_hosts_group,
                          std::optional<AnnouncingUpstream> upstream = in_use) {
    return judge_upstream_announcement({source, destination, payload}, upstream).verdict;
}

TEST_CASE("a PCP ANNOUNCE from the server in use to 224.0.0.1 says the upstream restarted") {
    CHECK(judge(pcp_announce) == AnnouncementVerdict::from_upstream);
}

TEST_CASE("the announcement's epoch comes with the verdict, for the restart check") {
    CHECK(judge_upstream_announcement({{server, Port{5351}}, all_hosts_group, pcp_announce}, in_use).epoch_seconds == 7);
    CHECK(judge_upstream_announcement({{server, Port{5351}}, all_hosts_group, natpmp_announce}, in_use).epoch_seconds == 3);
}

TEST_CASE("a PCP ANNOUNCE unicast to our WAN address says the upstream restarted too") {
    CHECK(judge(pcp_announce, {server, Port{5351}}, wan) == AnnouncementVerdict::from_upstream);
}

TEST_CASE("a NAT-PMP external-address announcement from the server in use says the upstream restarted") {
    CHECK(judge(natpmp_announce) == AnnouncementVerdict::from_upstream);
    CHECK(judge(natpmp_announce, {server, Port{5351}}, wan) == AnnouncementVerdict::from_upstream);
}

TEST_CASE("an announcement from another address on the WAN link is not the upstream's (spoofed or a second NAT)") {
    CHECK(judge(pcp_announce, {neighbour, Port{5351}}) == AnnouncementVerdict::not_from_upstream);
    CHECK(judge(natpmp_announce, {neighbour, Port{5351}}) == AnnouncementVerdict::not_from_upstream);
}

TEST_CASE("an announcement from the server's address but not from port 5351 is ignored") {
    CHECK(judge(pcp_announce, {server, Port{5350}}) == AnnouncementVerdict::wrong_source_port);
    CHECK(judge(natpmp_announce, {server, Port{40000}}) == AnnouncementVerdict::wrong_source_port);
}

TEST_CASE("an announcement to an address that is neither ours nor 224.0.0.1 is ignored") {
    CHECK(judge(pcp_announce, {server, Port{5351}}, Ipv4Address::from_octets(224, 0, 0, 251)) ==
          AnnouncementVerdict::wrong_destination);
    CHECK(judge(pcp_announce, {server, Port{5351}}, neighbour) == AnnouncementVerdict::wrong_destination);
}

TEST_CASE("with no PCP or NAT-PMP server in use no announcement counts") {
    CHECK(judge(pcp_announce, {server, Port{5351}}, all_hosts_group, std::nullopt) == AnnouncementVerdict::no_upstream);
}

TEST_CASE("answers and requests from the server are not announcements") {
    PcpResponse map_answer;
    map_answer.opcode = PcpOpcode::map;
    map_answer.lifetime = 120;
    map_answer.data = PcpMapData{};
    CHECK(judge(encode_pcp_response(map_answer)) == AnnouncementVerdict::not_an_announcement);
    PcpResponse announce_error;
    announce_error.opcode = PcpOpcode::announce;
    announce_error.result = PcpResult::network_failure;
    CHECK(judge(encode_pcp_response(announce_error)) == AnnouncementVerdict::not_an_announcement);
    PcpRequest announce_request;  // a client's ANNOUNCE request, not the server's
    CHECK(judge(encode_pcp_request(announce_request)) == AnnouncementVerdict::not_an_announcement);
    CHECK(judge(encode_natpmp_mapping_response(Protocol::udp, NatPmpResult::success, 3, Port{5004}, Port{5004}, 60)) ==
          AnnouncementVerdict::not_an_announcement);
    CHECK(judge(encode_natpmp_external_address_response(NatPmpResult::network_failure, 3, {})) ==
          AnnouncementVerdict::not_an_announcement);
    CHECK(judge({0x02}) == AnnouncementVerdict::not_an_announcement);
    CHECK(judge({}) == AnnouncementVerdict::not_an_announcement);
}

}  // namespace
}  // namespace gw

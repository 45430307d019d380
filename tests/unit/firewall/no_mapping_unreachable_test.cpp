// RFC 5508 REQ-8: when no NAT mapping can be made for a LAN host's packet, the host is
// told so with an ICMP destination unreachable, administratively prohibited (type 3,
// code 13), rate-limited for the whole gateway and counted, instead of its packets
// vanishing; nat.unreachable_when_full: false keeps the silent drop.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine_setup.hpp"
#include "firewall/reject_builder.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint8_t administratively_prohibited = 13;

// A gateway whose every LAN host may hold one external port.
EngineSetup one_port_per_host() {
    EngineSetup setup = engine_setup();
    setup.nat.limits.ports_per_host = 1;
    return setup;
}

// host_a takes its one port; returns the engine's result for its next new mapping's packet.
EngineResult refused_after_one(PacketEngine& nat, Packet second, Instant now = t0) {
    Packet first = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(nat, first, now).verdict == Verdict::forward);
    return outbound(nat, second, now);
}

// The answer the daemon sends about `offending`, or an empty packet when none is due.
Packet answer_to(const Packet& offending) {
    Packet answer(max_reject_size);
    answer.resize(build_no_mapping_unreachable(offending, answer));
    return answer;
}

}  // namespace

TEST_CASE("RFC 5508 REQ-8: a LAN packet refused a mapping asks for an ICMP administratively prohibited to its host") {
    struct Row {
        std::string description;
        EngineSetup setup;
        Packet refused;  // from a LAN host, arriving once host_a holds UDP host_a:5000's mapping
        DropReason reason;
    };
    EngineSetup full_range = engine_setup(PortRange{40000, 40000});
    std::vector<Row> table{
        {"UDP at the host's port limit", one_port_per_host(), udp(at(host_a, 5001), at(server, 53)),
         DropReason::host_port_limit},
        {"a TCP SYN at the host's port limit", one_port_per_host(), tcp(at(host_a, 5001), at(server, 443), tcp_flag::syn),
         DropReason::host_port_limit},
        {"an echo request at the host's port limit", one_port_per_host(),
         icmp_echo(host_a, server, icmp_type::echo_request, 77, 1), DropReason::host_port_limit},
        {"UDP when the range has no free port", full_range, udp(at(host_b, 5000), at(server, 53)),
         DropReason::ports_exhausted},
    };
    for (const Row& row : table) {
        DYNAMIC_SECTION(row.description) {
            PacketEngine nat(row.setup);
            Packet packet = row.refused;
            EngineResult result = refused_after_one(nat, packet);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == row.reason);
            CHECK(result.unreachable);
            CHECK(packet == row.refused);  // dropped before translation: quoted as the host sent it
            CHECK(nat.counters().no_mapping_unreachables == 1);

            Packet answer = answer_to(packet);
            REQUIRE(!answer.empty());
            CHECK(destination_address(answer) == source_address(row.refused));  // to the LAN host, never the WAN
            CHECK(source_address(answer) == Ipv4Address{});  // the kernel fills in the gateway's LAN address
            Packet expected = icmp_error(icmp_type::destination_unreachable, administratively_prohibited, Ipv4Address{},
                                         source_address(row.refused), row.refused, 28);
            CHECK(Bytes(answer.begin() + 20, answer.end()) == Bytes(expected.begin() + 20, expected.end()));
            CHECK(checksum_errors(answer) == "");
        }
    }
}

TEST_CASE("the ICMP answers about refused mappings are at most 10 a second for the whole gateway, the rest counted") {
    PacketEngine nat(one_port_per_host());
    Packet first_a = udp(at(host_a, 5000), at(server, 53)), first_b = udp(at(host_b, 5000), at(server, 53));
    REQUIRE(outbound(nat, first_a).verdict == Verdict::forward);
    REQUIRE(outbound(nat, first_b).verdict == Verdict::forward);
    int asked = 0;
    // 40 refused packets in the same millisecond, from two hosts: the burst of 10 only.
    for (std::uint16_t i = 0; i < 40; ++i) {
        Packet p = udp(at(i % 2 ? host_a : host_b, std::uint16_t(6000 + i)), at(server, 53));
        EngineResult result = outbound(nat, p, t0 + 1ms);
        REQUIRE(result.reason == DropReason::host_port_limit);
        asked += result.unreachable;
    }
    CHECK(asked == 10);
    CHECK(nat.counters().no_mapping_unreachables == 10);
    CHECK(nat.counters().no_mapping_unreachables_suppressed == 30);
    // A second later the bucket holds 10 again.
    Packet later = udp(at(host_a, 7000), at(server, 53));
    CHECK(outbound(nat, later, t0 + 1001ms).unreachable);
    CHECK(nat.counters().no_mapping_unreachables == 11);
}

TEST_CASE("nat.unreachable_when_full false drops a packet refused a mapping silently") {
    EngineSetup setup = one_port_per_host();
    setup.nat.unreachable_when_full = false;
    PacketEngine nat(setup);
    EngineResult result = refused_after_one(nat, udp(at(host_a, 5001), at(server, 53)));
    CHECK(result.reason == DropReason::host_port_limit);
    CHECK_FALSE(result.unreachable);
    CHECK(nat.counters().no_mapping_unreachables == 0);
    CHECK(nat.counters().no_mapping_unreachables_suppressed == 0);
}

TEST_CASE("drops for other reasons than a refused mapping ask for no ICMP answer") {
    EngineSetup setup = one_port_per_host();
    setup.firewall.policies.outbound = RuleAction::drop;
    PacketEngine nat(setup);
    Packet denied = udp(at(host_a, 5000), at(server, 53));
    EngineResult result = outbound(nat, denied);
    CHECK(result.reason == DropReason::denied_by_policy);
    CHECK_FALSE(result.unreachable);
    Packet from_wan = udp(at(server, 53), at(wan_address, 40000));
    CHECK_FALSE(inbound(nat, from_wan).unreachable);
    CHECK(nat.counters().no_mapping_unreachables == 0);
}

TEST_CASE("a hairpinned packet refused a mapping for its sender asks for the ICMP answer too") {
    EngineSetup setup = one_port_per_host();
    PortForward web;
    web.name = "web";
    web.protocol = Protocol::udp;
    web.external_ports = {8080, 8080};
    web.internal = at(host_b, 80);
    setup.firewall.forwards.push_back(web);
    PacketEngine nat(setup);
    Packet dial = udp(at(host_a, 7000), at(wan_address, 8080), {1});
    EngineResult result = refused_after_one(nat, udp(at(host_a, 5000), at(server, 53)));  // host_a's one port
    REQUIRE(result.verdict == Verdict::forward);
    result = nat.translate_hairpin(dial, L4Checksum::complete, t0);
    CHECK(result.reason == DropReason::host_port_limit);
    CHECK(result.unreachable);
}

TEST_CASE("no ICMP answer is built about a fragment, an ICMP error or a non-IPv4 packet") {
    CHECK(answer_to(fragments_of(udp(at(host_a, 5000), at(server, 53), payload_of_size(40)), 24).front()).empty());
    Packet error = icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, host_a, server,
                              udp(at(server, 53), at(host_a, 5000)), 28);
    CHECK(answer_to(error).empty());
    CHECK(answer_to(with_ip_version(udp(at(host_a, 5000), at(server, 53)), 6)).empty());
}

}  // namespace gw::test

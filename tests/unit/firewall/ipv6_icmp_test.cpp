// ICMPv6 through the IPv6 firewall, one test per case of RFC 4890 §4.3 for transit
// traffic: errors pass when they quote a tracked flow, echo is a flow the LAN starts,
// link-scope types never cross, unknown informational types are dropped.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;
using std::chrono::seconds;

EngineSetup ipv6_setup() {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 1024;
    return setup;
}

DropReason in_reason(PacketEngine& e, const Packet& p, Instant now = t0) { return e.judge_ipv6_inbound(p, now).reason; }
DropReason out_reason(PacketEngine& e, const Packet& p, Instant now = t0) {
    return e.judge_ipv6_outbound(p, now).reason;
}

// A LAN host's TCP SYN to the remote_host, sent out: the flow errors may quote.
Packet outbound_syn(PacketEngine& e) {
    Packet syn = v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535}, payload_of_size(100));
    REQUIRE(e.judge_ipv6_outbound(syn, t0).verdict == Verdict::forward);
    return syn;
}

}  // namespace

TEST_CASE("RFC 4890 4.3.1: Packet Too Big for a tracked flow reaches the LAN host, from any path_router on the path") {
    PacketEngine e(ipv6_setup());
    Packet syn = outbound_syn(e);
    CHECK(in_reason(e, icmp_error(icmp6::packet_too_big, 0, path_router, lan_host, syn, 1232, 1280)) == DropReason::none);
    CHECK(in_reason(e, icmp_error(icmp6::packet_too_big, 0, path_router, lan_host, syn, 48, 1280)) == DropReason::none);
}

TEST_CASE("RFC 4890 4.3.1: Destination Unreachable (every code) for a tracked flow passes, port unreachable "
          "only from the remote end") {
    PacketEngine e(ipv6_setup());
    Packet syn = outbound_syn(e);
    for (std::uint8_t code = 0; code <= 7; ++code) {
        INFO("code " << int(code));
        CHECK(in_reason(e, icmp_error(icmp6::destination_unreachable, code, remote_host, lan_host, syn)) == DropReason::none);
        // Port unreachable is the destination host's word (RFC 4443 3.1): from a router on
        // the path it is forged, and would close the LAN host's socket (RFC 5927 5.2).
        CHECK(in_reason(e, icmp_error(icmp6::destination_unreachable, code, path_router, lan_host, syn)) ==
              (code == 4 ? DropReason::icmp_unreachable_not_from_remote : DropReason::none));
    }
}

TEST_CASE("RFC 4890 4.3.1: Time Exceeded code 0 passes; code 1 (reassembly) is dropped") {
    PacketEngine e(ipv6_setup());
    Packet syn = outbound_syn(e);
    CHECK(in_reason(e, icmp_error(icmp6::time_exceeded, 0, path_router, lan_host, syn)) == DropReason::none);
    CHECK(in_reason(e, icmp_error(icmp6::time_exceeded, 1, path_router, lan_host, syn)) == DropReason::icmpv6_type_filtered);
}

TEST_CASE("RFC 4890 4.3.1: Parameter Problem codes 1 and 2 pass; code 0 is dropped") {
    PacketEngine e(ipv6_setup());
    Packet syn = outbound_syn(e);
    CHECK(in_reason(e, icmp_error(icmp6::parameter_problem, 1, remote_host, lan_host, syn)) == DropReason::none);
    // An unrecognised next header is the destination's to say, as IPv4's protocol unreachable.
    CHECK(in_reason(e, icmp_error(icmp6::parameter_problem, 1, path_router, lan_host, syn)) ==
          DropReason::icmp_unreachable_not_from_remote);
    CHECK(in_reason(e, icmp_error(icmp6::parameter_problem, 2, path_router, lan_host, syn)) == DropReason::none);
    CHECK(in_reason(e, icmp_error(icmp6::parameter_problem, 0, path_router, lan_host, syn)) ==
          DropReason::icmpv6_type_filtered);
}

TEST_CASE("an ICMPv6 error quoting no tracked flow is dropped and counted") {
    PacketEngine e(ipv6_setup());
    Packet never_sent = v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn);
    CHECK(in_reason(e, icmp_error(icmp6::packet_too_big, 0, path_router, lan_host, never_sent, 1232, 1280)) ==
          DropReason::icmpv6_error_without_flow);
    CHECK(e.counters().drops[DropReason::icmpv6_error_without_flow] == 1);
}

TEST_CASE("an ICMPv6 error must go to the sender of the packet it quotes") {
    PacketEngine e(ipv6_setup());
    Packet syn = outbound_syn(e);
    CHECK(in_reason(e, icmp_error(icmp6::destination_unreachable, 1, path_router, lan_host_2, syn)) ==
          DropReason::icmpv6_error_without_flow);
}

TEST_CASE("an ICMPv6 error quoting garbage is dropped as malformed") {
    PacketEngine e(ipv6_setup());
    outbound_syn(e);
    Packet junk = v6::icmp(path_router, lan_host, icmp6::destination_unreachable, 0);
    junk.insert(junk.end(), {0x60, 0, 0, 0});  // 4 bytes of a quoted header
    put16(junk, 4, std::uint16_t(junk.size() - 40));
    CHECK(in_reason(e, junk) == DropReason::malformed_icmp_error);
}

TEST_CASE("ICMPv6 errors do not keep a flow alive") {
    PacketEngine e(ipv6_setup());
    Packet probe = v6::udp(lan_host, 5000, remote_host, 53);
    REQUIRE(e.judge_ipv6_outbound(probe, t0).verdict == Verdict::forward);
    CHECK(in_reason(e, icmp_error(icmp6::destination_unreachable, 4, remote_host, lan_host, probe), t0 + seconds(299)) ==
          DropReason::none);
    CHECK(in_reason(e, icmp_error(icmp6::destination_unreachable, 4, remote_host, lan_host, probe), t0 + seconds(301)) ==
          DropReason::icmpv6_error_without_flow);
}

TEST_CASE("a LAN host's ICMPv6 error about an inbound flow goes out") {
    PacketEngine e(ipv6_setup());
    Pinhole p;
    p.id = 1;
    p.internal_client = lan_host;
    p.protocol = 17;
    e.open_pinhole(p);
    Packet datagram = v6::udp(remote_host, 6000, lan_host, 7000, payload_of_size(30));
    REQUIRE(e.judge_ipv6_inbound(datagram, t0).verdict == Verdict::forward);
    CHECK(out_reason(e, icmp_error(icmp6::destination_unreachable, 4, lan_host, remote_host, datagram)) == DropReason::none);
    Packet other = v6::udp(other_remote_host, 6000, lan_host, 7001);
    CHECK(out_reason(e, icmp_error(icmp6::destination_unreachable, 4, lan_host, other_remote_host, other)) ==
          DropReason::icmpv6_error_without_flow);
}

TEST_CASE("RFC 4890 4.3.1: echo request out starts a flow its reply comes back on; an unsolicited reply does not pass") {
    PacketEngine e(ipv6_setup());
    CHECK(out_reason(e, echo(lan_host, remote_host, icmp6::echo_request, 0x77)) == DropReason::none);
    CHECK(in_reason(e, echo(remote_host, lan_host, icmp6::echo_reply, 0x77)) == DropReason::none);
    CHECK(in_reason(e, echo(remote_host, lan_host, icmp6::echo_reply, 0x78)) == DropReason::denied_by_policy);
    CHECK(in_reason(e, echo(other_remote_host, lan_host, icmp6::echo_reply, 0x77)) == DropReason::denied_by_policy);
    // The echo timeout (nat.timeouts.icmp, 60 s) ends it.
    CHECK(in_reason(e, echo(remote_host, lan_host, icmp6::echo_reply, 0x77), t0 + seconds(61)) ==
          DropReason::denied_by_policy);
    // A Destination Unreachable about the echo request passes while the flow lives.
    PacketEngine f(ipv6_setup());
    Packet request = echo(lan_host, remote_host, icmp6::echo_request, 0x99);
    REQUIRE(f.judge_ipv6_outbound(request, t0).verdict == Verdict::forward);
    CHECK(in_reason(f, icmp_error(icmp6::destination_unreachable, 3, path_router, lan_host, request)) == DropReason::none);
}

TEST_CASE("an inbound echo request follows firewall.ipv6.inbound_echo_request") {
    SECTION("policy (default): the inbound policy drops it") {
        PacketEngine e(ipv6_setup());
        CHECK(in_reason(e, echo(remote_host, lan_host, icmp6::echo_request, 5)) == DropReason::denied_by_policy);
    }
    SECTION("policy, with an inbound accept policy: it passes and its reply goes out") {
        EngineSetup setup = ipv6_setup();
        setup.firewall.policies.inbound = RuleAction::accept;
        PacketEngine e(setup);
        CHECK(in_reason(e, echo(remote_host, lan_host, icmp6::echo_request, 5)) == DropReason::none);
        CHECK(out_reason(e, echo(lan_host, remote_host, icmp6::echo_reply, 5)) == DropReason::none);
    }
    SECTION("accept: it passes whatever the policy, and the reply goes out on its flow") {
        EngineSetup setup = ipv6_setup();
        setup.firewall.ipv6.inbound_echo_request = InboundEchoRequest::accept;
        setup.firewall.policies.outbound = RuleAction::drop;
        PacketEngine e(setup);
        CHECK(in_reason(e, echo(remote_host, lan_host, icmp6::echo_request, 5)) == DropReason::none);
        CHECK(out_reason(e, echo(lan_host, remote_host, icmp6::echo_reply, 5)) == DropReason::none);
        CHECK(out_reason(e, echo(lan_host, remote_host, icmp6::echo_reply, 6)) == DropReason::denied_by_policy);
    }
    SECTION("drop: it never passes, even with an inbound accept policy") {
        EngineSetup setup = ipv6_setup();
        setup.firewall.ipv6.inbound_echo_request = InboundEchoRequest::drop;
        setup.firewall.policies.inbound = RuleAction::accept;
        PacketEngine e(setup);
        CHECK(in_reason(e, echo(remote_host, lan_host, icmp6::echo_request, 5)) == DropReason::icmpv6_type_filtered);
    }
}

TEST_CASE("RFC 4890 4.3.3: neighbour and path_router discovery, redirects and MLD are never forwarded") {
    EngineSetup setup = ipv6_setup();
    setup.firewall.policies.inbound = RuleAction::accept;  // even where everything else would pass
    PacketEngine e(setup);
    for (std::uint8_t type : {icmp6::router_solicitation, icmp6::router_advertisement, icmp6::neighbor_solicitation,
                              std::uint8_t(136), icmp6::redirect, std::uint8_t(130), icmp6::mld_report}) {
        INFO("type " << int(type));
        CHECK(in_reason(e, v6::icmp(remote_host, lan_host, type)) == DropReason::icmpv6_link_scope_type);
        CHECK(out_reason(e, v6::icmp(lan_host, remote_host, type)) == DropReason::icmpv6_link_scope_type);
    }
}

TEST_CASE("RFC 4890 4.3.4 and 4.3.5: unknown informational and experimental types are dropped") {
    EngineSetup setup = ipv6_setup();
    setup.firewall.policies.inbound = RuleAction::accept;
    PacketEngine e(setup);
    for (std::uint8_t type : {std::uint8_t(139), std::uint8_t(138), std::uint8_t(200), std::uint8_t(160),
                              std::uint8_t(255), std::uint8_t(100), std::uint8_t(5)}) {
        INFO("type " << int(type));
        CHECK(in_reason(e, v6::icmp(remote_host, lan_host, type)) == DropReason::icmpv6_type_filtered);
        CHECK(out_reason(e, v6::icmp(lan_host, remote_host, type)) == DropReason::icmpv6_type_filtered);
    }
}

}  // namespace gw

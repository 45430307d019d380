// How long a flow keeps its mapping through the engine, to the millisecond: the RFC
// minimums are the defaults (UDP 300 s, TCP established 7440 s, TCP transitory 240 s,
// ICMP 60 s), and a reply one millisecond too late is no longer the LAN's: it falls to
// the input policy like any unsolicited packet. A mapping lives as long as its last flow.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


EngineSetup config() { return engine_setup(PortRange{40000, 40099}); }

void send_out(PacketEngine& nat, Packet packet, Instant now) {
    REQUIRE(nat.translate_outbound(packet, L4Checksum::complete, now).verdict == Verdict::forward);
}
void send_in(PacketEngine& nat, Packet packet, Instant now) {
    REQUIRE(nat.translate_inbound(packet, L4Checksum::complete, now).verdict == Verdict::forward);
}

// host_a:5000 <-> server:443, on the WAN endpoint its SYN is given (send_syn).
TcpConnection connection() { return TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0)); }

// SYN, SYN-ACK, ACK; returns when the last one left.
Instant establish(PacketEngine& nat, TcpConnection& c, Instant start) {
    REQUIRE(send_syn(nat, c, at(host_a, 5000), start).verdict == Verdict::forward);
    send_in(nat, c.from_server(tcp_flag::syn | tcp_flag::ack).sent, start + 10ms);
    send_out(nat, c.from_client(tcp_flag::ack).sent, start + 20ms);
    return start + 20ms;
}

struct Lifetime {
    std::string description;
    // Runs the flow (its TCP on `c`), returns its last activity.
    std::function<Instant(PacketEngine&, TcpConnection&)> flow;
    std::function<Packet(const PacketEngine&, TcpConnection&)> reply;  // from the WAN, once the flow has run
    Instant timeout;
};

Packet server_acks(const PacketEngine&, TcpConnection& c) { return c.from_server(tcp_flag::ack).sent; }

}  // namespace

TEST_CASE("each kind of flow keeps its mapping for exactly its RFC timeout") {
    std::vector<Lifetime> table{
        {"RFC 4787 REQ-5: UDP, 300 s",
         [](PacketEngine& nat, TcpConnection&) {
             send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
             return t0;
         },
         [](const PacketEngine& nat, TcpConnection&) {
             return udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)));
         },
         300s},
        {"RFC 5508 REQ-2: ICMP echo, 60 s",
         [](PacketEngine& nat, TcpConnection&) {
             send_out(nat, icmp_echo(host_a, server, icmp_type::echo_request, 5000, 1), t0);
             return t0;
         },
         [](const PacketEngine& nat, TcpConnection&) {
             return icmp_echo(server, wan_address, icmp_type::echo_reply,
                              mapped_port(nat, Protocol::icmp, at(host_a, 5000)).value, 1);
         },
         60s},
        {"RFC 5382 REQ-5: TCP after a SYN only (partially open), 240 s",
         [](PacketEngine& nat, TcpConnection& c) {
             REQUIRE(send_syn(nat, c, at(host_a, 5000), t0).verdict == Verdict::forward);
             return t0;
         },
         [](const PacketEngine&, TcpConnection& c) { return c.from_server(tcp_flag::syn | tcp_flag::ack).sent; },
         240s},
        {"RFC 5382 REQ-5: TCP after SYN, SYN-ACK, ACK (established), 7440 s",
         [](PacketEngine& nat, TcpConnection& c) { return establish(nat, c, t0); }, server_acks, 7440s},
        {"RFC 5382 REQ-5: established TCP after a FIN from inside, 240 s",
         [](PacketEngine& nat, TcpConnection& c) {
             Instant closed = establish(nat, c, t0) + 1s;
             send_out(nat, c.from_client(tcp_flag::fin | tcp_flag::ack).sent, closed);
             return closed;
         },
         server_acks, 240s},
        {"RFC 5382 REQ-5: established TCP after a RST from inside, 240 s",
         [](PacketEngine& nat, TcpConnection& c) {
             Instant closed = establish(nat, c, t0) + 1s;
             send_out(nat, c.from_client(tcp_flag::rst).sent, closed);
             return closed;
         },
         server_acks, 240s},
        {"RFC 5382 REQ-5: established TCP after a FIN from outside, 240 s",
         [](PacketEngine& nat, TcpConnection& c) {
             Instant closed = establish(nat, c, t0) + 1s;
             send_in(nat, c.from_server(tcp_flag::fin | tcp_flag::ack).sent, closed);
             return closed;
         },
         server_acks, 240s},
        {"RFC 5382 REQ-5: established TCP after a RST from outside, 240 s",
         [](PacketEngine& nat, TcpConnection& c) {
             Instant closed = establish(nat, c, t0) + 1s;
             send_in(nat, c.from_server(tcp_flag::rst).sent, closed);
             return closed;
         },
         server_acks, 240s},
    };
    for (const Lifetime& row : table) {
        DYNAMIC_SECTION(row.description << ": a packet of the flow 1 ms before the end is forwarded") {
            PacketEngine nat(config());
            TcpConnection c = connection();
            Instant last = row.flow(nat, c);
            Packet reply = row.reply(nat, c);
            auto result = nat.translate_inbound(reply, L4Checksum::complete, last + row.timeout - 1ms);
            CHECK(result.verdict == Verdict::forward);
            CHECK(destination_address(reply) == host_a);
        }
        DYNAMIC_SECTION(row.description << ": at the end the flow and its mapping are gone") {
            PacketEngine nat(config());
            TcpConnection c = connection();
            Instant last = row.flow(nat, c);
            CHECK(nat.expire_idle(last + row.timeout - 1ms) == 0);
            CHECK(nat.expire_idle(last + row.timeout) == 1);
            CHECK(nat.mappings().size() == 0);
            CHECK(nat.counters().mappings_expired == 1);
        }
        DYNAMIC_SECTION(row.description << ": a reply at the end is not forwarded") {
            PacketEngine nat(config());
            TcpConnection c = connection();
            Instant last = row.flow(nat, c);
            Packet reply = row.reply(nat, c);
            Packet untouched = reply;
            auto result = nat.translate_inbound(reply, L4Checksum::complete, last + row.timeout);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == DropReason::denied_by_policy);
            CHECK(reply == untouched);
            CHECK(nat.mappings().size() == 0);
        }
    }
}

TEST_CASE("RFC 4787 REQ-6: outbound traffic refreshes a UDP flow and so its mapping") {
    PacketEngine nat(config());
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0 + 200s);

    Packet reply = udp(at(server, 53), mapped_endpoint(nat, Protocol::udp, at(host_a, 5000)));
    CHECK(nat.translate_inbound(reply, L4Checksum::complete, t0 + 499s).verdict == Verdict::forward);
    CHECK(nat.expire_idle(t0 + 499s + 300s - 1ms) == 0);
    CHECK(nat.expire_idle(t0 + 499s + 300s) == 1);
    CHECK(nat.mappings().size() == 0);
}

TEST_CASE("a mapping lives as long as the last of its flows") {
    PacketEngine nat(config());
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
    send_out(nat, udp(at(host_a, 5000), at(other_server, 53)), t0 + 200s);
    REQUIRE(nat.flows().size() == 2);
    REQUIRE(nat.mappings().size() == 1);
    const Endpoint mapped = mapped_endpoint(nat, Protocol::udp, at(host_a, 5000));

    CHECK(nat.expire_idle(t0 + 300s) == 1);
    CHECK(nat.mappings().size() == 1);
    CHECK(nat.counters().mappings_expired == 0);
    // The flow to other_server still holds the mapping: its replies come back, on the same port.
    Packet reply = udp(at(other_server, 53), mapped);
    CHECK(nat.translate_inbound(reply, L4Checksum::complete, t0 + 499s).verdict == Verdict::forward);
    Packet again = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(nat.translate_outbound(again, L4Checksum::complete, t0 + 499s).verdict == Verdict::forward);
    // RFC 4787 REQ-1: the new flow to server reuses the live mapping.
    CHECK(source_of(again) == mapped);
    CHECK(nat.counters().mappings_created == 1);
}

TEST_CASE("expire_idle reclaims idle flows, their mappings with them, and counts both") {
    PacketEngine nat(config());
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
    send_out(nat, udp(at(host_b, 5000), at(server, 53)), t0);
    send_out(nat, icmp_echo(host_a, server, icmp_type::echo_request, 1, 1), t0);
    send_out(nat, tcp(at(host_b, 6000), at(server, 80), tcp_flag::syn), t0);
    REQUIRE(nat.mappings().size() == 4);
    REQUIRE(nat.flows().size() == 4);
    CHECK(nat.counters().flows_created == 4);
    CHECK(nat.counters().mappings_created == 4);

    CHECK(nat.expire_idle(t0 + 60s) == 1);
    CHECK(nat.counters().flows_expired == 1);
    CHECK(nat.counters().mappings_expired == 1);
    CHECK(nat.expire_idle(t0 + 300s) == 3);
    CHECK(nat.counters().flows_expired == 4);
    CHECK(nat.counters().mappings_expired == 4);
    CHECK(nat.mappings().size() == 0);
    CHECK(nat.flows().size() == 0);
    CHECK(nat.expire_idle(t0 + 10000s) == 0);
    CHECK(nat.counters().mappings_expired == 4);
}

TEST_CASE("after expiry the external port goes to the next host that needs it") {
    EngineSetup one_port = config();
    one_port.nat.port_range = {40000, 40000};
    PacketEngine nat(one_port);
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);

    Packet too_early = udp(at(host_b, 5000), at(server, 53));
    CHECK(nat.translate_outbound(too_early, L4Checksum::complete, t0 + 300s - 1ms).reason ==
          DropReason::ports_exhausted);

    // No expire_idle in between: expiry is exact whatever the reclaim cadence.
    Packet in_time = udp(at(host_b, 5000), at(server, 53));
    auto result = nat.translate_outbound(in_time, L4Checksum::complete, t0 + 300s);
    REQUIRE(result.reason == DropReason::none);
    REQUIRE(result.verdict == Verdict::forward);
    CHECK(source_of(in_time) == at(wan_address, 40000));
    Packet reply = udp(at(server, 53), at(wan_address, 40000));
    REQUIRE(nat.translate_inbound(reply, L4Checksum::complete, t0 + 301s).verdict == Verdict::forward);
    CHECK(destination_of(reply) == at(host_b, 5000));
}

TEST_CASE("a full table makes room by reclaiming expired flows and their mappings") {
    EngineSetup one_mapping = config();
    one_mapping.nat.max_mappings = 1;
    PacketEngine nat(one_mapping);
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);

    // host_a may not evict its own flow (its flow limit is capped at the table's size).
    Packet too_early = udp(at(host_a, 6000), at(server, 53));
    CHECK(nat.translate_outbound(too_early, L4Checksum::complete, t0 + 1s).reason == DropReason::host_flow_limit);

    // No expire_idle in between: host_a's flow expired at t0 + 300 s all the same.
    Packet in_time = udp(at(host_b, 5000), at(server, 53));
    auto result = nat.translate_outbound(in_time, L4Checksum::complete, t0 + 300s);
    CHECK(result.reason == DropReason::none);
    CHECK(result.verdict == Verdict::forward);
    CHECK(nat.mappings().size() == 1);
    CHECK(nat.counters().flows_evicted == 0);  // reclaimed as expired, not evicted
}

TEST_CASE("a mapping whose flows have all expired admits no one, even before it is reclaimed") {
    for (auto filtering : {FilteringBehaviour::endpoint_independent, FilteringBehaviour::address_dependent}) {
        DYNAMIC_SECTION(filtering_behaviour_name(filtering) << " filtering") {
            EngineSetup setup = config();
            setup.firewall.filtering = filtering;
            PacketEngine nat(setup);
            send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
            const Endpoint mapped = mapped_endpoint(nat, Protocol::udp, at(host_a, 5000));

            // No expire_idle in between. server:1234 (or anyone, under endpoint-independent
            // filtering) could use the mapping while it lived; at t0 + 300 s it is gone.
            Packet late = udp(at(server, 1234), mapped);
            Packet untouched = late;
            auto result = nat.translate_inbound(late, L4Checksum::complete, t0 + 300s);
            CHECK(result.verdict == Verdict::drop);
            CHECK(result.reason == DropReason::denied_by_policy);
            CHECK(late == untouched);
            nat.expire_idle(t0 + 300s);
            CHECK(nat.flows().size() == 0);
            CHECK(nat.mappings().size() == 0);
        }
    }
}

TEST_CASE("every expired flow and mapping is counted, whether expire_idle or a lookup finds it expired") {
    PacketEngine nat(config());
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
    send_out(nat, udp(at(host_b, 5000), at(server, 53)), t0);
    REQUIRE(nat.counters().mappings_created == 2);
    const Endpoint host_a_mapped = mapped_endpoint(nat, Protocol::udp, at(host_a, 5000));

    // host_a's reply comes too late: the lookup finds its flow expired and removes it,
    // and with it the mapping; the reply is then unsolicited, for the input policy.
    Packet late = udp(at(server, 53), host_a_mapped);
    auto result = nat.translate_inbound(late, L4Checksum::complete, t0 + 300s);
    REQUIRE(result.verdict == Verdict::drop);
    REQUIRE(result.reason == DropReason::denied_by_policy);
    // host_b speaks again after its flow expired: a new flow and mapping replace them.
    send_out(nat, udp(at(host_b, 5000), at(server, 53)), t0 + 400s);

    EngineCounters counters = nat.counters();
    CHECK(counters.flows_created == 3);
    CHECK(counters.flows_expired == 2);
    CHECK(counters.flows_created - counters.flows_expired == nat.flows().size());
    CHECK(counters.mappings_created == 3);
    CHECK(counters.mappings_created - counters.mappings_expired == nat.mappings().size());
    CHECK(counters.mappings_expired == 2);
}

}  // namespace gw::test

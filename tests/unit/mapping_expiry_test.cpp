// How long a flow keeps its mapping through the translator, to the millisecond: the
// RFC minimums are the defaults (UDP 300 s, TCP established 7440 s, TCP transitory
// 240 s, ICMP 60 s), and a reply one millisecond too late is no longer the LAN's.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "nat/translator.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Instant t0 = 1'000'000ms;

NatConfig config() {
    NatConfig c;
    c.wan_address = wan_address;
    c.port_range = {40000, 40099};
    return c;
}

void send_out(Translator& nat, Packet packet, Instant now) {
    REQUIRE(nat.translate_outbound(packet, L4Checksum::complete, now).verdict == Verdict::forward);
}
void send_in(Translator& nat, Packet packet, Instant now) {
    REQUIRE(nat.translate_inbound(packet, L4Checksum::complete, now).verdict == Verdict::forward);
}

// host_a:5000 <-> server:443 as it leaves (40000 on the WAN), one segment each.
Packet tcp_out(std::uint8_t flags) { return tcp(at(host_a, 5000), at(server, 443), flags); }
Packet tcp_in(std::uint8_t flags) { return tcp(at(server, 443), at(wan_address, 40000), flags); }

// SYN, SYN-ACK, ACK; returns when the last one left.
Instant establish(Translator& nat, Instant start) {
    send_out(nat, tcp_out(tcp_flag::syn), start);
    send_in(nat, tcp_in(tcp_flag::syn | tcp_flag::ack), start + 10ms);
    send_out(nat, tcp_out(tcp_flag::ack), start + 20ms);
    return start + 20ms;
}

struct Lifetime {
    std::string description;
    std::function<Instant(Translator&)> flow;  // runs the flow, returns its last activity
    Packet reply;
    Instant timeout;
};

}  // namespace

TEST_CASE("each kind of flow keeps its mapping for exactly its RFC timeout") {
    std::vector<Lifetime> table{
        {"RFC 4787 REQ-5: UDP, 300 s",
         [](Translator& nat) {
             send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
             return t0;
         },
         udp(at(server, 53), at(wan_address, 40000)), 300s},
        {"RFC 5508 REQ-2: ICMP echo, 60 s",
         [](Translator& nat) {
             send_out(nat, icmp_echo(host_a, server, icmp_type::echo_request, 5000, 1), t0);
             return t0;
         },
         icmp_echo(server, wan_address, icmp_type::echo_reply, 40000, 1), 60s},
        {"RFC 5382 REQ-5: TCP after a SYN only (partially open), 240 s",
         [](Translator& nat) {
             send_out(nat, tcp_out(tcp_flag::syn), t0);
             return t0;
         },
         tcp_in(tcp_flag::syn | tcp_flag::ack), 240s},
        {"RFC 5382 REQ-5: TCP after SYN, SYN-ACK, ACK (established), 7440 s",
         [](Translator& nat) { return establish(nat, t0); }, tcp_in(tcp_flag::ack), 7440s},
        {"RFC 5382 REQ-5: established TCP after a FIN from inside, 240 s",
         [](Translator& nat) {
             Instant closed = establish(nat, t0) + 1s;
             send_out(nat, tcp_out(tcp_flag::fin | tcp_flag::ack), closed);
             return closed;
         },
         tcp_in(tcp_flag::ack), 240s},
        {"RFC 5382 REQ-5: established TCP after a RST from inside, 240 s",
         [](Translator& nat) {
             Instant closed = establish(nat, t0) + 1s;
             send_out(nat, tcp_out(tcp_flag::rst), closed);
             return closed;
         },
         tcp_in(tcp_flag::ack), 240s},
        {"RFC 5382 REQ-5: established TCP after a FIN from outside, 240 s",
         [](Translator& nat) {
             Instant closed = establish(nat, t0) + 1s;
             send_in(nat, tcp_in(tcp_flag::fin | tcp_flag::ack), closed);
             return closed;
         },
         tcp_in(tcp_flag::ack), 240s},
        {"RFC 5382 REQ-5: established TCP after a RST from outside, 240 s",
         [](Translator& nat) {
             Instant closed = establish(nat, t0) + 1s;
             send_in(nat, tcp_in(tcp_flag::rst), closed);
             return closed;
         },
         tcp_in(tcp_flag::ack), 240s},
    };
    for (const Lifetime& row : table) {
        DYNAMIC_SECTION(row.description << ": a reply 1 ms before the end is forwarded") {
            Translator nat(config());
            Instant last = row.flow(nat);
            Packet reply = row.reply;
            CHECK(nat.translate_inbound(reply, L4Checksum::complete, last + row.timeout - 1ms).verdict ==
                  Verdict::forward);
            CHECK(destination_address(reply) == host_a);
        }
        DYNAMIC_SECTION(row.description << ": a reply at the end is not forwarded") {
            Translator nat(config());
            Instant last = row.flow(nat);
            Packet reply = row.reply;
            Packet untouched = reply;
            CHECK(nat.translate_inbound(reply, L4Checksum::complete, last + row.timeout).verdict ==
                  Verdict::deliver_locally);
            CHECK(reply == untouched);
        }
    }
}

TEST_CASE("RFC 4787 REQ-6: outbound traffic refreshes a UDP mapping") {
    Translator nat(config());
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
    send_out(nat, udp(at(host_a, 5000), at(other_server, 53)), t0 + 200s);

    Packet reply = udp(at(server, 53), at(wan_address, 40000));
    CHECK(nat.translate_inbound(reply, L4Checksum::complete, t0 + 499s).verdict == Verdict::forward);
    CHECK(nat.expire_idle(t0 + 499s + 300s - 1ms) == 0);
    CHECK(nat.expire_idle(t0 + 499s + 300s) == 1);
}

TEST_CASE("expire_idle reclaims idle mappings and counts them") {
    Translator nat(config());
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
    send_out(nat, udp(at(host_b, 5000), at(server, 53)), t0);
    send_out(nat, icmp_echo(host_a, server, icmp_type::echo_request, 1, 1), t0);
    send_out(nat, tcp(at(host_b, 6000), at(server, 80), tcp_flag::syn), t0);
    REQUIRE(nat.mappings().size() == 4);

    CHECK(nat.expire_idle(t0 + 60s) == 1);
    CHECK(nat.counters().mappings_expired == 1);
    CHECK(nat.expire_idle(t0 + 300s) == 3);
    CHECK(nat.counters().mappings_expired == 4);
    CHECK(nat.mappings().size() == 0);
    CHECK(nat.expire_idle(t0 + 10000s) == 0);
    CHECK(nat.counters().mappings_expired == 4);
}

TEST_CASE("after expiry the external port goes to the next host that needs it") {
    NatConfig one_port = config();
    one_port.port_range = {40000, 40000};
    Translator nat(one_port);
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);

    Packet too_early = udp(at(host_b, 5000), at(server, 53));
    CHECK(nat.translate_outbound(too_early, L4Checksum::complete, t0 + 300s - 1ms).reason ==
          DropReason::ports_exhausted);

    Packet in_time = udp(at(host_b, 5000), at(server, 53));
    REQUIRE(nat.translate_outbound(in_time, L4Checksum::complete, t0 + 300s).verdict == Verdict::forward);
    CHECK(source_of(in_time) == at(wan_address, 40000));
    Packet reply = udp(at(server, 53), at(wan_address, 40000));
    REQUIRE(nat.translate_inbound(reply, L4Checksum::complete, t0 + 301s).verdict == Verdict::forward);
    CHECK(destination_of(reply) == at(host_b, 5000));
}

TEST_CASE("every expired mapping is counted, whether expire_idle or a lookup finds it expired") {
    Translator nat(config());
    send_out(nat, udp(at(host_a, 5000), at(server, 53)), t0);
    send_out(nat, udp(at(host_b, 5000), at(server, 53)), t0);
    REQUIRE(nat.counters().mappings_created == 2);

    // host_a's reply comes too late: the lookup finds its mapping expired and removes it.
    Packet late = udp(at(server, 53), at(wan_address, 40000));
    REQUIRE(nat.translate_inbound(late, L4Checksum::complete, t0 + 300s).verdict == Verdict::deliver_locally);
    // host_b speaks again after its mapping expired: a new one replaces it.
    send_out(nat, udp(at(host_b, 5000), at(server, 53)), t0 + 400s);

    const TranslatorCounters& counters = nat.counters();
    CHECK(counters.mappings_created == 3);
    CHECK(counters.mappings_created - counters.mappings_expired == nat.mappings().size());
    CHECK(counters.mappings_expired == 2);
}

}  // namespace gw::test

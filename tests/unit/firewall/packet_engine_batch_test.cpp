// PacketEngine::judge_batch against the single-packet calls: the same crafted packets,
// through two engines built alike, one judging them one by one and one in batches,
// must leave the same verdicts, bytes, counters and flows. The batch's prefetching is a
// hint: a packet that creates, answers or ends the flow a later packet of the same
// batch (or prefetch group) uses must not change a thing.
#include <algorithm>
#include <sstream>

#include "engine_setup.hpp"

namespace gw {
namespace {

using namespace gw::test;
using namespace std::chrono_literals;

constexpr Ipv4Address web_server = host_b;
constexpr Ipv4Address stranger = Ipv4Address::from_octets(192, 0, 2, 99);

EngineSetup batch_setup() {
    EngineSetup setup = engine_setup();
    PortForward web;
    web.name = "web";
    web.protocol = Protocol::tcp;
    web.external_ports = {8080, 8080};
    web.internal = at(web_server, 80);
    setup.firewall.forwards = {web};
    FirewallRule reject_telnet;
    reject_telnet.name = "no-telnet";
    reject_telnet.direction = RuleDirection::outbound;
    reject_telnet.action = RuleAction::reject;
    reject_telnet.log = true;
    reject_telnet.protocol = Protocol::tcp;
    reject_telnet.destination_ports = {PortRange{23, 23}};
    setup.firewall.rules = {reject_telnet};
    return setup;
}

struct BatchPacket {
    Packet bytes;
    EnginePath path;
};

struct Batch {
    Instant now;
    std::vector<BatchPacket> packets;
};

std::string flows_of(const PacketEngine& engine) {
    std::ostringstream out;
    engine.flows().for_each([&](const Flow& f) {
        out << int(f.protocol) << ' ' << f.internal.address.to_string() << ':' << f.internal.port.value << ' '
            << f.remote.address.to_string() << ':' << f.remote.port.value << " ext " << f.external.value << " origin "
            << int(f.origin) << " class " << int(f.timeout_class) << " reply " << f.reply_seen << " tcp "
            << int(f.tcp.state()) << " last " << f.last_activity.count() << " mapping " << f.mapping << " peer "
            << f.peer << '\n';
    });
    return out.str();
}

std::string counters_of(const PacketEngine& engine) {
    EngineCounters c = engine.counters();
    std::ostringstream out;
    out << c.outbound_packets << ' ' << c.outbound_bytes << ' ' << c.inbound_packets << ' ' << c.inbound_bytes << ' '
        << c.local_packets << ' ' << c.flows_created << ' ' << c.flows_expired << ' ' << c.flows_evicted << ' '
        << c.mappings_created << ' ' << c.mappings_expired << " drops";
    for (std::size_t r = 0; r < drop_reason_count; ++r) out << ' ' << c.drops[DropReason(r)];
    return out.str();
}

// The same traffic both ways; checks equality after every batch.
void check_batches_match_single_calls(const EngineSetup& setup, std::vector<Batch> batches,
                                      std::vector<EngineResult>& single_results) {
    PacketEngine single(setup), batched(setup);
    for (Batch& batch : batches) {
        std::vector<Packet> single_bytes, batch_bytes;
        for (const BatchPacket& p : batch.packets) {
            single_bytes.push_back(p.bytes);
            batch_bytes.push_back(p.bytes);
        }
        std::vector<EnginePacket> packets;
        for (std::size_t i = 0; i < batch.packets.size(); ++i) {
            single_results.push_back(single.judge({single_bytes[i], batch.packets[i].path}, batch.now));
            packets.push_back({batch_bytes[i], batch.packets[i].path});
        }
        std::vector<EngineResult> results(packets.size());
        batched.judge_batch(packets, batch.now, results);
        const std::size_t first = single_results.size() - packets.size();
        for (std::size_t i = 0; i < packets.size(); ++i) {
            INFO("packet " << i << " of the batch at " << batch.now.count() << " ms");
            const EngineResult& expected = single_results[first + i];
            CHECK(results[i].verdict == expected.verdict);
            CHECK(results[i].reason == expected.reason);
            // Each engine holds its own rules: compare the deciding rule by name.
            CHECK((results[i].rule ? results[i].rule->name : "") == (expected.rule ? expected.rule->name : ""));
            CHECK(results[i].log == expected.log);
            CHECK(batch_bytes[i] == single_bytes[i]);
        }
        CHECK(counters_of(batched) == counters_of(single));
        CHECK(flows_of(batched) == flows_of(single));
    }
}

}  // namespace

TEST_CASE("a batch judged with prefetching gives exactly what the packets judged one by one give") {
    const Endpoint a_udp = at(host_a, 40010), a_tcp = at(host_a, 40020), hairpin_client = at(host_a, 40040);
    const Endpoint dns = at(server, 53), web = at(server, 80);
    const Endpoint wan_udp = at(wan_address, 40010), wan_tcp = at(wan_address, 40020);
    TcpNumbers client{1000, 0, 64240}, answer{5000, 1001, 64240}, client_ack{1001, 5001, 64240};
    Packet bad_syn = tcp(at(host_a, 40050), web, tcp_flag::syn, client);
    bad_syn[20 + 16] ^= 0xff;  // its TCP checksum
    Packet quoted = udp(wan_udp, dns);  // what the server got, as the error quotes it

    std::vector<Batch> batches;
    batches.push_back({t0,
                       {
                           {udp(a_udp, dns), EnginePath::outbound},             // new flow
                           {udp(dns, wan_udp), EnginePath::inbound},            // its reply, same batch
                           {tcp(a_tcp, web, tcp_flag::syn, client), EnginePath::outbound},
                           {tcp(web, wan_tcp, tcp_flag::syn | tcp_flag::ack, answer), EnginePath::inbound},
                           {tcp(a_tcp, web, tcp_flag::ack, client_ack), EnginePath::outbound},
                           {icmp_echo(host_a, server, icmp_type::echo_request, 40030, 1), EnginePath::outbound},
                           {icmp_echo(server, wan_address, icmp_type::echo_reply, 40030, 1), EnginePath::inbound},
                           {udp(at(stranger, 53), wan_udp), EnginePath::inbound},  // filtered by the mapping
                           {udp(at(stranger, 53), at(server, 53)), EnginePath::outbound},  // spoofed LAN source
                           {cut_to(udp(a_udp, dns), 24), EnginePath::outbound},    // transport header cut short
                           {first_bytes(udp(a_udp, dns), 10), EnginePath::inbound},  // not even an IP header
                           {tcp(hairpin_client, at(wan_address, 8080), tcp_flag::syn, client), EnginePath::hairpin},
                           {icmp_error(icmp_type::destination_unreachable, icmp_code::port_unreachable, router,
                                       wan_address, quoted, 28),
                            EnginePath::inbound},
                           {bad_syn, EnginePath::outbound},
                           {tcp(at(host_a, 40060), at(server, 23), tcp_flag::syn, client), EnginePath::outbound},
                           {udp(at(stranger, 9), at(wan_address, 9999)), EnginePath::inbound},  // nobody's port
                           {udp(at(host_a, 40070), at(host_b, 53)), EnginePath::input_from_lan},
                           // second prefetch group: flows of the first one
                           {udp(a_udp, dns), EnginePath::outbound},
                           {udp(dns, wan_udp), EnginePath::inbound},
                           {tcp(web, wan_tcp, tcp_flag::rst, answer), EnginePath::inbound},  // ends it
                           {tcp(a_tcp, web, tcp_flag::ack, client_ack), EnginePath::outbound},
                       }});
    // Past the ICMP and UDP timeouts: each lookup reclaims its expired flow, and the
    // first packet starts a new one that the second then answers.
    batches.push_back({t0 + 400s,
                       {
                           {icmp_echo(server, wan_address, icmp_type::echo_reply, 40030, 2), EnginePath::inbound},
                           {udp(dns, wan_udp), EnginePath::inbound},
                           {udp(a_udp, dns), EnginePath::outbound},
                           {udp(dns, wan_udp), EnginePath::inbound},
                       }});
    std::vector<EngineResult> results;
    check_batches_match_single_calls(batch_setup(), batches, results);

    // The traffic does reach every kind of outcome the batch could get wrong.
    auto count = [&](Verdict v) { return std::count_if(results.begin(), results.end(), [&](auto& r) { return r.verdict == v; }); };
    CHECK(count(Verdict::forward) >= 10);
    CHECK(count(Verdict::drop) >= 5);
    CHECK(count(Verdict::reject) >= 1);
    CHECK(results[1].verdict == Verdict::forward);   // the reply found the flow made just before
    CHECK(results[22].verdict == Verdict::drop);     // the expired ping's reply
    CHECK(results[24].verdict == Verdict::forward);  // the new UDP flow's reply
}

TEST_CASE("a batch larger than a prefetch group of many flows matches the single calls") {
    EngineSetup setup = engine_setup(PortRange{40000, 40999});
    setup.nat.max_mappings = 64;  // full: the later flows evict or are refused
    std::vector<Batch> batches(1, Batch{t0, {}});
    for (std::uint16_t i = 0; i < 100; ++i) {
        Endpoint lan = at(host_a, std::uint16_t(40000 + i % 80));
        Endpoint remote = at(server, std::uint16_t(1000 + i % 7));
        batches[0].packets.push_back({udp(lan, remote), EnginePath::outbound});
        batches[0].packets.push_back({udp(remote, at(wan_address, lan.port.value)), EnginePath::inbound});
    }
    batches.push_back(batches[0]);
    batches.back().now = t0 + 1s;
    std::vector<EngineResult> results;
    check_batches_match_single_calls(setup, batches, results);
    CHECK(std::count_if(results.begin(), results.end(), [](auto& r) { return r.verdict == Verdict::forward; }) > 100);
}

}  // namespace gw

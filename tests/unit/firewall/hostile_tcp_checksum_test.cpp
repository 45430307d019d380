// A SYN, FIN or RST decides the state of its connection, so the engine makes sure it is
// the segment its sender sent (bad_tcp_checksum) before it lets it close or open a flow.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"
#include "tcp_connection.hpp"

namespace gw::test {
namespace {

void establish(PacketEngine& nat, TcpConnection& c, Endpoint lan_client) {
    REQUIRE(send_syn(nat, c, lan_client).verdict == Verdict::forward);
    for (Crossing s : {c.from_server(tcp_flag::syn | tcp_flag::ack), c.from_client(tcp_flag::ack)}) {
        Packet p = s.sent;
        REQUIRE((destination_address(p) == wan_address ? inbound(nat, p) : outbound(nat, p)).verdict ==
                Verdict::forward);
    }
}

Packet with_broken_tcp_checksum(Packet p) {
    put16(p, 20 + 16, std::uint16_t(get16(p, 20 + 16) ^ 0x1234));
    return p;
}

}  // namespace

TEST_CASE("a state-changing TCP segment with a bad checksum is dropped and leaves the flow as it was") {
    PacketEngine nat(engine_setup());
    TcpConnection c = TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0));
    establish(nat, c, at(host_a, 5000));
    Packet reset = with_broken_tcp_checksum(c.from_server(tcp_flag::rst).sent);  // exactly in sequence
    CHECK(inbound(nat, reset).reason == DropReason::bad_tcp_checksum);
    const Flow* flow = flow_between(nat, at(host_a, 5000), at(server, 443));
    REQUIRE(flow);
    CHECK(flow->tcp.state() == TcpState::established);
    Packet data = c.from_client(tcp_flag::ack | tcp_flag::psh, payload_of_size(10)).sent;
    CHECK(outbound(nat, data).verdict == Verdict::forward);
}

TEST_CASE("a SYN with a bad checksum opens no flow, from either side") {
    EngineSetup setup = engine_setup();
    setup.firewall.dmz_host = host_b;
    PacketEngine nat(setup);
    Packet from_lan = with_broken_tcp_checksum(tcp(at(host_a, 5000), at(server, 443), tcp_flag::syn));
    CHECK(outbound(nat, from_lan).reason == DropReason::bad_tcp_checksum);
    Packet from_wan = with_broken_tcp_checksum(tcp(at(server, 443), at(wan_address, 3389), tcp_flag::syn));
    CHECK(inbound(nat, from_wan).reason == DropReason::bad_tcp_checksum);
    CHECK(nat.flows().size() == 0);
    CHECK(nat.counters().drops[DropReason::bad_tcp_checksum] == 2);
}

TEST_CASE("checksums are not judged where the kernel has not finished them, nor on data segments") {
    PacketEngine nat(engine_setup());
    TcpConnection c = TcpConnection::outbound(at(host_a, 5000), at(server, 443), at(wan_address, 0));
    Packet partial = with_checksum_partial(c.from_client(tcp_flag::syn).sent);  // CHECKSUM_PARTIAL from a LAN stack
    CHECK(nat.translate_outbound(partial, L4Checksum::pseudo_header_only, t0).verdict == Verdict::forward);
    c.external_is(mapped_endpoint(nat, Protocol::tcp, at(host_a, 5000)));
    Packet answer = c.from_server(tcp_flag::syn | tcp_flag::ack).sent;
    REQUIRE(inbound(nat, answer).verdict == Verdict::forward);
    Packet ack = c.from_client(tcp_flag::ack).sent;
    REQUIRE(outbound(nat, ack).verdict == Verdict::forward);
    // A data segment's checksum is the receiver's to check: passed on as it is (no full sum per packet).
    Packet data = with_broken_tcp_checksum(c.from_server(tcp_flag::ack | tcp_flag::psh, payload_of_size(20)).sent);
    CHECK(inbound(nat, data).verdict == Verdict::forward);
}

}  // namespace gw::test

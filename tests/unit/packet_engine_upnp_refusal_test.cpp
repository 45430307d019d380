// Every UPnP refusal the packet path makes is counted by its reason (gatewayctl status:
// upnp_refusals): the request guard's verdicts, SSDP or HTTP to the IGD arriving on the
// WAN side, and the 4xx answers of pupnp's HTTP server (malformed SOAP it refused itself).
#include <catch2/catch.hpp>

#include <string>

#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

constexpr Ipv4Address gateway_lan = Ipv4Address::from_octets(192, 168, 1, 1);
constexpr std::uint16_t http_port = 49152;

EngineSetup upnp_setup() {
    EngineSetup setup = engine_setup();
    setup.upnp_http = at(gateway_lan, http_port);
    return setup;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::uint64_t refused(const PacketEngine& engine, UpnpRequestVerdict verdict) {
    return engine.counters().upnp_requests_refused[std::size_t(verdict)];
}

constexpr std::uint8_t psh_ack = 0x18, syn = 0x02;

}  // namespace

TEST_CASE("a request with a foreign Host header is refused and counted as foreign_host (DNS rebinding)") {
    PacketEngine engine(upnp_setup());
    Packet request = tcp(at(host_a, 40000), at(gateway_lan, http_port), psh_ack,
                         text("POST /ctl/IPConn HTTP/1.1\r\nHost: evil.example:49152\r\nContent-Length: 10\r\n\r\n"));
    CHECK(engine.judge_input_from_lan(request, t0).verdict == Verdict::reject);
    CHECK(refused(engine, UpnpRequestVerdict::foreign_host) == 1);
    CHECK(refused(engine, UpnpRequestVerdict::too_large) == 0);
    CHECK(engine.counters().drops[DropReason::upnp_request_refused] == 1);
}

TEST_CASE("a SUBSCRIBE with a CALLBACK outside the LAN and an oversized body are each counted by reason") {
    PacketEngine engine(upnp_setup());
    Packet subscribe = tcp(at(host_a, 40001), at(gateway_lan, http_port), psh_ack,
                           text("SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: 192.168.1.1:49152\r\n"
                                "CALLBACK: <http://198.51.100.7/>\r\nNT: upnp:event\r\n\r\n"));
    Packet oversized = tcp(at(host_a, 40002), at(gateway_lan, http_port), psh_ack,
                           text("POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.1.1:49152\r\nContent-Length: 100000\r\n\r\n"));
    CHECK(engine.judge_input_from_lan(subscribe, t0).verdict == Verdict::reject);
    CHECK(engine.judge_input_from_lan(oversized, t0).verdict == Verdict::reject);
    CHECK(refused(engine, UpnpRequestVerdict::callback_outside_lan) == 1);
    CHECK(refused(engine, UpnpRequestVerdict::too_large) == 1);
}

TEST_CASE("SSDP and IGD HTTP from the WAN side are dropped and counted as from_wan") {
    PacketEngine engine(upnp_setup());
    Packet http_syn = tcp(at(server, 41000), at(wan_address, http_port), syn);
    Packet ssdp_unicast = udp(at(server, 41001), at(wan_address, 1900), text("M-SEARCH * HTTP/1.1\r\n\r\n"));
    Packet ssdp_multicast = udp(at(server, 41002), at(Ipv4Address::from_octets(239, 255, 255, 250), 1900),
                                text("M-SEARCH * HTTP/1.1\r\n\r\n"));
    CHECK(inbound(engine, http_syn, t0).verdict == Verdict::drop);
    CHECK(inbound(engine, ssdp_unicast, t0).verdict == Verdict::drop);
    CHECK(inbound(engine, ssdp_multicast, t0).verdict == Verdict::drop);
    CHECK(engine.counters().upnp_from_wan_refused == 3);

    Packet other = tcp(at(server, 41003), at(wan_address, 22), syn);
    inbound(engine, other, t0);
    CHECK(engine.counters().upnp_from_wan_refused == 3);  // not a UPnP port
}

TEST_CASE("the IGD server's 4xx answers are counted, its 200 and 500 answers are not") {
    PacketEngine engine(upnp_setup());
    auto answer = [&](std::uint16_t client_port, const std::string& head) {
        Packet p = tcp(at(gateway_lan, http_port), at(host_a, client_port), psh_ack, text(head));
        engine.track_local_output(p, t0);
    };
    answer(40010, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    answer(40011, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    answer(40012, "HTTP/1.1 500 Internal Server Error\r\n\r\n");  // a SOAP fault: the IGD counts those
    answer(40013, "<s:Envelope>HTTP/1.1 404 Not Found</s:Envelope>");  // a body, not a status line
    CHECK(engine.counters().upnp_http_answered_4xx == 1);

    // Another server of the gateway answering 404 is none of UPnP's business.
    Packet other = tcp(at(gateway_lan, 80), at(host_a, 40014), psh_ack, text("HTTP/1.1 404 Not Found\r\n\r\n"));
    engine.track_local_output(other, t0);
    CHECK(engine.counters().upnp_http_answered_4xx == 1);
}

TEST_CASE("an HTTP status line is read only at the start of a segment, three digits") {
    CHECK(http_response_status("HTTP/1.1 400 Bad Request\r\n") == 400);
    CHECK(http_response_status("HTTP/1.0 413\r\n") == 413);
    CHECK(http_response_status("HTTP/1.1 200 OK") == 200);
    CHECK(http_response_status("HTTP/1.1 40 Bad\r\n") == 0);
    CHECK(http_response_status("HTTP/1.1 4000 x") == 0);
    CHECK(http_response_status("HTTP/2 400 x\r\n") == 0);
    CHECK(http_response_status("xHTTP/1.1 400 x") == 0);
    CHECK(http_response_status("") == 0);
}

}  // namespace gw::test

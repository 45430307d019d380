// The IGD's HTTP front end reads each request with http-parser and judges it whole
// (issue 14 item 2): what a segment-by-segment guard missed is refused here.
#include <catch2/catch.hpp>

#include <string>

#include "igd/http_request_judge.hpp"
#include "igd/http_request_reader.hpp"

namespace gw {
namespace {

const FrontEndAddresses gateway{Ipv4Address::from_octets(192, 168, 1, 1), 49152,
                                {*Ipv6Address::parse("fe80::1"), *Ipv6Address::parse("2001:db8::1")}};
const ClientAddress lan_host = Ipv4Address::from_octets(192, 168, 1, 10);
const ClientAddress lan_host_v6 = *Ipv6Address::parse("fe80::10");

struct Read {
    HttpRequestReader::State state;
    HttpRefusal refusal;
    std::optional<HttpRefusal> judged;
};

// Feeds `pieces` in turn, as separate reads, then judges a complete request.
Read read(std::initializer_list<std::string> pieces, const ClientAddress& client = lan_host) {
    HttpRequestReader reader;
    for (const auto& piece : pieces) reader.feed(piece);
    Read r{reader.state(), reader.refusal(), std::nullopt};
    if (r.state == HttpRequestReader::State::complete) r.judged = judge_request(reader.request(), client, gateway);
    return r;
}

HttpRefusal refusal_of(const Read& r) {
    if (r.state == HttpRequestReader::State::refused) return r.refusal;
    REQUIRE(r.judged);
    return *r.judged;
}

const std::string subscribe_head = "SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: 192.168.1.1:49152\r\nNT: upnp:event\r\n";

}  // namespace

TEST_CASE("a description GET with the gateway's own Host is read whole and passes") {
    auto r = read({"GET /igd/rootDesc.xml HTTP/1.1\r\nHost: 192.168.1.1:49152\r\n\r\n"});
    CHECK(r.state == HttpRequestReader::State::complete);
    CHECK(!r.judged);
}

TEST_CASE("a foreign Host is refused however the head is disguised (DNS rebinding smuggling)") {
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n"})) == HttpRefusal::foreign_host);
    // Leading blank lines, as pupnp skips them.
    CHECK(refusal_of(read({"\r\n\r\nGET / HTTP/1.1\r\nHost: evil.example:49152\r\n\r\n"})) == HttpRefusal::foreign_host);
    // The head split over reads: "METHOD " is in no read's start with the Host.
    CHECK(refusal_of(read({"GE", "T / HTTP/1.1\r\nHo", "st: evil.example:49152\r\n", "\r\n"})) ==
          HttpRefusal::foreign_host);
    // A TAB between name and value.
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nHost:\tevil.example:49152\r\n\r\n"})) == HttpRefusal::foreign_host);
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nHost: 192.168.1.1:49153\r\n\r\n"})) == HttpRefusal::foreign_host);
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n"})) == HttpRefusal::foreign_host);
}

TEST_CASE("two Host headers are refused as malformed, so pupnp cannot read the second") {
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nHost: 192.168.1.1:49152\r\nHost: evil.example\r\n\r\n"})) ==
          HttpRefusal::malformed);
}

TEST_CASE("a header name with a space before its colon is refused, never passed on for pupnp to read") {
    // Found by the http_front_end fuzzer: http-parser reads "Content-Length :4" as a header
    // named "Content-Length " (fuzz/corpus/http_front_end/space_before_colon).
    CHECK(refusal_of(read({"POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.1.1:49152\r\nContent-Length :4\n"
                           "X: 400\r\n\r\n<a/>"})) == HttpRefusal::malformed);
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nHost : evil.example\r\nHost: 192.168.1.1:49152\r\n\r\n"})) ==
          HttpRefusal::malformed);
}

TEST_CASE("a second request pipelined after the first is refused, blank lines after it are not") {
    std::string good = "GET / HTTP/1.1\r\nHost: 192.168.1.1:49152\r\n\r\n";
    CHECK(refusal_of(read({good + "SUBSCRIBE /evt HTTP/1.1\r\nHost: evil\r\n\r\n"})) == HttpRefusal::pipelined);
    CHECK(refusal_of(read({good, "S"})) == HttpRefusal::pipelined);
    CHECK(read({good + "\r\n"}).state == HttpRequestReader::State::complete);
}

TEST_CASE("any Transfer-Encoding, a POST without Content-Length and an oversized body are refused") {
    std::string post = "POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.1.1:49152\r\n";
    CHECK(refusal_of(read({post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"})) ==
          HttpRefusal::transfer_encoding);
    CHECK(refusal_of(read({post + "Transfer-Encoding: identity\r\nContent-Length: 1\r\n\r\nx"})) ==
          HttpRefusal::transfer_encoding);
    CHECK(refusal_of(read({post + "\r\n"})) == HttpRefusal::body_without_length);
    CHECK(refusal_of(read({post + "Content-Length: 16385\r\n\r\n"})) == HttpRefusal::too_large);
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"})) == HttpRefusal::too_large);
    // A head that never ends is refused at the limit, not buffered further.
    HttpRequestReader reader;
    reader.feed("GET / HTTP/1.1\r\n");
    for (int i = 0; i < 100 && reader.state() == HttpRequestReader::State::incomplete; ++i)
        reader.feed("X-Filler-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n");
    CHECK(reader.refusal() == HttpRefusal::too_large);
    CHECK(reader.held_bytes() <= 8192);
}

TEST_CASE("methods other than the IGD's five are refused as unknown") {
    CHECK(refusal_of(read({"PUT / HTTP/1.1\r\nHost: 192.168.1.1:49152\r\n\r\n"})) == HttpRefusal::unknown_method);
    CHECK(refusal_of(read({"NOTIFY / HTTP/1.1\r\nHost: 192.168.1.1:49152\r\n\r\n"})) == HttpRefusal::unknown_method);
}

TEST_CASE("a SUBSCRIBE's CALLBACK must be an http URL to the requester itself (CallStranger)") {
    CHECK(!read({subscribe_head + "CALLBACK: <http://192.168.1.10:8000/cb>\r\n\r\n"}).judged);
    CHECK(!read({subscribe_head + "CALLBACK: <http://192.168.1.10/>\r\n\r\n"}).judged);
    // Another LAN host, the WAN, a name, another scheme, an empty list: all refused.
    for (std::string callback : {"<http://192.168.1.11:8000/>", "<http://203.0.113.2:8000/>",
                                 "<http://192.168.1.10:8000/><http://203.0.113.2/>", "<http://victim.example/>",
                                 "<https://192.168.1.10/>", "", "<http://192.168.1.10:99999/>"})
        CHECK(refusal_of(read({subscribe_head + "CALLBACK: " + callback + "\r\n\r\n"})) ==
              HttpRefusal::callback_not_requester);
}

TEST_CASE("SUBSCRIBE over IPv6 is refused at once: pupnp 1.8 would never deliver its events") {
    CHECK(refusal_of(read({"SUBSCRIBE /evt HTTP/1.1\r\nHost: [fe80::1%25eth0]:49152\r\nNT: upnp:event\r\n"
                           "CALLBACK: <http://[fe80::10]:8000/>\r\n\r\n"},
                          lan_host_v6)) == HttpRefusal::subscribe_over_ipv6);
}

TEST_CASE("over IPv6 the Host must name one of the gateway's IPv6 addresses, zone or not") {
    CHECK(!read({"GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]:49152\r\n\r\n"}, lan_host_v6).judged);
    CHECK(!read({"GET / HTTP/1.1\r\nHost: [2001:db8::1]:49152\r\n\r\n"}, lan_host_v6).judged);
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nHost: 192.168.1.1:49152\r\n\r\n"}, lan_host_v6)) ==
          HttpRefusal::foreign_host);
    CHECK(refusal_of(read({"GET / HTTP/1.1\r\nHost: [2001:db8::2]:49152\r\n\r\n"}, lan_host_v6)) ==
          HttpRefusal::foreign_host);
}

TEST_CASE("pupnp is given the request in canonical form, with the connection's headers decided by us") {
    HttpRequestReader reader;
    reader.feed("\r\nPOST /ctl/IPConn HTTP/1.0\r\nHost:\t192.168.1.1:49152 \r\nConnection: keep-alive\r\n"
                "SOAPAction: \"x#y\"\r\nContent-Length: 4\r\n\r\n<a/>");
    REQUIRE(reader.state() == HttpRequestReader::State::complete);
    CHECK(canonical_request_text(reader.request()) ==
          "POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.1.1:49152\r\nSOAPAction: \"x#y\"\r\nContent-Length: 4\r\n"
          "Connection: close\r\n\r\n<a/>");
}

}  // namespace gw

namespace gw {

TEST_CASE("the callback probed before a new subscription is the first CALLBACK URL's port, 80 without one") {
    CHECK(first_callback_port("<http://192.168.1.10:8000/cb><http://192.168.1.10:9000/>") == 8000);
    CHECK(!first_callback_port("<http://192.168.1.10/cb>"));
}

}  // namespace gw

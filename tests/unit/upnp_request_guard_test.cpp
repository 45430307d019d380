#include <catch2/catch.hpp>

#include <vector>

#include "firewall/upnp_request_guard.hpp"

namespace gw {
namespace {

const std::vector<Ipv4Network> lan{*Ipv4Network::parse("192.168.50.0/24")};
const UpnpRequestGuardConfig guard{{*Ipv4Address::parse("192.168.50.1"), Port{5000}}, lan};

UpnpRequestVerdict judge(const std::string& request) { return judge_upnp_request(request, guard); }

}  // namespace

TEST_CASE("a SOAP request to the gateway's own address and port passes") {
    CHECK(judge("POST /ctl/IPConn HTTP/1.1\r\nHOST: 192.168.50.1:5000\r\nContent-Length: 300\r\n"
                "SOAPACTION: \"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"\r\n\r\n<s:Envelope/>") ==
          UpnpRequestVerdict::pass);
}

TEST_CASE("a request naming another host is refused (DNS rebinding)") {
    CHECK(judge("GET /rootDesc.xml HTTP/1.1\r\nHost: evil.example:5000\r\n\r\n") == UpnpRequestVerdict::foreign_host);
    CHECK(judge("GET /rootDesc.xml HTTP/1.1\r\nHost: 192.168.50.1:5001\r\n\r\n") == UpnpRequestVerdict::foreign_host);
    CHECK(judge("GET /rootDesc.xml HTTP/1.1\r\nHost: 192.168.50.1\r\n\r\n") == UpnpRequestVerdict::foreign_host);
    CHECK(judge("GET /rootDesc.xml HTTP/1.1\r\nUser-Agent: x\r\n\r\n") == UpnpRequestVerdict::foreign_host);
    CHECK(judge("GET / HTTP/1.1\r\nHost: 192.168.50.1:5000\r\nHost: evil.example\r\n\r\n") ==
          UpnpRequestVerdict::foreign_host);
}

TEST_CASE("CVE-2020-12695: a SUBSCRIBE whose CALLBACK leaves the LAN is refused") {
    std::string head = "SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: 192.168.50.1:5000\r\nNT: upnp:event\r\nCALLBACK: ";
    CHECK(judge(head + "<http://192.168.50.10:8000/cb>\r\n\r\n") == UpnpRequestVerdict::pass);
    CHECK(judge(head + "<http://203.0.113.2:8000/cb>\r\n\r\n") == UpnpRequestVerdict::callback_outside_lan);
    CHECK(judge(head + "<http://192.168.50.10:8000/a><http://198.51.100.9/b>\r\n\r\n") ==
          UpnpRequestVerdict::callback_outside_lan);
    CHECK(judge(head + "<http://attacker.example/cb>\r\n\r\n") == UpnpRequestVerdict::callback_outside_lan);
    CHECK(judge(head + "\r\n\r\n") == UpnpRequestVerdict::callback_outside_lan);
}

TEST_CASE("oversized requests are refused before pupnp reads them") {
    CHECK(judge("POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.50.1:5000\r\nContent-Length: 999999\r\n\r\n") ==
          UpnpRequestVerdict::too_large);
    CHECK(judge("POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.50.1:5000\r\nX: " + std::string(9000, 'a')) ==
          UpnpRequestVerdict::too_large);
}

TEST_CASE("segments that carry no request head pass, a cut-off head does not") {
    CHECK(judge("") == UpnpRequestVerdict::pass);
    CHECK(judge("<u:AddPortMapping>...</u:AddPortMapping>") == UpnpRequestVerdict::pass);
    CHECK(judge("POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.50.1:5000\r\n") == UpnpRequestVerdict::malformed);
    CHECK(judge("GET / HTTP/1.1\r\nno colon here\r\n\r\n") == UpnpRequestVerdict::malformed);
}

}  // namespace gw

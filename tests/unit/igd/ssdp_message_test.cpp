// The gateway's own SSDP messages (igd/ssdp_message): what is announced, how an M-SEARCH
// is read, and the answers, per UDA 1.1 section 1.
#include <catch2/catch.hpp>

#include <bit>
#include <string>

#include "igd/ssdp_message.hpp"

using namespace gw;

namespace {

SsdpIdentity identity(int version = 1) {
    return {"6ba7b810-9dad-11d1-80b4-00c04fd430c8", version, "http://192.168.50.1:49152/igd/rootDesc.xml", 1800};
}

std::string search(std::string_view st, std::string_view mx = "2") {
    return "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: " + std::string(mx) +
           "\r\nST: " + std::string(st) + "\r\n\r\n";
}

bool has_type(const std::vector<SsdpTarget>& targets, std::string_view type) {
    for (const auto& t : targets)
        if (t.type == type) return true;
    return false;
}

}  // namespace

TEST_CASE("an IGD:1 announces 3 + 2 per embedded device + 1 per service targets (UDA 1.1 1.1.2)", "[ssdp]") {
    auto targets = ssdp_targets(identity(1));
    CHECK(targets.size() == 3 + 2 * 2 + 3);
    CHECK(targets[0].type == "upnp:rootdevice");
    CHECK(targets[0].usn == "uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8::upnp:rootdevice");
    CHECK(has_type(targets, "urn:schemas-upnp-org:device:InternetGatewayDevice:1"));
    CHECK(has_type(targets, "urn:schemas-upnp-org:device:WANConnectionDevice:1"));
    CHECK(has_type(targets, "urn:schemas-upnp-org:service:WANIPConnection:1"));
    CHECK(!has_type(targets, "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"));
}

TEST_CASE("an IGD:2 also announces WANIPv6FirewallControl and version 2 types", "[ssdp]") {
    auto targets = ssdp_targets(identity(2));
    CHECK(has_type(targets, "urn:schemas-upnp-org:device:InternetGatewayDevice:2"));
    CHECK(has_type(targets, "urn:schemas-upnp-org:service:WANIPConnection:2"));
    CHECK(has_type(targets, "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"));
}

TEST_CASE("ssdp:alive carries max-age and the LAN LOCATION; ssdp:byebye carries neither", "[ssdp]") {
    auto targets = ssdp_targets(identity());
    std::string alive = ssdp_notify(identity(), targets[0], SsdpNotifyKind::alive);
    CHECK(alive.starts_with("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"));
    CHECK(alive.find("CACHE-CONTROL: max-age=1800\r\n") != std::string::npos);
    CHECK(alive.find("LOCATION: http://192.168.50.1:49152/igd/rootDesc.xml\r\n") != std::string::npos);
    CHECK(alive.find("NTS: ssdp:alive\r\n") != std::string::npos);
    CHECK(alive.ends_with("\r\n\r\n"));
    std::string bye = ssdp_notify(identity(), targets[0], SsdpNotifyKind::byebye);
    CHECK(bye.find("NTS: ssdp:byebye\r\n") != std::string::npos);
    CHECK(bye.find("LOCATION") == std::string::npos);
    CHECK(bye.find("USN: uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8::upnp:rootdevice\r\n") != std::string::npos);
}

TEST_CASE("an MX of 2147483647 is clamped to 5 seconds and a missing one to 1 (UDA 1.1 1.3.3)", "[ssdp]") {
    auto huge = parse_ssdp_search(search("ssdp:all", "2147483647"));
    REQUIRE(huge);
    CHECK(huge->mx == 5);
    CHECK(huge->mx_clamped);
    auto zero = parse_ssdp_search(search("ssdp:all", "0"));
    REQUIRE(zero);
    CHECK(zero->mx == 1);
    auto garbage = parse_ssdp_search(search("ssdp:all", "99999999999999999999999"));
    REQUIRE(garbage);
    CHECK(garbage->mx == 1);
    auto fine = parse_ssdp_search(search("ssdp:all", "3"));
    REQUIRE(fine);
    CHECK(fine->mx == 3);
    CHECK(!fine->mx_clamped);
}

TEST_CASE("a datagram that is not an M-SEARCH with MAN ssdp:discover and an ST is not a search", "[ssdp]") {
    CHECK(!parse_ssdp_search("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n"));
    CHECK(!parse_ssdp_search("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMX: 1\r\n\r\n"));
    CHECK(!parse_ssdp_search("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n\r\n"));
    CHECK(!parse_ssdp_search(""));
    CHECK(!parse_ssdp_search("M-SEARCH * HTTP/1.1\r\nMAN \"ssdp:discover\"\r\n\r\n"));
    CHECK(parse_ssdp_search("M-SEARCH * HTTP/1.1\nman: \"ssdp:discover\"\nst: upnp:rootdevice\nmx: 1\n\n"));
}

TEST_CASE("ssdp:all answers every target once; a type answers itself and its lower versions only", "[ssdp]") {
    auto targets = ssdp_targets(identity(2));
    CHECK(std::popcount(ssdp_matching_targets(targets, "ssdp:all")) == int(targets.size()));
    CHECK(std::popcount(ssdp_matching_targets(targets, "upnp:rootdevice")) == 1);
    CHECK(std::popcount(ssdp_matching_targets(targets, "urn:schemas-upnp-org:service:WANIPConnection:1")) == 1);
    CHECK(ssdp_matching_targets(targets, "urn:schemas-upnp-org:service:WANIPConnection:3") == 0);
    CHECK(ssdp_matching_targets(targets, "urn:schemas-upnp-org:device:MediaServer:1") == 0);
    CHECK(ssdp_matching_targets(targets, "urn:schemas-upnp-org:service:WANIPConnection:0") == 0);
}

TEST_CASE("the answer to a lower version echoes the version asked for in ST and USN (UDA 1.1 1.3.2)", "[ssdp]") {
    auto targets = ssdp_targets(identity(2));
    std::uint32_t mask = ssdp_matching_targets(targets, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
    REQUIRE(std::popcount(mask) == 1);
    const SsdpTarget& target = targets[std::size_t(std::countr_zero(mask))];
    std::string answer = ssdp_search_answer(identity(2), target, "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                                            "Sun, 06 Dec 2026 21:00:00 GMT");
    CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(answer.find("ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n") != std::string::npos);
    CHECK(answer.find("::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n") != std::string::npos);
    CHECK(answer.find("EXT:\r\n") != std::string::npos);
    CHECK(answer.find("LOCATION: http://192.168.50.1:49152/igd/rootDesc.xml\r\n") != std::string::npos);
    std::string all = ssdp_search_answer(identity(2), targets[0], "ssdp:all", "x");
    CHECK(all.find("ST: upnp:rootdevice\r\n") != std::string::npos);
}

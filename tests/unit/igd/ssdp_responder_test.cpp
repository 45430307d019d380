// The M-SEARCH responder's decisions (igd/ssdp_responder): whom it answers, when, and
// what it holds back, each refusal counted by name (issue 14.6).
#include <catch2/catch.hpp>

#include <bit>
#include <chrono>
#include <string>

#include "igd/ssdp_responder.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

const Ipv4Network lan{Ipv4Address::from_octets(192, 168, 50, 0), 24};
const Ipv4Address gateway_lan = Ipv4Address::from_octets(192, 168, 50, 1);
const Ipv4Address gateway_wan = Ipv4Address::from_octets(203, 0, 113, 1);

Endpoint host(std::uint8_t last, std::uint16_t port = 40000) {
    return {Ipv4Address::from_octets(192, 168, 50, last), Port{port}};
}

std::string search(std::string_view st = "ssdp:all", std::string_view mx = "2147483647") {
    return "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: " + std::string(mx) +
           "\r\nST: " + std::string(st) + "\r\n\r\n";
}

struct Fixture {
    explicit Fixture(SsdpResponderLimits limits = {}) : responder(limits, {lan}, {gateway_lan, gateway_wan}) {}
    std::optional<SsdpRefusal> ask(Endpoint from, Instant now = Instant(0), std::string text = search(),
                                   bool on_lan = true, std::uint32_t random = 0) {
        return responder.judge(text, from, on_lan, true, targets, now, random);
    }
    std::uint64_t refused(SsdpRefusal r) const { return responder.counts().refused[std::size_t(r)]; }
    std::vector<SsdpTarget> targets = ssdp_targets({"6ba7b810-9dad-11d1-80b4-00c04fd430c8", 1, "http://x/", 1800});
    SsdpResponder responder;
};

}  // namespace

TEST_CASE("an M-SEARCH from a LAN host is answered within MX, even when MX is 2147483647", "[ssdp]") {
    Fixture f;
    CHECK(!f.ask(host(10), Instant(1000), search(), true, 4'999'999));
    REQUIRE(f.responder.next_due());
    CHECK(*f.responder.next_due() <= Instant(1000) + 5s);
    auto due = f.responder.take_due(Instant(1000) + 5s);
    REQUIRE(due.size() == 1);
    CHECK(due[0].destination == host(10));
    CHECK(std::popcount(due[0].targets) == int(f.targets.size()));
    CHECK(f.responder.counts().mx_clamped == 1);
}

TEST_CASE("M-SEARCHes from outside the LAN, from the gateway, from the network or broadcast address, or "
          "from another interface are not answered and are counted",
          "[ssdp]") {
    Fixture f;
    CHECK(f.ask({Ipv4Address::from_octets(203, 0, 113, 2), Port{40000}}) == SsdpRefusal::outside_lan);
    CHECK(f.ask({gateway_lan, Port{1900}}) == SsdpRefusal::gateway_address);
    CHECK(f.ask({gateway_wan, Port{1900}}) == SsdpRefusal::gateway_address);
    CHECK(f.ask(host(255)) == SsdpRefusal::network_or_broadcast);
    CHECK(f.ask(host(0)) == SsdpRefusal::network_or_broadcast);
    CHECK(f.ask(host(10, 0)) == SsdpRefusal::network_or_broadcast);
    CHECK(f.ask(host(10), Instant(0), search(), false) == SsdpRefusal::wrong_interface);
    CHECK(f.refused(SsdpRefusal::outside_lan) == 1);
    CHECK(f.refused(SsdpRefusal::gateway_address) == 2);
    CHECK(f.refused(SsdpRefusal::network_or_broadcast) == 3);
    CHECK(f.refused(SsdpRefusal::wrong_interface) == 1);
    CHECK(f.responder.pending() == 0);
}

TEST_CASE("a search for something the gateway is not, or a malformed one, gets nothing", "[ssdp]") {
    Fixture f;
    CHECK(f.ask(host(10), Instant(0), search("urn:schemas-upnp-org:device:MediaServer:1")) ==
          SsdpRefusal::no_matching_target);
    CHECK(f.ask(host(10), Instant(0), "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n") == SsdpRefusal::malformed);
}

TEST_CASE("one host's flood is held to its token bucket and counted, and another host is still answered",
          "[ssdp]") {
    Fixture f;
    int accepted = 0;
    for (int i = 0; i < 100'000; ++i)
        if (!f.ask(host(10), Instant(i / 100))) ++accepted;  // 100 000 searches in 1 s
    CHECK(accepted <= 10 + 2);                              // burst + 1 s of refill
    CHECK(f.refused(SsdpRefusal::source_rate_limited) == std::uint64_t(100'000 - accepted));
    CHECK(!f.ask(host(20), Instant(1000)));
}

TEST_CASE("many hosts together are held to the total bucket, and the pending heap stays bounded", "[ssdp]") {
    SsdpResponderLimits limits;
    limits.max_pending = 50;
    Fixture f(limits);
    for (int i = 0; i < 10'000; ++i) f.ask(host(std::uint8_t(2 + i % 250)), Instant(0), search(), true, 4999);
    CHECK(f.responder.pending() == 50);
    CHECK(f.refused(SsdpRefusal::pending_full) > 0);
    auto due = f.responder.take_due(Instant(5000));
    CHECK(due.size() == 50);
    CHECK(f.responder.pending() == 0);
    limits.max_pending = 10'000;
    Fixture many(limits);
    int accepted = 0;
    for (std::uint8_t last = 2; last < 252; ++last)
        if (!many.ask(host(last), Instant(0))) ++accepted;
    CHECK(accepted == 100);  // the total bucket's burst
    CHECK(many.refused(SsdpRefusal::total_rate_limited) == 150);
}

TEST_CASE("the table of per-source buckets stays bounded and forgets only idle sources", "[ssdp]") {
    SsdpResponderLimits limits;
    limits.max_sources = 4;
    Fixture f(limits);
    for (std::uint8_t last = 10; last < 14; ++last) CHECK(!f.ask(host(last), Instant(0)));
    CHECK(f.ask(host(20), Instant(1000)) == SsdpRefusal::sources_full);
    CHECK(!f.ask(host(20), Instant(60'000)));  // the four others have been idle long enough
    CHECK(f.responder.sources_tracked() <= 4);
}

TEST_CASE("a unicast M-SEARCH is answered at once (UDA 1.1 1.3.3: MX is ignored)", "[ssdp]") {
    Fixture f;
    CHECK(!f.responder.judge(search(), host(10), true, false, f.targets, Instant(700), 4999));
    CHECK(f.responder.take_due(Instant(700)).size() == 1);
}

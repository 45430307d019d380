// The IPv6 flow table: bounded, found by key from either side, dense after erasing
// (the last record moves into the hole and its index entry follows it).
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "firewall/ipv6_flow_table.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using std::chrono::seconds;

Ipv6FlowKey key_of(std::uint16_t n) {
    Ipv6FlowKey key;
    key.protocol = 17;
    key.lan_address = v6::lan_host;
    key.lan_port = n;
    key.remote_address = v6::remote_host;
    key.remote_port = 53;
    return key;
}

Ipv6Flow flow_of(std::uint16_t n, Instant expires) {
    Ipv6Flow f;
    f.key = key_of(n);
    f.last_activity = t0;
    f.expires = expires;
    return f;
}

}  // namespace

TEST_CASE("the IPv6 flow table holds at most its size and finds live flows only") {
    Ipv6FlowTable table(3);
    for (std::uint16_t n = 1; n <= 3; ++n) REQUIRE(table.insert(flow_of(n, t0 + seconds(n * 10)), t0));
    CHECK_FALSE(table.insert(flow_of(4, t0 + seconds(10)), t0));
    CHECK(table.find(key_of(2), t0 + seconds(19)));
    CHECK_FALSE(table.find(key_of(2), t0 + seconds(20)));  // at its deadline it is gone
    CHECK_FALSE(table.find(key_of(4), t0));
    // An expired record not yet reclaimed gives its key to a new flow.
    REQUIRE(table.insert(flow_of(1, t0 + seconds(100)), t0 + seconds(11)));
    CHECK(table.size() == 3);
    CHECK(table.find(key_of(1), t0 + seconds(50)));
}

TEST_CASE("expiry and removal keep every remaining flow findable (the moved records' index follows them)") {
    constexpr std::uint16_t count = 2000;
    Ipv6FlowTable table(count);
    std::mt19937 random(7);
    std::vector<Instant> deadline(count + 1);
    for (std::uint16_t n = 1; n <= count; ++n) {
        deadline[n] = t0 + seconds(1 + random() % 100);
        REQUIRE(table.insert(flow_of(n, deadline[n]), t0));
    }
    const Instant now = t0 + seconds(50);
    std::size_t expected_live = 0;
    for (std::uint16_t n = 1; n <= count; ++n) expected_live += deadline[n] > now;
    CHECK(table.expire_idle(now) == count - expected_live);
    CHECK(table.size() == expected_live);
    CHECK(table.expired_total() == count - expected_live);
    // Every third live flow ended by a predicate, as closing a pinhole does.
    std::set<std::uint16_t> removed;
    table.remove_if([&](const Ipv6Flow& f) {
        if (f.key.lan_port % 3 != 0) return false;
        removed.insert(f.key.lan_port);
        return true;
    });
    for (std::uint16_t n = 1; n <= count; ++n) {
        INFO("flow " << n);
        const bool live = deadline[n] > now && !removed.count(n);
        Ipv6Flow* found = table.find(key_of(n), now);
        CHECK(bool(found) == live);
        if (found) CHECK(found->key == key_of(n));
    }
    // And the room they left is there again.
    std::size_t free = count - table.size();
    for (std::uint16_t n = 1; n <= free; ++n) REQUIRE(table.insert(flow_of(std::uint16_t(count + n), t0 + seconds(500)), now));
    CHECK_FALSE(table.insert(flow_of(60000, t0 + seconds(500)), now));
}

}  // namespace gw

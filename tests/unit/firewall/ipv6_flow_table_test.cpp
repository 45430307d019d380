// The IPv6 flow table: IPv4's machinery (flow_table_core.hpp) under one key. Found by key
// from either side, exact expiry from the idle lists, and every record findable after
// flows around it ended.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "firewall/ipv6_flow_table.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using std::chrono::seconds;

Ipv6FlowKey key_of(std::uint16_t n, Ipv6Address lan = v6::lan_host) {
    Ipv6FlowKey key;
    key.protocol = 17;
    key.lan_address = lan;
    key.lan_port = n;
    key.remote_address = v6::remote_host;
    key.remote_port = 53;
    return key;
}

Ipv6Flow flow_of(std::uint16_t n, Ipv6Address lan = v6::lan_host) {
    Ipv6Flow f;
    f.key = key_of(n, lan);
    f.timeout_class = TimeoutClass::udp;
    return f;
}

}  // namespace

TEST_CASE("an IPv6 flow is found until its idle timeout and not at it, reclaimed or not") {
    NatTimeouts timeouts;  // UDP: 300 s
    Ipv6FlowTable table(16, timeouts, FlowLimits{});
    REQUIRE(table.insert(flow_of(1), t0) != 0);
    REQUIRE(table.insert(flow_of(2), t0) != 0);
    table.touch(*table.find(key_of(2), t0 + seconds(100)), TimeoutClass::udp, t0 + seconds(100));
    CHECK(table.find(key_of(1), t0 + seconds(299)));
    CHECK_FALSE(table.find(key_of(1), t0 + seconds(300)));  // at its deadline it is gone, and reclaimed
    CHECK(table.size() == 1);
    CHECK(table.expired_total() == 1);
    CHECK(table.expire_idle(t0 + seconds(399)) == 0);  // the touched one has 300 s from its last packet
    CHECK(table.expire_idle(t0 + seconds(400)) == 1);
    CHECK(table.size() == 0);
}

TEST_CASE("expiry and removal keep every remaining IPv6 flow findable") {
    constexpr std::uint16_t count = 2000;
    Ipv6FlowTable table(count, NatTimeouts{}, FlowLimits{});
    std::mt19937 random(7);
    std::vector<Instant> last(count + 1);
    for (std::uint16_t n = 1; n <= count; ++n) {
        last[n] = t0 + seconds(random() % 100);
        REQUIRE(table.insert(flow_of(n), t0) != 0);
    }
    // Touched in time order, as packets come.
    std::vector<std::uint16_t> order(count);
    for (std::uint16_t n = 1; n <= count; ++n) order[n - 1] = n;
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return last[a] < last[b]; });
    for (auto n : order) table.touch(*table.find(key_of(n), last[n]), TimeoutClass::udp, last[n]);
    const Instant now = t0 + seconds(350);  // 300 s after t0 + 50 s
    std::size_t expected_live = 0;
    for (std::uint16_t n = 1; n <= count; ++n) expected_live += last[n] + seconds(300) > now;
    CHECK(table.expire_idle(now) == count - expected_live);
    CHECK(table.size() == expected_live);
    // Every third live flow ended by a predicate, as closing a pinhole does.
    std::set<std::uint16_t> removed;
    table.remove_if([&](const Ipv6Flow& f) {
        if (f.key.lan_port % 3 != 0) return false;
        removed.insert(f.key.lan_port);
        return true;
    });
    for (std::uint16_t n = 1; n <= count; ++n) {
        INFO("flow " << n);
        const bool live = last[n] + seconds(300) > now && !removed.count(n);
        Ipv6Flow* found = table.find(key_of(n), now);
        CHECK(bool(found) == live);
        if (found) CHECK(found->key == key_of(n));
    }
}

TEST_CASE("an IPv6 LAN host at nat.limits.flows_per_host is refused while another host still starts flows") {
    FlowLimits limits;
    limits.flows_per_host = 8;
    Ipv6FlowTable table(64, NatTimeouts{}, limits);
    DropReason refusal = DropReason::none;
    for (std::uint16_t n = 1; n <= 8; ++n) REQUIRE(table.insert(flow_of(n), t0, refusal) != 0);
    CHECK(table.insert(flow_of(9), t0, refusal) == 0);
    CHECK(refusal == DropReason::host_flow_limit);
    CHECK(table.flows_started_by(v6::lan_host) == 8);
    CHECK(table.insert(flow_of(9, v6::lan_host_2), t0, refusal) != 0);
    CHECK(table.flows_started_by(v6::lan_host_2) == 1);
}

TEST_CASE("a full IPv6 table evicts the busiest LAN host's oldest flow for another host, and never a LAN flow for "
          "an embryonic one") {
    Ipv6FlowTable table(8, NatTimeouts{}, FlowLimits{});
    for (std::uint16_t n = 1; n <= 7; ++n) REQUIRE(table.insert(flow_of(n), t0 + seconds(n)) != 0);
    REQUIRE(table.insert(flow_of(1, v6::lan_host_2), t0 + seconds(8)) != 0);
    // Another host's newcomer: lan_host holds 7 of 8, its oldest (port 1) goes.
    REQUIRE(table.insert(flow_of(2, v6::lan_host_2), t0 + seconds(9)) != 0);
    CHECK(table.evicted_total() == 1);
    CHECK_FALSE(table.find(key_of(1), t0 + seconds(9)));
    CHECK(table.find(key_of(2), t0 + seconds(9)));
    // A WAN host's unanswered flow finds no embryonic flow to take the place of.
    Ipv6Flow inbound = flow_of(3, v6::lan_host_2);
    inbound.origin = Ipv6FlowOrigin::wan;
    DropReason refusal = DropReason::none;
    CHECK(table.insert(inbound, t0 + seconds(10), refusal) == 0);
    CHECK(refusal == DropReason::flow_table_full);
    CHECK(table.size() == 8);
}

TEST_CASE("unanswered IPv6 flows from outside are capped at nat.limits.embryonic_inbound, and evicted first") {
    FlowLimits limits;
    limits.embryonic_inbound = 4;
    Ipv6FlowTable table(5, NatTimeouts{}, limits);
    DropReason refusal = DropReason::none;
    for (std::uint16_t n = 1; n <= 5; ++n) {
        Ipv6Flow f = flow_of(n);
        f.origin = n % 2 ? Ipv6FlowOrigin::wan : Ipv6FlowOrigin::to_gateway;
        Ipv6FlowId id = table.insert(f, t0 + seconds(n), refusal);
        CHECK((id != 0) == (n <= 4));
    }
    CHECK(refusal == DropReason::embryonic_limit);
    CHECK(table.embryonic_count() == 4);
    // An answer makes a flow an ordinary one: room under the cap again.
    Ipv6Flow& answered = *table.find(key_of(1), t0 + seconds(6));
    answered.reply_seen = true;
    table.touch(answered, TimeoutClass::udp, t0 + seconds(6));
    CHECK(table.embryonic_count() == 3);
    Ipv6Flow fifth = flow_of(5);
    fifth.origin = Ipv6FlowOrigin::wan;
    REQUIRE(table.insert(fifth, t0 + seconds(7)) != 0);
    // Full now (5): a LAN flow takes the place of the oldest embryonic one (port 2), not
    // of the answered flow.
    REQUIRE(table.insert(flow_of(6), t0 + seconds(8)) != 0);
    CHECK(table.evicted_total() == 1);
    CHECK_FALSE(table.find(key_of(2), t0 + seconds(8)));
    CHECK(table.find(key_of(1), t0 + seconds(8)));
}

}  // namespace gw

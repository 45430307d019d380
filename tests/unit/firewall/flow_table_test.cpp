// The flow table on its own: a flow found under its internal and its external tuple,
// exact expiry per timeout class, and the mapping reference a flow gives back when it goes.
#include <catch2/catch.hpp>

#include <set>

#include "firewall/flow_table.hpp"
#include "packet_builder.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;


NatConfig config(std::uint32_t max_flows = 262144) {
    NatConfig c;
    c.wan_address = wan_address;
    c.port_range = {40000, 40099};
    c.max_mappings = max_flows;
    return c;
}

// A table and the mappings its flows hold.
struct Tables {
    explicit Tables(const NatConfig& c = config()) : mappings(c), flows(c, mappings) {}
    MappingTable mappings;
    FlowTable flows;

    // A LAN flow from `internal` to `remote`, holding its mapping as the engine would.
    FlowId open(Protocol protocol, Endpoint internal, Endpoint remote, TimeoutClass timeout_class, Instant now) {
        AcquireResult mapping = mappings.acquire(protocol, internal);
        REQUIRE(mapping.id != 0);
        Flow flow;
        flow.protocol = protocol;
        flow.internal = internal;
        flow.remote = remote;
        flow.external = mappings.get(mapping.id).external;
        flow.mapping = mapping.id;
        flow.timeout_class = timeout_class;
        FlowId id = flows.insert(flow, now);
        if (id == 0) mappings.release(mapping.id);
        return id;
    }
};

}  // namespace

TEST_CASE("the RFC timeouts are each timeout class's") {
    Tables t;
    CHECK(t.flows.timeout_of(TimeoutClass::udp) == 300s);
    CHECK(t.flows.timeout_of(TimeoutClass::icmp) == 60s);
    CHECK(t.flows.timeout_of(TimeoutClass::tcp_opening) == 240s);
    CHECK(t.flows.timeout_of(TimeoutClass::tcp_closing) == 240s);
    CHECK(t.flows.timeout_of(TimeoutClass::tcp_established) == 7440s);
}

TEST_CASE("a flow is found under its internal and its external tuple, and only there") {
    Tables t;
    FlowId id = t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0);
    REQUIRE(id != 0);
    Port external = t.flows.get(id).external;
    Flow* by_internal = t.flows.find_by_internal(Protocol::udp, at(host_a, 5000), at(server, 53), t0);
    Flow* by_external = t.flows.find_by_external(Protocol::udp, external, at(server, 53), t0);
    REQUIRE(by_internal);
    CHECK(by_internal == by_external);
    CHECK(t.flows.find_by_internal(Protocol::tcp, at(host_a, 5000), at(server, 53), t0) == nullptr);
    CHECK(t.flows.find_by_internal(Protocol::udp, at(host_a, 5000), at(server, 54), t0) == nullptr);
    CHECK(t.flows.find_by_external(Protocol::udp, external, at(other_server, 53), t0) == nullptr);
    CHECK(t.flows.find_by_external(Protocol::udp, external, at(server, 54), t0) == nullptr);
}

TEST_CASE("has_sent_to_address knows the remote addresses behind an external port") {
    Tables t;
    t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0);
    Port external = t.mappings.find_by_internal(Protocol::udp, at(host_a, 5000))->external;
    CHECK(t.flows.has_sent_to_address(Protocol::udp, external, server));
    CHECK_FALSE(t.flows.has_sent_to_address(Protocol::udp, external, other_server));
    CHECK_FALSE(t.flows.has_sent_to_address(Protocol::tcp, external, server));
}

TEST_CASE("a flow lives until exactly the end of its idle timeout") {
    Tables t;
    FlowId id = t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0);
    Port external = t.flows.get(id).external;
    CHECK(t.flows.find_by_external(Protocol::udp, external, at(server, 53), t0 + 300s - 1ms) != nullptr);
    CHECK(t.flows.find_by_external(Protocol::udp, external, at(server, 53), t0 + 300s) == nullptr);
    CHECK(t.flows.find_by_internal(Protocol::udp, at(host_a, 5000), at(server, 53), t0 + 300s) == nullptr);
}

TEST_CASE("touching a flow restarts its idle timeout, under the class it is given") {
    Tables t;
    FlowId id = t.open(Protocol::tcp, at(host_a, 5000), at(server, 443), TimeoutClass::tcp_opening, t0);
    t.flows.touch(t.flows.get(id), TimeoutClass::tcp_established, t0 + 100s);
    Port external = t.flows.get(id).external;
    CHECK(t.flows.find_by_external(Protocol::tcp, external, at(server, 443), t0 + 100s + 7440s - 1ms) != nullptr);
    CHECK(t.flows.find_by_external(Protocol::tcp, external, at(server, 443), t0 + 100s + 7440s) == nullptr);
}

TEST_CASE("a touch earlier than the last activity does not move the flow back in time") {
    Tables t;
    FlowId id = t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0 + 10s);
    t.flows.touch(t.flows.get(id), TimeoutClass::udp, t0);
    CHECK(t.flows.expire_idle(t0 + 300s) == 0);
    CHECK(t.flows.expire_idle(t0 + 310s) == 1);
}

TEST_CASE("expire_idle reclaims exactly the flows whose time is up, and says how many") {
    Tables t;
    t.open(Protocol::icmp, at(host_a, 1), at(server, 0), TimeoutClass::icmp, t0);             // 60 s
    t.open(Protocol::udp, at(host_a, 2), at(server, 53), TimeoutClass::udp, t0);              // 300 s
    t.open(Protocol::udp, at(host_b, 3), at(server, 53), TimeoutClass::udp, t0 + 10s);        // 300 s
    t.open(Protocol::tcp, at(host_b, 4), at(server, 80), TimeoutClass::tcp_opening, t0);  // 240 s
    CHECK(t.flows.expire_idle(t0 + 60s - 1ms) == 0);
    CHECK(t.flows.expire_idle(t0 + 60s) == 1);
    CHECK(t.flows.expire_idle(t0 + 300s) == 2);
    CHECK(t.flows.size() == 1);
    CHECK(t.flows.find_by_internal(Protocol::udp, at(host_b, 3), at(server, 53), t0 + 300s) != nullptr);
    CHECK(t.flows.expire_idle(t0 + 310s) == 1);
    CHECK(t.flows.size() == 0);
    CHECK(t.flows.expired_total() == 4);
}

TEST_CASE("a flow gives its mapping reference back when it goes") {
    Tables t;
    t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0);
    t.open(Protocol::udp, at(host_a, 5000), at(other_server, 53), TimeoutClass::udp, t0 + 100s);
    REQUIRE(t.mappings.size() == 1);
    CHECK(t.flows.expire_idle(t0 + 300s) == 1);
    CHECK(t.mappings.size() == 1);
    CHECK(t.flows.expire_idle(t0 + 400s) == 1);
    CHECK(t.mappings.size() == 0);
    CHECK(t.mappings.released_total() == 1);
}

TEST_CASE("a full table makes room by reclaiming expired flows") {
    Tables t(config(1));
    REQUIRE(t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0) != 0);
    CHECK(t.open(Protocol::udp, at(host_a, 5000), at(other_server, 53), TimeoutClass::udp, t0 + 1s) == 0);
    CHECK(t.open(Protocol::udp, at(host_a, 5000), at(other_server, 53), TimeoutClass::udp, t0 + 300s) != 0);
    CHECK(t.flows.size() == 1);
}

TEST_CASE("for_each visits every live flow once") {
    Tables t;
    t.open(Protocol::udp, at(host_a, 1), at(server, 53), TimeoutClass::udp, t0);
    t.open(Protocol::udp, at(host_a, 2), at(server, 53), TimeoutClass::udp, t0);
    t.open(Protocol::tcp, at(host_b, 3), at(server, 80), TimeoutClass::tcp_opening, t0);
    t.flows.expire_idle(t0 + 240s);  // the TCP one, still transitory
    std::multiset<std::uint16_t> internal_ports;
    t.flows.for_each([&](const Flow& f) { internal_ports.insert(f.internal.port.value); });
    CHECK(internal_ports == std::multiset<std::uint16_t>{1, 2});
}

TEST_CASE("has_sent_to_address holds while any flow to that address is left, whichever goes first") {
    Tables t;
    FlowId first = t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0);
    FlowId second = t.open(Protocol::udp, at(host_a, 5000), at(server, 54), TimeoutClass::udp, t0 + 10s);
    FlowId third = t.open(Protocol::udp, at(host_a, 5000), at(server, 55), TimeoutClass::udp, t0 + 20s);
    REQUIRE((first != 0 && second != 0 && third != 0));
    Port external = t.flows.get(first).external;
    t.flows.touch(t.flows.get(second), TimeoutClass::udp, t0 + 100s);  // the middle one now goes last
    CHECK(t.flows.expire_idle(t0 + 300s) == 1);                       // the first of the list
    CHECK(t.flows.has_sent_to_address(Protocol::udp, external, server));
    CHECK(t.flows.expire_idle(t0 + 320s) == 1);
    CHECK(t.flows.has_sent_to_address(Protocol::udp, external, server));
    CHECK(t.flows.find_by_internal(Protocol::udp, at(host_a, 5000), at(server, 54), t0 + 320s) != nullptr);
    CHECK(t.flows.expire_idle(t0 + 400s) == 1);
    CHECK_FALSE(t.flows.has_sent_to_address(Protocol::udp, external, server));
}

TEST_CASE("slots of ended flows are used again: a full table refills without growing") {
    const std::uint32_t max = 64;
    Tables t(config(max));
    for (int round = 0; round < 3; ++round) {
        Instant start = t0 + round * 1000s;
        for (std::uint16_t i = 0; i < max; ++i) {
            FlowId id = t.open(Protocol::udp, at(host_a, 1000 + i), at(server, 53), TimeoutClass::udp, start);
            REQUIRE(id != 0);
            REQUIRE(id <= max);
        }
        CHECK(t.open(Protocol::udp, at(host_a, 1000), at(other_server, 53), TimeoutClass::udp, start) == 0);
        for (std::uint16_t i = 0; i < max; ++i)
            REQUIRE(t.flows.find_by_internal(Protocol::udp, at(host_a, 1000 + i), at(server, 53), start) != nullptr);
        CHECK(t.flows.expire_idle(start + 300s) == max);
        CHECK(t.flows.size() == 0);
    }
}

TEST_CASE("a second flow under a tuple already indexed takes the key over; the first keeps its other key") {
    Tables t;
    FlowId older = t.open(Protocol::udp, at(host_a, 5000), at(server, 53), TimeoutClass::udp, t0);
    Port external = t.flows.get(older).external;
    Flow twin = t.flows.get(older);
    twin.mapping = 0;
    twin.external = Port{external.value};
    twin.internal = at(host_b, 6000);  // same external tuple, another internal one
    FlowId newer = t.flows.insert(twin, t0 + 1s);
    REQUIRE(newer != 0);
    CHECK(t.flows.id_of(*t.flows.find_by_external(Protocol::udp, external, at(server, 53), t0 + 1s)) == newer);
    CHECK(t.flows.id_of(*t.flows.find_by_internal(Protocol::udp, at(host_a, 5000), at(server, 53), t0 + 1s)) == older);
    CHECK(t.flows.expire_idle(t0 + 300s) == 1);  // the older one goes; the newer keeps the key
    CHECK(t.flows.find_by_external(Protocol::udp, external, at(server, 53), t0 + 300s) != nullptr);
}

TEST_CASE("a host at its flow limit recycles its own closing flow even behind thousands of the gateway's own") {
    NatConfig c = config();
    c.limits.flows_per_host = 8;
    Tables t(c);
    // The gateway's own TIME_WAIT flows (its UPnP server's closed control connections),
    // older than anything of the host's and more than one scan of a list holds.
    constexpr Endpoint upnp_server = {Ipv4Address::from_octets(192, 168, 1, 1), 49152};
    const std::size_t gateway_flows = FlowTable::eviction_scan_depth + 100;
    for (std::size_t i = 0; i < gateway_flows; ++i) {
        Flow flow;
        flow.protocol = Protocol::tcp;
        flow.origin = FlowOrigin::to_gateway;
        flow.internal = upnp_server;
        flow.remote = at(host_b, std::uint16_t(10000 + i));
        flow.external = upnp_server.port;
        flow.timeout_class = TimeoutClass::tcp_closing;
        REQUIRE(t.flows.insert(flow, t0 + 1ms * i) != 0);
    }
    for (std::uint16_t i = 0; i < 8; ++i)
        REQUIRE(t.open(Protocol::tcp, at(host_a, std::uint16_t(30000 + i)), at(server, 80),
                       TimeoutClass::tcp_closing, t0 + 2s + 1ms * i) != 0);

    FlowId ninth = t.open(Protocol::tcp, at(host_a, 31000), at(server, 80), TimeoutClass::tcp_closing, t0 + 3s);
    CHECK(ninth != 0);
    CHECK(t.flows.evicted_total() == 1);
    CHECK(t.flows.flows_started_by(host_a) == 8);
    CHECK(t.flows.find_by_internal(Protocol::tcp, at(host_a, 30000), at(server, 80), t0 + 3s) == nullptr);
    CHECK(t.flows.size() == gateway_flows + 8);  // none of the gateway's went
}


TEST_CASE("a host at its flow limit recycles its opening or closing flow nearest its timeout, from both lists") {
    NatConfig c = config();
    c.limits.flows_per_host = 4;
    c.timeouts.tcp_opening = 120;
    c.timeouts.tcp_closing = 240;
    Tables t(c);
    // Closing flows at t0 end at 240 s; an opening one at 100 s ends at 220 s: it goes first,
    // though it is the newer.
    REQUIRE(t.open(Protocol::tcp, at(host_a, 30000), at(server, 80), TimeoutClass::tcp_closing, t0) != 0);
    REQUIRE(t.open(Protocol::tcp, at(host_a, 30001), at(server, 80), TimeoutClass::tcp_closing, t0 + 1s) != 0);
    REQUIRE(t.open(Protocol::tcp, at(host_a, 30002), at(server, 80), TimeoutClass::tcp_opening, t0 + 100s) != 0);
    REQUIRE(t.open(Protocol::tcp, at(host_a, 30003), at(server, 80), TimeoutClass::tcp_established, t0 + 100s) != 0);

    REQUIRE(t.open(Protocol::tcp, at(host_a, 31000), at(server, 80), TimeoutClass::tcp_opening, t0 + 130s) != 0);
    CHECK(t.flows.find_by_internal(Protocol::tcp, at(host_a, 30002), at(server, 80), t0 + 130s) == nullptr);
    CHECK(t.flows.find_by_internal(Protocol::tcp, at(host_a, 30000), at(server, 80), t0 + 130s) != nullptr);

    // Then the oldest closing one (ends at 240 s) before the new opening one (ends at 250 s).
    REQUIRE(t.open(Protocol::tcp, at(host_a, 31001), at(server, 80), TimeoutClass::tcp_opening, t0 + 200s) != 0);
    CHECK(t.flows.find_by_internal(Protocol::tcp, at(host_a, 30000), at(server, 80), t0 + 200s) == nullptr);
    CHECK(t.flows.find_by_internal(Protocol::tcp, at(host_a, 31000), at(server, 80), t0 + 200s) != nullptr);
    CHECK(t.flows.evicted_total() == 2);
}

}  // namespace gw::test

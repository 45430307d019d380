// gatewayctl flows copies the flow table in parts, one short hold of the engine lock per
// part, and writes its JSON with no lock (issue 15): a big table must not stall the
// packet workers while its answer is built.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "daemon/control_flow_snapshot.hpp"
#include "daemon/control_json.hpp"
#include "daemon/gateway_control.hpp"
#include "engine_setup.hpp"

namespace gw::test {
namespace {

using namespace std::chrono_literals;

// `count` UDP flows of one LAN endpoint (one NAT mapping) to as many remote endpoints.
EngineSetup big_table_setup(std::uint32_t count) {
    EngineSetup setup = engine_setup();
    setup.nat.max_mappings = count + 1024;
    setup.nat.limits.flows_per_host = count + 1024;
    return setup;
}

Endpoint remote(std::uint32_t i) { return {Ipv4Address(server.host_order() + i / 60000), Port{std::uint16_t(1 + i % 60000)}}; }

void open_flows(PacketEngine& engine, std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
        Packet packet = udp(at(host_a, 5000), remote(i));
        REQUIRE(outbound(engine, packet).verdict == Verdict::forward);
    }
    REQUIRE(engine.flows().size() == count);
}

}  // namespace

TEST_CASE("the flow table is visited in parts that together see every flow once") {
    PacketEngine engine(big_table_setup(3000));
    open_flows(engine, 3000);
    std::set<std::uint32_t> seen;
    std::size_t parts = 0, biggest = 0;
    for (FlowId next = 1; next != 0; ++parts) {
        std::size_t in_part = 0;
        next = engine.flows().for_each_from(next, 1024, [&](const Flow& f) {
            ++in_part;
            CHECK(seen.insert((f.remote.address.host_order() - server.host_order()) * 60000 + f.remote.port.value).second);
        });
        biggest = std::max(biggest, in_part);
    }
    CHECK(seen.size() == 3000);
    CHECK(parts >= 3);
    CHECK(biggest == 1024);
}

TEST_CASE("gatewayctl flows lists every flow of a table bigger than one part and honours its filters") {
    PacketEngine engine(big_table_setup(2500));
    open_flows(engine, 2500);
    LockedEngine locked(engine);
    CHECK(snapshot_flows(locked, {}).size() == 2500);
    FlowFilter one_port;
    one_port.port = 17;
    CHECK(snapshot_flows(locked, one_port).size() == 1);
    GatewayControl control(locked, nullptr, nullptr, "", GatewayConfig{}, t0);
    auto answer = parse_json(control.answer({"flows", "--proto", "udp"}, t0));
    REQUIRE(answer);
    CHECK(std::get<double>(answer->member("count")->value) == 2500);
}

TEST_CASE("a packet worker waits only for one part while gatewayctl flows answers for 200000 flows") {
    constexpr std::uint32_t count = 200000;
    PacketEngine engine(big_table_setup(count));
    open_flows(engine, count);
    LockedEngine locked(engine);
    GatewayControl control(locked, nullptr, nullptr, "", GatewayConfig{}, t0);

    std::atomic<bool> answered{false};
    std::chrono::steady_clock::duration longest{0};
    std::size_t batches = 0;
    std::thread worker([&] {  // takes the lock as a queue worker does, once per batch
        while (!answered) {
            auto asked = std::chrono::steady_clock::now();
            { std::lock_guard lock(locked.mutex()); }
            longest = std::max(longest, std::chrono::steady_clock::now() - asked);
            ++batches;
            std::this_thread::sleep_for(100us);
        }
    });
    auto started = std::chrono::steady_clock::now();
    std::string answer = control.answer({"flows"}, t0);
    auto took = std::chrono::steady_clock::now() - started;
    answered = true;
    worker.join();

    INFO("the answer took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                            << " ms; the worker's longest wait was "
                            << std::chrono::duration_cast<std::chrono::microseconds>(longest).count() << " us over "
                            << batches << " batches");
    CHECK(answer.find("\"count\":200000") != std::string::npos);
    // Relative to the whole answer, so that a loaded machine does not make it flaky: with
    // the answer built under one hold, the worker waited about as long as it took.
    CHECK(longest * 10 < took);
}

}  // namespace gw::test

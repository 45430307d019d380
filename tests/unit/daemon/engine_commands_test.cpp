// The control plane's commands applied to the engine: pinholes open, close and answer
// their packet counts, and a query is always answered so that its asker never hangs.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>

#include "daemon/engine_commands.hpp"
#include "engine_setup.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;

std::optional<std::uint64_t> query(PacketEngine& engine, std::uint16_t id) {
    auto promise = std::make_shared<std::promise<std::optional<std::uint64_t>>>();
    auto answer = promise->get_future();
    apply_engine_command(engine, QueryPinholePackets{id, promise});
    REQUIRE(answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    return answer.get();
}

}  // namespace

TEST_CASE("OpenPinhole, QueryPinholePackets and ClosePinhole reach the IPv6 firewall") {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {prefix("2001:db8:1::/64")};
    setup.firewall.ipv6.max_flows = 1024;
    PacketEngine engine(setup);
    Pinhole p;
    p.id = 12;
    p.internal_client = lan_host;
    p.internal_port = 443;
    p.protocol = 6;
    apply_engine_command(engine, OpenPinhole{p});
    CHECK(engine.judge_ipv6_inbound(v6::tcp(remote_host, 50000, lan_host, 443, tcp_flag::syn), t0).verdict ==
          Verdict::forward);
    CHECK(query(engine, 12) == 1u);
    apply_engine_command(engine, ClosePinhole{12});
    CHECK(query(engine, 12) == std::nullopt);
    CHECK(engine.judge_ipv6_inbound(v6::tcp(remote_host, 50001, lan_host, 443, tcp_flag::syn), t0).verdict ==
          Verdict::drop);
}

TEST_CASE("a QueryPinholePackets for an id never opened is answered with nullopt") {
    PacketEngine engine(engine_setup());
    CHECK(query(engine, 999) == std::nullopt);
    apply_engine_command(engine, QueryPinholePackets{5, nullptr});  // no promise: nothing to answer, no crash
}

}  // namespace gw

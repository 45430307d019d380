// The IPv6 flow table across a graceful restart (issue 15), as IPv4's: the snapshot
// round-trips and refuses damage, and a new engine given the saved flows lets the WAN
// side of an established IPv6 connection in, which its default-deny inbound policy would
// otherwise drop.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "daemon/flow_handover.hpp"
#include "engine_setup.hpp"
#include "firewall/flow_snapshot.hpp"
#include "ipv6_packet_builder.hpp"

namespace gw {
namespace {

using namespace test;
using namespace test::v6;
using namespace std::chrono_literals;

EngineSetup ipv6_setup() {
    EngineSetup setup = engine_setup();
    setup.firewall.ipv6.lan_networks = {prefix("2001:db8:1::/64")};
    return setup;
}

SavedIpv6Flow sample(std::uint16_t n) {
    SavedIpv6Flow f;
    f.key = {6, lan_host, n, remote_host, 443};
    f.origin = Ipv6FlowOrigin::lan;
    f.timeout_class = TimeoutClass::tcp_established;
    f.reply_seen = true;
    f.pinhole = 3;
    f.idle_left_ms = 1000u * n;
    f.tcp.state = std::uint8_t(TcpState::established);
    f.tcp.sides[0] = {1, 2, 3, 4, 7, 3};
    f.tcp.sides[1] = {5, 6, 7, 8, 14, 4};
    return f;
}

}  // namespace

TEST_CASE("an IPv6 flow snapshot decodes to exactly what was encoded, and refuses every truncation and flip") {
    Ipv6FlowSnapshot s{1767225600123, {sample(1), sample(2)}};
    s.flows[1].key.protocol = 17;
    s.flows[1].tcp = {};
    s.flows[1].origin = Ipv6FlowOrigin::to_gateway;
    auto bytes = encode_ipv6_flow_snapshot(s);
    CHECK(bytes.size() == 32 + 2 * ipv6_flow_snapshot_record_bytes);
    auto decoded = decode_ipv6_flow_snapshot(bytes);
    REQUIRE(decoded);
    CHECK(*decoded == s);
    for (std::size_t length = 0; length < bytes.size(); ++length)
        CHECK_FALSE(decode_ipv6_flow_snapshot(std::span<const std::uint8_t>(bytes).first(length)));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto flipped = bytes;
        flipped[i] ^= 0x10;
        CHECK_FALSE(decode_ipv6_flow_snapshot(flipped));
    }
    // The IPv4 format is not read as IPv6's, nor the other way round.
    CHECK(decode_ipv6_flow_snapshot(encode_flow_snapshot(FlowSnapshot{})).error().message ==
          "not an IPv6 flow snapshot (bad magic)");
    CHECK_FALSE(decode_flow_snapshot(bytes).snapshot);
}

TEST_CASE("an established IPv6 connection carries on in a new engine, with the downtime taken off its timer") {
    PacketEngine before(ipv6_setup());
    REQUIRE(before.judge_ipv6_outbound(v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::syn, {1000, 0, 65535}), t0)
                .verdict == Verdict::forward);
    REQUIRE(before.judge_ipv6_inbound(v6::tcp(remote_host, 443, lan_host, 40000, tcp_flag::syn | tcp_flag::ack,
                                              {5000, 1001, 65535}),
                                      t0)
                .verdict == Verdict::forward);
    REQUIRE(before.judge_ipv6_outbound(v6::tcp(lan_host, 40000, remote_host, 443, tcp_flag::ack, {1001, 5001, 65535}), t0)
                .verdict == Verdict::forward);
    REQUIRE(before.judge_ipv6_outbound(v6::udp(lan_host, 5353, remote_host, 53), t0).verdict == Verdict::forward);
    auto saved = before.save_ipv6_flows(t0 + 100s);
    REQUIRE(saved.size() == 2);

    PacketEngine after(ipv6_setup());
    const Instant later = t0 + 10min;  // another process's clock
    // 250 s down: the UDP flow (300 s, 100 s idle at the stop) has run out; the connection has not.
    auto counts = after.restore_ipv6_flows(saved, 250s, later);
    CHECK(counts.restored == 1);
    CHECK(counts.expired == 1);
    Packet data = v6::tcp(remote_host, 443, lan_host, 40000, tcp_flag::ack | tcp_flag::psh, {5001, 1001, 65535},
                          payload_of_size(20));
    CHECK(after.judge_ipv6_inbound(data, later).verdict == Verdict::forward);
    // Without the handover the same segment meets the default inbound policy.
    PacketEngine fresh(ipv6_setup());
    CHECK(fresh.judge_ipv6_inbound(data, later).reason == DropReason::denied_by_policy);
    // A second restore of the same flows finds them there: duplicates are refused.
    CHECK(after.restore_ipv6_flows(saved, 250s, later).refused == 1);
}

TEST_CASE("a graceful stop writes the IPv6 flows beside the IPv4 snapshot, and the next start reads and removes both") {
    const auto dir = std::filesystem::temp_directory_path() / ("gw_ipv6_handover_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "flows.snapshot").string();
    const std::int64_t wall = 1767225600000;
    PacketEngine before(ipv6_setup());
    REQUIRE(before.judge_ipv6_outbound(v6::udp(lan_host, 5353, remote_host, 53), t0).verdict == Verdict::forward);
    FlowHandoverSaved saved = save_flow_snapshot(path, before, t0 + 1s, wall);
    CHECK(saved.written);
    CHECK(saved.ipv6_flows == 1);
    CHECK(std::filesystem::exists(ipv6_flow_snapshot_path(path)));

    PacketEngine after(ipv6_setup());
    const Instant later = t0 + 1h;
    restore_flow_snapshot(path, after, later, wall + 2000);
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(ipv6_flow_snapshot_path(path)));
    CHECK(after.ipv6().flows().size() == 1);
    CHECK(after.judge_ipv6_inbound(v6::udp(remote_host, 53, lan_host, 5353), later).verdict == Verdict::forward);
    std::filesystem::remove_all(dir);
}

}  // namespace gw

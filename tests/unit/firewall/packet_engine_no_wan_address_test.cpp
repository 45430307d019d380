// A WAN without an address yet (DHCP pending, issue 13): the engine starts on 0.0.0.0 and
// forwards nothing until the address comes (fail-closed), then translates to it.
#include <catch2/catch.hpp>

#include "engine_setup.hpp"

namespace gw::test {

namespace {
EngineSetup without_wan_address() {
    EngineSetup setup = engine_setup();
    setup.nat.wan_address = Ipv4Address{};
    return setup;
}
}  // namespace

TEST_CASE("with no WAN address a LAN host's packet is dropped as no_wan_address, untranslated and unmapped") {
    PacketEngine engine(without_wan_address());
    Packet out = udp(at(host_a, 5000), at(server, 53));
    const Packet untouched = out;
    EngineResult r = outbound(engine, out);
    CHECK(r.verdict == Verdict::drop);
    CHECK(r.reason == DropReason::no_wan_address);
    CHECK(out == untouched);
    CHECK(engine.counters().drops[DropReason::no_wan_address] == 1);
    CHECK(engine.flows().size() == 0);
    CHECK(engine.mappings().size() == 0);
    Packet hairpin = udp(at(host_a, 5001), at(Ipv4Address{}, 53));
    CHECK(engine.translate_hairpin(hairpin, L4Checksum::complete, t0).reason == DropReason::no_wan_address);
}

TEST_CASE("once the WAN gets its address the LAN's packets leave translated to it") {
    PacketEngine engine(without_wan_address());
    Packet early = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, early).verdict == Verdict::drop);
    CHECK(engine.change_wan_address(wan_address) == 0);
    Packet out = udp(at(host_a, 5000), at(server, 53));
    REQUIRE(outbound(engine, out).verdict == Verdict::forward);
    CHECK(source_address(out) == wan_address);
}

}  // namespace gw::test

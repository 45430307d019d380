// The packet engine as the tests run it: the addressing plan of packet_builder.hpp
// (LAN 192.168.0.0/16 on lan0, the WAN address 203.0.113.1 on wan0) and, unless a
// test says otherwise, the firewall's defaults: address-and-port-dependent filtering,
// inbound and input policies drop, outbound accept, no rules, forwards or DMZ.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "firewall/packet_engine.hpp"
#include "packet_builder.hpp"
#include "tcp_connection.hpp"

namespace gw::test {

// Throws on a typo, so it may also initialise namespace-scope constants.
inline Ipv4Network network(std::string_view text) { return Ipv4Network::parse(text).value(); }

inline constexpr std::string_view lan_interface = "lan0", wan_interface = "wan0";

inline EngineSetup engine_setup(PortRange range = {40000, 40099}) {
    EngineSetup setup;
    setup.nat.wan_address = wan_address;
    setup.nat.port_range = range;
    setup.firewall.lan_networks = {network("192.168.0.0/16")};
    setup.lan_interface = lan_interface;
    setup.wan_interface = wan_interface;
    return setup;
}

inline EngineSetup engine_setup(FilteringBehaviour filtering) {
    EngineSetup setup = engine_setup();
    setup.firewall.filtering = filtering;
    return setup;
}

// The engine's flow between an internal (LAN-side or the gateway's own) endpoint and a
// remote one, or null; for looking at its tracking state and timeout class.
inline const Flow* flow_between(const PacketEngine& engine, Endpoint internal, Endpoint remote) {
    const Flow* found = nullptr;
    engine.flows().for_each([&](const Flow& f) {
        if (f.internal == internal && f.remote == remote) found = &f;
    });
    return found;
}

// The WAN endpoint the NAT gave `internal`'s mapping. Replacement ports are drawn
// unpredictably from the range (RFC 6056, RFC 7857 §9), so a test that needs the port
// of a mapping the engine made reads it here instead of assuming one.
inline Endpoint mapped_endpoint(const PacketEngine& engine, Protocol protocol, Endpoint internal) {
    const Mapping* mapping = engine.mappings().find_by_internal(protocol, internal);
    REQUIRE(mapping != nullptr);
    return Endpoint{wan_address, mapping->external};
}
inline Port mapped_port(const PacketEngine& engine, Protocol protocol, Endpoint internal) {
    return mapped_endpoint(engine, protocol, internal).port;
}

// Sends the first segment of `c` (a TcpConnection::outbound from `lan_client`) out through
// the engine and tells `c` the external endpoint the NAT gave it, so its later segments are
// addressed to the real mapping. A forwarded segment must leave exactly as `c` sends it
// from there.
inline EngineResult send_first_segment(PacketEngine& engine, TcpConnection& c, Endpoint lan_client,
                                       std::uint8_t flags, const Bytes& payload, Instant now) {
    TcpConnection before = c;
    Packet segment = c.from_client(flags, payload).sent;
    EngineResult result = engine.translate_outbound(segment, L4Checksum::complete, now);
    if (result.verdict != Verdict::forward) return result;
    c.external_is(mapped_endpoint(engine, Protocol::tcp, lan_client));
    before.external_is(mapped_endpoint(engine, Protocol::tcp, lan_client));
    CHECK(segment == before.from_client(flags, payload).translated);
    return result;
}
inline EngineResult send_syn(PacketEngine& engine, TcpConnection& c, Endpoint lan_client, Instant now = t0) {
    return send_first_segment(engine, c, lan_client, tcp_flag::syn, {}, now);
}

// A packet from the WAN / from the LAN through the engine, checksums complete.
inline EngineResult inbound(PacketEngine& engine, Packet& packet, Instant now = t0) {
    return engine.translate_inbound(packet, L4Checksum::complete, now);
}
inline EngineResult outbound(PacketEngine& engine, Packet& packet, Instant now = t0) {
    return engine.translate_outbound(packet, L4Checksum::complete, now);
}

}  // namespace gw::test

namespace Catch {
template <>
struct StringMaker<gw::Verdict> {
    static std::string convert(gw::Verdict v) {
        switch (v) {
            case gw::Verdict::forward: return "forward";
            case gw::Verdict::deliver_locally: return "deliver_locally";
            case gw::Verdict::drop: return "drop";
            case gw::Verdict::reject: return "reject";
        }
        return "verdict " + std::to_string(int(v));
    }
};
}  // namespace Catch

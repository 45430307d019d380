// libFuzzer harness for the packet path: parse_ipv4 and PacketEngine in every hook,
// with one engine kept across inputs so that flows, mappings, fragments and forwards
// built by earlier packets are hit by later ones (replies, ICMP errors, fragments).
//
// An input is a sequence of records:
//   control  bits 0-2: 0 outbound, 1 inbound, 2 input from the LAN, 3 hairpin,
//                      4 local output, 5 expire idle, 6 open/close a port mapping,
//                      7 inbound again (replies are the interesting half)
//            bit 3:    L4Checksum::pseudo_header_only
//            bit 4:    recompute the IP and transport checksums before the engine sees it
//            bits 5-7: the unit the clock advances in (1 ms .. 1 h)
//   advance  one byte: how many units the clock advances (never backwards)
//   length   two bytes, big-endian: the packet's size (cut to what is left)
//   packet   the IPv4 datagram
// After each decision the invariants below must hold; a failure aborts (a finding).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "firewall/packet_engine.hpp"
#include "firewall/reject_builder.hpp"
#include "nat/packet_view.hpp"
#include "packet_builder.hpp"  // the independent checksum oracle (tests/unit/nat)

namespace {

using namespace gw;
using gw::test::Packet;

Ipv4Network network(const char* text) { return Ipv4Network::parse(text).value(); }
Endpoint at(Ipv4Address a, std::uint16_t port) { return {a, Port{port}}; }

PortForward forward(const char* name, Protocol protocol, PortRange external, Endpoint internal) {
    PortForward f;
    f.name = name;
    f.protocol = protocol;
    f.external_ports = external;
    f.internal = internal;
    return f;
}

FirewallRule rule(const char* name, RuleDirection direction, RuleAction action) {
    FirewallRule r;
    r.name = name;
    r.direction = direction;
    r.action = action;
    return r;
}

// The addressing plan of tests/unit/nat/packet_builder.hpp (LAN 192.168.0.0/16, WAN
// 203.0.113.1), a small port range and table so that exhaustion is reachable, static
// forwards (one port, a range, one limited by source), a DMZ host, the UPnP HTTP
// server, and a few rules (reject, rate limit, ICMP type) so every decision is reachable.
EngineSetup fuzz_setup() {
    EngineSetup setup;
    setup.nat.wan_address = test::wan_address;
    setup.nat.port_range = {40000, 40031};
    setup.nat.max_mappings = 64;
    setup.firewall.lan_networks = {network("192.168.0.0/16")};
    setup.lan_interface = "lan0";
    setup.wan_interface = "wan0";
    setup.upnp_http = at(Ipv4Address::from_octets(192, 168, 1, 1), 5000);
    PortForward ssh = forward("ssh", Protocol::tcp, {2222, 2222}, at(Ipv4Address::from_octets(192, 168, 1, 22), 22));
    ssh.allowed_sources = {network("198.51.100.0/24")};
    setup.firewall.forwards = {
        forward("rdp", Protocol::tcp, {3389, 3389}, at(Ipv4Address::from_octets(192, 168, 1, 20), 3389)),
        forward("game", Protocol::udp, {27015, 27017}, at(Ipv4Address::from_octets(192, 168, 1, 21), 37015)),
        ssh,
    };
    setup.firewall.dmz_host = Ipv4Address::from_octets(192, 168, 1, 30);
    setup.firewall.filtering = FilteringBehaviour::address_dependent;

    FirewallRule telnet = rule("no-telnet", RuleDirection::outbound, RuleAction::reject);
    telnet.protocol = Protocol::tcp;
    telnet.destination_ports = {{23, 23}};
    FirewallRule pings = rule("pings", RuleDirection::input, RuleAction::accept);
    pings.protocol = Protocol::icmp;
    pings.icmp_type = 8;
    pings.rate_limit = RateLimit{5, 10, 0};
    pings.log = true;
    FirewallRule dns = rule("dns", RuleDirection::input, RuleAction::accept);
    dns.protocol = Protocol::udp;
    dns.destination_ports = {{53, 53}};
    dns.interface = "lan0";
    FirewallRule blocked = rule("blocked", RuleDirection::inbound, RuleAction::reject);
    blocked.sources = {network("192.0.2.0/24")};
    setup.firewall.rules = {telnet, pings, dns, blocked};
    return setup;
}

PacketEngine& engine() {
    static PacketEngine instance(fuzz_setup());
    return instance;
}

Instant now = test::t0;  // carried across inputs like the engine: time only moves forward

[[noreturn]] void invariant_broken(const char* what, const std::string& detail) {
    std::fprintf(stderr, "packet_engine invariant broken: %s %s\n", what, detail.c_str());
    std::abort();
}

void refresh_checksums(Packet& p) {
    if (p.size() < 20 || (p[0] >> 4) != 4) return;
    std::size_t ihl = test::ip_header_length(p);
    if (ihl < 20 || ihl > p.size()) return;
    test::refresh_ip_checksum(p);
    if (test::is_fragment(p) || test::total_length(p) > p.size() || test::total_length(p) < ihl) return;
    std::size_t l4 = test::total_length(p) - ihl;
    std::uint8_t protocol = test::protocol_of(p);
    if ((protocol == test::ip_tcp && l4 >= 20) || (protocol == test::ip_udp && l4 >= 8) ||
        (protocol == test::ip_icmp && l4 >= 8))
        test::refresh_l4_checksum(p);
}

// A CHECKSUM_PARTIAL TCP/UDP packet (not a fragment) as the kernel hands it over: the
// checksum field holds the pseudo-header sum of its addresses (0 and 0xffff being one
// value in ones-complement arithmetic).
bool holds_pseudo_header_sum(const Packet& p) {
    if (test::is_fragment(p)) return false;
    std::uint8_t protocol = test::protocol_of(p);
    std::size_t ihl = test::ip_header_length(p), length = test::total_length(p);
    if ((protocol != test::ip_tcp || length < ihl + 20) && (protocol != test::ip_udp || length < ihl + 8))
        return false;
    std::uint16_t expected = test::pseudo_header_partial_sum(test::source_address(p), test::destination_address(p),
                                                             protocol, std::uint16_t(length - ihl));
    std::uint16_t field = test::l4_checksum_field(p);
    auto canonical = [](std::uint16_t v) { return v == 0xffff ? std::uint16_t(0) : v; };
    return canonical(field) == canonical(expected);
}

EngineResult run_hook(int hook, std::span<std::uint8_t> packet, L4Checksum state) {
    PacketEngine& e = engine();
    switch (hook) {
        case 0: return e.translate_outbound(packet, state, now);
        case 2: return e.judge_input_from_lan(packet, now);
        case 3: return e.translate_hairpin(packet, state, now);
        case 4: return e.track_local_output(packet, now);
        default: return e.translate_inbound(packet, state, now);
    }
}

// What must hold after any decision on `after` (the buffer the engine saw, `before` as
// it arrived).
void check_decision(int hook, const EngineResult& result, const Packet& before, const Packet& after,
                    L4Checksum state) {
    if (after.size() != before.size()) invariant_broken("buffer size changed", "");
    bool parsed_before = before.size() >= 20 && parse_ipv4(std::span(const_cast<Packet&>(before))).ok();
    switch (result.verdict) {
        case Verdict::forward: {
            if (!parsed_before) invariant_broken("forwarded a packet that does not parse", "");
            Packet copy = after;
            ParseResult parsed = parse_ipv4(copy);
            if (!parsed.ok()) invariant_broken("forwarded packet no longer parses", drop_reason_name(parsed.reason).data());
            // Rewriting changes addresses, ports and checksums, never lengths or protocol.
            if (test::total_length(after) != test::total_length(before) ||
                test::ip_header_length(after) != test::ip_header_length(before) ||
                test::protocol_of(after) != test::protocol_of(before) ||
                test::fragment_offset_units(after) != test::fragment_offset_units(before))
                invariant_broken("forwarded packet changed length, protocol or fragment offset", "");
            if (result.reason != DropReason::none) invariant_broken("forward with a drop reason", "");
            // Checksums right on input stay right (RFC 1624 incremental updates).
            if (state == L4Checksum::complete && test::checksums_valid(before) && !test::checksums_valid(after))
                invariant_broken("checksum broken by translation:", test::checksum_errors(after));
            if (state == L4Checksum::pseudo_header_only &&
                test::ones_sum({before.data(), test::ip_header_length(before)}) == 0xffff &&
                test::ones_sum({after.data(), test::ip_header_length(after)}) != 0xffff)
                invariant_broken("IP header checksum broken by translation", "");
            if (state == L4Checksum::pseudo_header_only && holds_pseudo_header_sum(before) &&
                !holds_pseudo_header_sum(after))
                invariant_broken("CHECKSUM_PARTIAL field no longer the pseudo-header sum", "");
            // Padding after the datagram (total length) is not the engine's.
            if (!std::equal(before.begin() + test::total_length(before), before.end(),
                            after.begin() + test::total_length(before)))
                invariant_broken("bytes after the datagram were changed", "");
            break;
        }
        case Verdict::deliver_locally:
            if (after != before) invariant_broken("a packet delivered locally was modified", "");
            // The gateway's own output is delivered whatever its form (engine_local.cpp).
            if (!parsed_before && hook != 4) invariant_broken("delivered a packet that does not parse", "");
            break;
        case Verdict::reject: {
            if (!parsed_before) invariant_broken("rejected a packet that does not parse", "");
            std::array<std::uint8_t, max_reject_size> answer{};
            std::size_t length = build_reject(before, answer);
            if (length > answer.size()) invariant_broken("reject answer overflows", "");
            if (length != 0) {
                Packet reply(answer.begin(), answer.begin() + std::ptrdiff_t(length));
                if (!parse_ipv4(reply).ok()) invariant_broken("reject answer does not parse", "");
                if (test::ones_sum({reply.data(), 20}) != 0xffff) invariant_broken("reject answer IP checksum", "");
                // Its own transport checksum (the quote inside may be cut short).
                std::size_t ihl = test::ip_header_length(reply);
                std::span<const std::uint8_t> l4(reply.data() + ihl, reply.size() - ihl);
                std::uint32_t pseudo = test::protocol_of(reply) == test::ip_tcp
                                           ? test::pseudo_header_partial_sum(test::source_address(reply),
                                                                             test::destination_address(reply),
                                                                             test::ip_tcp, std::uint16_t(l4.size()))
                                           : 0;
                if (test::ones_sum(l4, pseudo) != 0xffff) invariant_broken("reject answer transport checksum", "");
            }
            [[fallthrough]];
        }
        case Verdict::drop:
            if (result.verdict == Verdict::drop && result.reason == DropReason::none)
                invariant_broken("drop without a reason", "");
            break;
    }
}

void open_or_close_mapping(const std::uint8_t* data, std::size_t size) {
    if (size < 4) return;
    Protocol protocol = (data[0] & 1) ? Protocol::udp : Protocol::tcp;
    Port external{std::uint16_t(data[1] << 8 | data[2])};
    if (data[0] & 2) {
        engine().close_port_mapping(protocol, external);
        return;
    }
    DynamicForward mapping;
    mapping.protocol = protocol;
    mapping.external = external;
    mapping.internal = at(Ipv4Address::from_octets(192, 168, 1, std::uint8_t(data[3] & 0x3f)), external.value);
    if (data[0] & 4) mapping.remote_host = Ipv4Address::from_octets(198, 51, 100, 7);
    engine().open_port_mapping(mapping);
}

constexpr std::array<Instant, 8> clock_units = {
    std::chrono::milliseconds(1), std::chrono::milliseconds(100), std::chrono::seconds(1), std::chrono::seconds(10),
    std::chrono::seconds(60),     std::chrono::minutes(10),       std::chrono::hours(1),   std::chrono::hours(3),
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // GW_FUZZ_TRACE=1: one line per record, to read a finding.
    static const bool trace = std::getenv("GW_FUZZ_TRACE") != nullptr;
    while (size >= 4) {
        std::uint8_t control = data[0];
        now += clock_units[control >> 5] * data[1];
        std::size_t length = std::min<std::size_t>(std::size_t(data[2]) << 8 | data[3], size - 4);
        data += 4;
        size -= 4;
        std::span<const std::uint8_t> bytes(data, length);
        data += length;
        size -= length;

        int hook = control & 7;
        if (hook == 5) {
            engine().expire_idle(now);
            continue;
        }
        if (hook == 6) {
            open_or_close_mapping(bytes.data(), bytes.size());
            continue;
        }
        L4Checksum state = (control & 8) ? L4Checksum::pseudo_header_only : L4Checksum::complete;
        Packet before(bytes.begin(), bytes.end());
        if (control & 16) refresh_checksums(before);
        Packet after = before;
        EngineResult result = run_hook(hook, after, state);
        if (trace)
            std::fprintf(stderr, "record: hook %d, %zu bytes, at %lld ms: verdict %d, %s\n", hook, before.size(),
                         static_cast<long long>(now.count()), int(result.verdict),
                         drop_reason_name(result.reason).data());
        check_decision(hook, result, before, after, state);
    }
    return 0;
}

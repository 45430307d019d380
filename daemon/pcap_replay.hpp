// gatewayd --replay: the real engine (NAT, firewall, static forwards) over a capture,
// offline, with the capture's own timestamps as the clock. What the engine lets through
// is written to a second capture, translated; the verdicts are counted per packet.
//
// Each packet's direction is decided from its addresses, as the kernel's routing would:
// LAN source to the WAN address = hairpin, LAN source to outside the LAN = outbound,
// outside source to the WAN address = inbound, anything else never crosses the gateway.
// IPv6 likewise with lan.ipv6_networks (forwarded, never translated: the IPv6 firewall
// judges it); IPv6 to the gateway's own addresses is not replayed (offline they are not known).
// Offline there is no interface to ask, so lan.networks and a literal wan.address must
// be in the config (replay_engine_setup refuses otherwise).
//
// Checksums: a capture taken on the sending host with TX checksum offload holds partial
// TCP/UDP checksums (the pseudo-header sum only: captured_checksum.hpp). Those are
// recognised and given to the engine as the live daemon gives it CHECKSUM_PARTIAL
// packets; with --trust-checksums every checksum that fails is taken as such too.
// Either way the output capture gets them finished, as the live daemon sends them.
//
// File I/O stays out of the engine loop: the whole capture is read into memory first,
// the engine runs over the in-memory buffers (timed alone: engine_time, the engine
// benchmark), and the output capture and verdict lines are written afterwards.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "config/gateway_config.hpp"
#include "firewall/packet_engine.hpp"

namespace gw {

enum class ReplayDirection : std::uint8_t {
    outbound,             // translate_outbound; IPv6: judge_ipv6_outbound
    inbound,              // translate_inbound; IPv6: judge_ipv6_inbound
    hairpin,              // translate_hairpin
    not_through_gateway,  // addresses that do not cross the gateway: not given to the engine
    skipped,              // not IP, other link-layer payload, or cut short by the capture's snaplen
};
inline constexpr std::size_t replay_direction_count = 5;
std::string_view replay_direction_name(ReplayDirection direction);
std::string_view verdict_name(Verdict verdict);

struct ReplayFiles {
    std::string input;     // read with pcap_open_offline
    std::string output;    // written with pcap_dump, same link type as the input
    std::string verdicts;  // empty: none; else one line per packet
};

enum class ChecksumTrust : std::uint8_t {
    detect_partial,  // partial (offloaded) checksums accepted; others that fail judged as they are
    trust_all,       // --trust-checksums: every TCP/UDP checksum that fails taken as partial
};

struct ReplaySummary {
    std::uint64_t packets = 0;  // records in the input capture
    std::array<std::uint64_t, replay_direction_count> by_direction{};
    std::array<std::uint64_t, 4> by_verdict{};  // indexed by Verdict, packets given to the engine only
    std::uint64_t written = 0;                  // forwarded or delivered locally: in the output capture
    // Of the packets given to the engine: TCP/UDP checksums that held the pseudo-header
    // sum (offloaded), and those that failed otherwise (trusted with trust_all).
    ChecksumTrust checksum_trust = ChecksumTrust::detect_partial;
    std::uint64_t partial_checksums = 0, failed_checksums = 0;
    EngineCounters engine;                      // drops per DropReason, flows and mappings created
    std::size_t live_flows = 0, live_mappings = 0;
    std::uint64_t ipv6_flows_created = 0;
    std::size_t live_ipv6_flows = 0;
    std::chrono::nanoseconds engine_time{0};    // the engine loop alone, no file I/O
    std::chrono::nanoseconds engine_cpu_time{0};  // the same loop in this thread's CPU time: per core on a busy host

    std::uint64_t count(ReplayDirection d) const { return by_direction[std::size_t(d)]; }
    std::uint64_t count(Verdict v) const { return by_verdict[std::size_t(v)]; }
    double engine_packets_per_second() const;
    double engine_packets_per_cpu_second() const;
};

struct ReplayOutcome {
    std::optional<ReplaySummary> summary;  // set on success
    std::string error;                     // one line, when summary is not set
};

struct ReplaySetupResult {
    std::optional<EngineSetup> setup;
    std::string error;  // one line, when setup is not set
};

// The engine setup from the config alone, without looking at the host: needs
// lan.networks and a literal wan.address. The IGD does not run offline, so no UPnP
// endpoint is set.
ReplaySetupResult replay_engine_setup(const GatewayConfig& config);

// Reads files.input whole, runs it through a fresh engine built from `setup`, writes
// files.output (and files.verdicts). File problems come back as outcome.error.
ReplayOutcome replay_capture(const EngineSetup& setup, const ReplayFiles& files,
                             ChecksumTrust trust = ChecksumTrust::detect_partial);

// The verdict summary for people: packets per direction and verdict, drops per
// reason, flows and mappings created, engine packets/s.
void print_replay_summary(const ReplaySummary& summary, std::ostream& out);

// `gatewayd --replay IN --write OUT [--config FILE] [--verdicts FILE] [--trust-checksums]`: argv as main
// got it. Returns the exit status: 0, 1 (file problems), 2 (usage or config).
int replay_command(int argc, char** argv);

}  // namespace gw

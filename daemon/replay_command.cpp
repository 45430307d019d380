// `gatewayd --replay`: arguments, the offline config check, the printed summary.
// The replay itself is pcap_replay.cpp.
#include <cstdio>
#include <iostream>
#include <string>

#include "gateway_daemon.hpp"
#include "pcap_replay.hpp"

namespace gw {
namespace {

constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2;

const char* replay_usage =
    "usage: gatewayd --replay IN.pcap --write OUT.pcap --config FILE [--verdicts FILE] [--trust-checksums]\n"
    "  runs the engine over IN.pcap offline (its timestamps are the clock) and writes what it lets\n"
    "  through, translated, to OUT.pcap; FILE must set lan.networks and a literal wan.address.\n"
    "  Offloaded (partial) TCP/UDP checksums are recognised and accepted; --trust-checksums\n"
    "  accepts every checksum that fails as well\n";

struct ReplayArguments {
    ReplayFiles files;
    std::string config_path;
    ChecksumTrust checksums = ChecksumTrust::detect_partial;
};

bool parse_replay_arguments(int argc, char** argv, ReplayArguments& args, std::string& problem) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--trust-checksums") {
            args.checksums = ChecksumTrust::trust_all;
            continue;
        }
        std::string* target = a == "--replay"     ? &args.files.input
                              : a == "--write"    ? &args.files.output
                              : a == "--config"   ? &args.config_path
                              : a == "--verdicts" ? &args.files.verdicts
                                                  : nullptr;
        if (!target) {
            problem = "unknown argument '" + a + "'";
            return false;
        }
        if (i + 1 >= argc) {
            problem = a + " needs a file";
            return false;
        }
        *target = argv[++i];
    }
    if (args.files.output.empty()) problem = "--replay needs --write OUT.pcap";
    else if (args.config_path.empty())
        problem = "--replay needs --config FILE (with lan.networks and wan.address: offline, no interface tells them)";
    return problem.empty();
}

}  // namespace

ReplaySetupResult replay_engine_setup(const GatewayConfig& config) {
    if (config.firewall.lan_networks.empty())
        return {std::nullopt, "lan.networks is not set: a replay has no interface to read it from; set lan.networks"};
    if (!config.wan_address)
        return {std::nullopt, "wan.address is auto: a replay has no interface to read it from; set a literal wan.address"};
    // The port selection key stays all zeros: replays are repeatable, and a replacement port
    // differs from the live daemon's (drawn with its secret key); preserved ports do not.
    return {engine_setup_from_config(config, *config.wan_address), {}};
}

namespace {

// Which checksums the replay accepted, and why: a capture taken on the sending host
// holds offloaded ones that tcpdump calls incorrect.
void print_checksum_summary(const ReplaySummary& s, std::ostream& out) {
    if (s.checksum_trust == ChecksumTrust::trust_all) {
        out << "checksums: trusted (--trust-checksums): " << s.partial_checksums
            << " packets carried offloaded (partial) checksums and " << s.failed_checksums
            << " carried checksums that fail; all were accepted, and finished in the output\n";
        return;
    }
    out << "checksums: verified; " << s.partial_checksums
        << " packets carried offloaded (partial) checksums and were accepted as such";
    if (s.failed_checksums > 0)
        out << "; " << s.failed_checksums
            << " carried checksums that fail (a TCP SYN, FIN or RST among them is dropped as bad_tcp_checksum;"
               " --trust-checksums accepts them)";
    out << '\n';
}

}  // namespace

void print_replay_summary(const ReplaySummary& s, std::ostream& out) {
    out << "packets " << s.packets << ": outbound " << s.count(ReplayDirection::outbound) << ", inbound "
        << s.count(ReplayDirection::inbound) << ", hairpin " << s.count(ReplayDirection::hairpin)
        << ", not through the gateway " << s.count(ReplayDirection::not_through_gateway) << ", skipped (not IP) "
        << s.count(ReplayDirection::skipped) << '\n';
    out << "verdicts: forward " << s.count(Verdict::forward) << ", deliver_locally " << s.count(Verdict::deliver_locally)
        << ", drop " << s.count(Verdict::drop) << ", reject " << s.count(Verdict::reject) << "; written " << s.written
        << '\n';
    for (std::size_t i = 1; i < drop_reason_count; ++i)
        if (auto reason = DropReason(i); s.engine.drops[reason] > 0)
            out << "  dropped " << drop_reason_name(reason) << ": " << s.engine.drops[reason] << '\n';
    print_checksum_summary(s, out);
    out << "flows created " << s.engine.flows_created << " (live " << s.live_flows << "), mappings created "
        << s.engine.mappings_created << " (live " << s.live_mappings << ")\n";
    if (s.ipv6_flows_created > 0)
        out << "IPv6 flows created " << s.ipv6_flows_created << " (live " << s.live_ipv6_flows << ")\n";
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.0f", s.engine_packets_per_second());
    out << "engine: " << std::chrono::duration_cast<std::chrono::microseconds>(s.engine_time).count()
        << " us for the packets judged, " << rate << " packets/s (file I/O excluded)\n";
    std::snprintf(rate, sizeof rate, "%.0f", s.engine_packets_per_cpu_second());
    out << "engine cpu: " << std::chrono::duration_cast<std::chrono::microseconds>(s.engine_cpu_time).count()
        << " us of this thread's CPU time, " << rate << " packets/s per core\n";
}

int replay_command(int argc, char** argv) {
    ReplayArguments args;
    std::string problem;
    if (!parse_replay_arguments(argc, argv, args, problem)) {
        std::cerr << "gatewayd: " << problem << '\n' << replay_usage;
        return exit_usage;
    }
    ConfigLoadResult loaded = load_config_file(args.config_path);
    for (const std::string& line : config_report_lines(loaded)) std::cerr << line << '\n';
    if (!loaded.config) {
        std::cerr << "gatewayd: " << loaded.error_count() << " error(s) in " << args.config_path << ", not replaying\n";
        return exit_usage;
    }
    ReplaySetupResult setup = replay_engine_setup(*loaded.config);
    if (!setup.setup) {
        std::cerr << "gatewayd: " << args.config_path << ": " << setup.error << '\n';
        return exit_usage;
    }
    ReplayOutcome outcome = replay_capture(*setup.setup, args.files, args.checksums);
    if (!outcome.summary) {
        std::cerr << "gatewayd: " << outcome.error << '\n';
        return exit_failure;
    }
    print_replay_summary(*outcome.summary, std::cout);
    return exit_ok;
}

}  // namespace gw

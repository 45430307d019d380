// lab_probe: the traffic that the benchmarks and the soak send through the lab, written in C++
// because a Python peer would be the bottleneck it is meant to measure. Each mode runs inside one
// lab namespace (`ip netns exec`); clients print one JSON line on stdout, servers run until SIGTERM.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace gw::probe {

// "--key value" pairs after the mode; getters throw UsageError with the reason.
class ProbeArguments {
public:
    ProbeArguments(int argc, char** argv, int first);
    std::string text(const std::string& key) const;
    std::string text(const std::string& key, const std::string& fallback) const;
    // An integer in [low, high]; `fallback` when the key is absent (none: required).
    std::int64_t integer(const std::string& key, std::int64_t low, std::int64_t high,
                         std::optional<std::int64_t> fallback = std::nullopt) const;
    double real(const std::string& key, double low, double high, std::optional<double> fallback = std::nullopt) const;
    sockaddr_in endpoint(const std::string& key) const;  // ADDRESS:PORT
    sockaddr_in address(const std::string& key) const;   // ADDRESS, port 0

private:
    std::map<std::string, std::string> values_;
};

struct UsageError {
    std::string message;
};

// CLOCK_MONOTONIC in nanoseconds: RTTs are measured by the process that sent the packet.
std::int64_t monotonic_ns();
// Set by SIGTERM/SIGINT (servers stop their loop and exit 0).
bool stop_requested();
void install_stop_handlers();
// Fails with the errno text (start-up problems: socket, bind, listen).
[[noreturn]] void fail_errno(const std::string& what);

// The modes; each returns the process's exit status.
int run_tcp_server(const ProbeArguments& args);   // --port P
int run_tcp_connect(const ProbeArguments& args);  // --to A:P --seconds T [--parallel N] [--rate R] [--timeout-ms M]
int run_udp_echo(const ProbeArguments& args);     // --port P
int run_udp_latency(const ProbeArguments& args);  // --to A:P --rate R --seconds T [--size B] [--wait-ms M]
int run_udp_flows(const ProbeArguments& args);    // --to A --first-port P --flows N [--sockets S] [--rate R]

}  // namespace gw::probe

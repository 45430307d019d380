// lab_probe MODE --key value...: see lab_probe.hpp and the usage text below.
#include "lab_probe.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace gw::probe {
namespace {

constexpr int exit_usage = 2;

const char* usage_text =
    "usage: lab_probe MODE [--key value]...\n"
    "  tcp-server  --port P                       accept; read one byte, answer one byte, close\n"
    "  tcp-connect --to ADDR:P --seconds T [--parallel N=32] [--rate R=0 (unlimited)] [--timeout-ms M=2000]\n"
    "              short connections (connect, 1-byte request, 1-byte answer, the server closes) with\n"
    "              N in flight; prints {\"completed\", \"failed\", \"per_second\", ...}\n"
    "  udp-echo    --port P                       send every datagram back to its sender\n"
    "  udp-latency --to ADDR:P --rate R --seconds T [--size B=64] [--wait-ms M=500]\n"
    "              paced request/response pairs; prints RTT median/p99 (microseconds) and loss\n"
    "  udp-flows   --to ADDR --first-port P --flows N [--sockets S=64] [--rate R=0]\n"
    "              one datagram per flow: S source sockets x ceil(N/S) destination ports\n"
    "Servers run until SIGTERM; clients print one JSON line on stdout.\n";

volatile std::sig_atomic_t stop_signal = 0;

void on_stop(int) { stop_signal = 1; }

sockaddr_in parse_address(const std::string& key, const std::string& address, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1)
        throw UsageError{"--" + key + ": '" + address + "' is not an IPv4 address"};
    return a;
}

}  // namespace

ProbeArguments::ProbeArguments(int argc, char** argv, int first) {
    for (int i = first; i < argc; i += 2) {
        std::string key = argv[i];
        if (key.rfind("--", 0) != 0) throw UsageError{"expected --key, got '" + key + "'"};
        if (i + 1 >= argc) throw UsageError{key + " needs a value"};
        values_[key.substr(2)] = argv[i + 1];
    }
}

std::string ProbeArguments::text(const std::string& key) const {
    auto found = values_.find(key);
    if (found == values_.end()) throw UsageError{"--" + key + " is required"};
    return found->second;
}

std::string ProbeArguments::text(const std::string& key, const std::string& fallback) const {
    auto found = values_.find(key);
    return found == values_.end() ? fallback : found->second;
}

std::int64_t ProbeArguments::integer(const std::string& key, std::int64_t low, std::int64_t high,
                                     std::optional<std::int64_t> fallback) const {
    if (fallback && !values_.count(key)) return *fallback;
    const std::string value = text(key);
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0 || n < low || n > high)
        throw UsageError{"--" + key + " must be an integer from " + std::to_string(low) + " to " +
                         std::to_string(high) + ", not '" + value + "'"};
    return n;
}

double ProbeArguments::real(const std::string& key, double low, double high, std::optional<double> fallback) const {
    if (fallback && !values_.count(key)) return *fallback;
    const std::string value = text(key);
    char* end = nullptr;
    double n = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(n >= low && n <= high))
        throw UsageError{"--" + key + " must be a number from " + std::to_string(low) + " to " +
                         std::to_string(high) + ", not '" + value + "'"};
    return n;
}

sockaddr_in ProbeArguments::endpoint(const std::string& key) const {
    const std::string value = text(key);
    const auto colon = value.rfind(':');
    if (colon == std::string::npos) throw UsageError{"--" + key + " must be ADDRESS:PORT, not '" + value + "'"};
    const std::string port = value.substr(colon + 1);
    char* end = nullptr;
    long n = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || n < 1 || n > 65535)
        throw UsageError{"--" + key + ": '" + port + "' is not a port (1 to 65535)"};
    return parse_address(key, value.substr(0, colon), std::uint16_t(n));
}

sockaddr_in ProbeArguments::address(const std::string& key) const { return parse_address(key, text(key), 0); }

std::int64_t monotonic_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

bool stop_requested() { return stop_signal != 0; }

void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop;  // no SA_RESTART: a blocked accept/recv returns EINTR
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}

void fail_errno(const std::string& what) {
    std::fprintf(stderr, "lab_probe: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

}  // namespace gw::probe

int main(int argc, char** argv) {
    using namespace gw::probe;
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? exit_usage : 0;
    }
    const std::string mode = argv[1];
    try {
        ProbeArguments args(argc, argv, 2);
        if (mode == "tcp-server") return run_tcp_server(args);
        if (mode == "tcp-connect") return run_tcp_connect(args);
        if (mode == "udp-echo") return run_udp_echo(args);
        if (mode == "udp-latency") return run_udp_latency(args);
        if (mode == "udp-flows") return run_udp_flows(args);
        throw UsageError{"unknown mode '" + mode + "'"};
    } catch (const UsageError& e) {
        std::fprintf(stderr, "lab_probe: %s\n%s", e.message.c_str(), usage_text);
        return exit_usage;
    }
}

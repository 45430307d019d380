// lab_probe's UDP modes: an echo server, a paced request/response client that measures the
// round-trip time of every pair (the latency the NAT adds, compared with the kernel's), and a
// sender that opens many flows with one datagram each (the soak's flow flood).
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <numeric>
#include <vector>

#include "lab_probe.hpp"

namespace gw::probe {
namespace {

// Tags our datagrams, so a stray one is not taken for an answer.
constexpr std::uint32_t latency_magic = 0x6c617470;  // "latp"

int udp_socket() {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket");
    return fd;
}

timespec timespec_of(std::int64_t ns) {
    ns = std::max<std::int64_t>(ns, 0);
    return timespec{time_t(ns / 1000000000), long(ns % 1000000000)};
}

// Nearest rank: the smallest RTT that at least `q` of the RTTs do not exceed.
double percentile_us(const std::vector<std::int64_t>& sorted_ns, double q) {
    const std::size_t rank = std::size_t(std::ceil(q * double(sorted_ns.size())));
    return double(sorted_ns[std::max<std::size_t>(rank, 1) - 1]) / 1000.0;
}

// Paced sends; the answers are read between sends, each RTT taken as the answer is read.
class LatencyClient {
public:
    explicit LatencyClient(const ProbeArguments& args)
        : rate_(args.real("rate", 1, 1e6)),
          seconds_(args.real("seconds", 0.01, 86400)),
          size_(std::size_t(args.integer("size", 16, 1472, 64))),
          wait_ns_(args.integer("wait-ms", 0, 60000, 500) * 1000000),
          total_(std::size_t(std::llround(rate_ * seconds_))),
          sent_at_ns_(total_, -1),
          answered_(total_, false),
          fd_(udp_socket()) {
        const sockaddr_in server = args.endpoint("to");
        if (total_ == 0) throw UsageError{"--rate x --seconds must be at least one datagram"};
        if (connect(fd_, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) fail_errno("connect");
        rtts_ns_.reserve(total_);
    }

    int run() {
        const std::int64_t interval_ns = std::int64_t(1e9 / rate_);
        const std::int64_t start_ns = monotonic_ns();
        std::int64_t last_send_ns = start_ns;
        std::size_t next = 0;
        for (;;) {
            const std::int64_t now = monotonic_ns();
            if (next < total_ && now >= start_ns + std::int64_t(next) * interval_ns) {
                send_request(next++, now);
                last_send_ns = now;
                continue;
            }
            if (next == total_ && (now >= last_send_ns + wait_ns_ || rtts_ns_.size() == sent_)) break;
            const std::int64_t until = next < total_ ? start_ns + std::int64_t(next) * interval_ns : last_send_ns + wait_ns_;
            pollfd p{fd_, POLLIN, 0};
            const timespec timeout = timespec_of(until - now);
            if (ppoll(&p, 1, &timeout, nullptr) > 0) read_answers();
        }
        print_report();
        return 0;
    }

private:
    void send_request(std::size_t sequence, std::int64_t now) {
        std::vector<std::uint8_t> datagram(size_, 0);
        const std::uint64_t seq = sequence;
        std::memcpy(datagram.data(), &latency_magic, 4);
        std::memcpy(datagram.data() + 4, &seq, 8);
        if (send(fd_, datagram.data(), datagram.size(), 0) == ssize_t(datagram.size())) {
            sent_at_ns_[sequence] = now;
            ++sent_;
        } else {
            ++send_errors_;
        }
    }

    void read_answers() {
        std::uint8_t buffer[2048];
        for (;;) {
            const ssize_t r = recv(fd_, buffer, sizeof buffer, 0);
            if (r < 0) return;  // EAGAIN, or an ICMP error reported on the connected socket
            const std::int64_t now = monotonic_ns();
            std::uint32_t magic;
            std::uint64_t seq;
            if (r < 12) continue;
            std::memcpy(&magic, buffer, 4);
            std::memcpy(&seq, buffer + 4, 8);
            if (magic != latency_magic || seq >= total_ || sent_at_ns_[seq] < 0 || answered_[seq]) continue;
            answered_[seq] = true;
            rtts_ns_.push_back(now - sent_at_ns_[seq]);
        }
    }

    void print_report() {
        std::sort(rtts_ns_.begin(), rtts_ns_.end());
        const std::size_t received = rtts_ns_.size();
        const double lost_percent = sent_ ? 100.0 * double(sent_ - received) / double(sent_) : 0.0;
        std::printf("{\"mode\": \"udp-latency\", \"rate\": %.0f, \"seconds\": %.3f, \"size\": %zu, \"sent\": %zu, "
                    "\"send_errors\": %zu, \"received\": %zu, \"lost\": %zu, \"loss_percent\": %.3f",
                    rate_, seconds_, size_, sent_, send_errors_, received, sent_ - received, lost_percent);
        if (received == 0) {
            std::printf(", \"median_us\": null, \"p99_us\": null, \"mean_us\": null, \"min_us\": null, \"max_us\": null}\n");
            return;
        }
        const double mean_us = double(std::accumulate(rtts_ns_.begin(), rtts_ns_.end(), std::int64_t(0))) /
                               double(received) / 1000.0;
        std::printf(", \"median_us\": %.1f, \"p99_us\": %.1f, \"mean_us\": %.1f, \"min_us\": %.1f, \"max_us\": %.1f}\n",
                    percentile_us(rtts_ns_, 0.5), percentile_us(rtts_ns_, 0.99), mean_us, percentile_us(rtts_ns_, 0),
                    double(rtts_ns_.back()) / 1000.0);
    }

    const double rate_, seconds_;
    const std::size_t size_;
    const std::int64_t wait_ns_;  // after the last send, how long answers may still come
    const std::size_t total_;
    std::vector<std::int64_t> sent_at_ns_;  // by sequence number; -1: the send failed
    std::vector<bool> answered_;            // a duplicate answer is not a second RTT
    std::vector<std::int64_t> rtts_ns_;
    std::size_t sent_ = 0, send_errors_ = 0;
    const int fd_;
};

}  // namespace

int run_udp_echo(const ProbeArguments& args) {
    const auto port = std::uint16_t(args.integer("port", 1, 65535));
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail_errno("bind to port " + std::to_string(port));
    install_stop_handlers();
    std::uint8_t buffer[65536];
    std::uint64_t echoed = 0;
    while (!stop_requested()) {
        sockaddr_in peer{};
        socklen_t length = sizeof peer;
        const ssize_t r = recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer), &length);
        if (r < 0) continue;  // EINTR on SIGTERM: the loop condition ends it
        if (sendto(fd, buffer, std::size_t(r), 0, reinterpret_cast<sockaddr*>(&peer), length) == r) ++echoed;
    }
    std::fprintf(stderr, "lab_probe udp-echo: echoed %llu datagrams\n", (unsigned long long)echoed);
    return 0;
}

int run_udp_latency(const ProbeArguments& args) { return LatencyClient(args).run(); }

int run_udp_flows(const ProbeArguments& args) {
    sockaddr_in to = args.address("to");
    const auto first_port = args.integer("first-port", 1, 65535);
    const auto flows = std::size_t(args.integer("flows", 1, 10000000));
    const auto sockets = std::size_t(args.integer("sockets", 1, 1000, 64));
    const double rate = args.real("rate", 0, 1e7, 0.0);
    const std::size_t ports = (flows + sockets - 1) / sockets;
    if (first_port + std::int64_t(ports) - 1 > 65535)
        throw UsageError{"--first-port + ceil(--flows / --sockets) - 1 must stay within 65535"};
    std::vector<int> fds(std::min(sockets, flows));
    for (int& fd : fds) fd = udp_socket();
    const std::uint8_t datagram[16] = {'f', 'l', 'o', 'w'};
    std::size_t sent = 0, errors = 0;
    const std::int64_t start_ns = monotonic_ns();
    for (std::size_t i = 0; i < flows; ++i) {
        if (rate > 0) {
            const std::int64_t due_ns = start_ns + std::int64_t(double(i) * 1e9 / rate);
            const timespec pause = timespec_of(due_ns - monotonic_ns());
            if (pause.tv_sec > 0 || pause.tv_nsec > 0) nanosleep(&pause, nullptr);
        }
        to.sin_port = htons(std::uint16_t(first_port + std::int64_t(i / fds.size())));
        const int fd = fds[i % fds.size()];
        ssize_t r = sendto(fd, datagram, sizeof datagram, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        if (r < 0 && errno == EAGAIN) {  // the socket's buffer is full: wait for room once
            pollfd p{fd, POLLOUT, 0};
            poll(&p, 1, 100);
            r = sendto(fd, datagram, sizeof datagram, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        }
        (r == ssize_t(sizeof datagram) ? sent : errors)++;
    }
    const double seconds = double(monotonic_ns() - start_ns) / 1e9;
    std::printf("{\"mode\": \"udp-flows\", \"flows\": %zu, \"sockets\": %zu, \"ports\": %zu, \"sent\": %zu, "
                "\"errors\": %zu, \"seconds\": %.3f}\n",
                flows, fds.size(), ports, sent, errors, seconds);
    for (int fd : fds) close(fd);
    return 0;
}

}  // namespace gw::probe

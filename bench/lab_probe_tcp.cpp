// lab_probe's TCP modes: a server that answers one byte and closes, and a client that measures
// how many such short connections per second get through (the NAT's connection set-up rate).
//
// The server closes first, as an HTTP/1.0 server does, so TIME_WAIT stays on the WAN host and the
// LAN host's ephemeral ports come back at once: the client can run for seconds at thousands of
// connections a second without running out of ports.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "lab_probe.hpp"

namespace gw::probe {
namespace {

constexpr int max_events = 256;

int tcp_listener(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket");
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail_errno("bind to port " + std::to_string(port));
    if (listen(fd, 4096) != 0) fail_errno("listen");
    return fd;
}

void watch(int epoll_fd, int op, int fd, std::uint32_t events, std::uint64_t data) {
    epoll_event e{};
    e.events = events;
    e.data.u64 = data;
    if (epoll_ctl(epoll_fd, op, fd, &e) != 0) fail_errno("epoll_ctl");
}

// One connection of the client, from connect() to the server's close.
struct Attempt {
    enum class Stage { idle, connecting, awaiting_answer } stage = Stage::idle;
    int fd = -1;
    std::int64_t started_ns = 0;
    std::int64_t retry_at_ns = 0;  // after a failure: a failing slot must not spin
    bool answered = false;
};

class ConnectRateClient {
public:
    explicit ConnectRateClient(const ProbeArguments& args)
        : server_(args.endpoint("to")),
          seconds_(args.real("seconds", 0.1, 86400)),
          rate_(args.real("rate", 0, 1e7, 0.0)),
          timeout_ns_(args.integer("timeout-ms", 1, 600000, 2000) * 1000000),
          attempts_(std::size_t(args.integer("parallel", 1, 1000, 32))),
          epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
        if (epoll_fd_ < 0) fail_errno("epoll_create1");
    }

    int run() {
        start_ns_ = monotonic_ns();
        const std::int64_t end_ns = start_ns_ + std::int64_t(seconds_ * 1e9);
        epoll_event events[max_events];
        for (std::int64_t now = start_ns_; now < end_ns; now = monotonic_ns()) {
            for (std::size_t i = 0; i < attempts_.size(); ++i) {
                Attempt& a = attempts_[i];
                if (a.stage == Attempt::Stage::idle && now >= a.retry_at_ns && may_start(now)) begin(i, now);
                else if (a.stage != Attempt::Stage::idle && now - a.started_ns > timeout_ns_) fail(i, "timeout", now);
            }
            const int wait_ms = rate_ > 0 ? 1 : 10;
            const int n = epoll_wait(epoll_fd_, events, max_events, wait_ms);
            for (int k = 0; k < n; ++k) advance(std::size_t(events[k].data.u64), events[k].events);
        }
        std::size_t in_flight = 0;
        for (auto& a : attempts_)
            if (a.stage != Attempt::Stage::idle) {
                ++in_flight;
                close(a.fd);
            }
        print_report(in_flight);
        return 0;
    }

private:
    bool may_start(std::int64_t now) const {
        return rate_ <= 0 || double(started_) < rate_ * double(now - start_ns_) / 1e9 + 1;
    }

    void begin(std::size_t i, std::int64_t now) {
        Attempt& a = attempts_[i];
        a = Attempt{};
        a.started_ns = now;
        ++started_;
        a.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (a.fd < 0) fail_errno("socket");
        a.stage = Attempt::Stage::connecting;
        if (connect(a.fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0 && errno != EINPROGRESS) {
            fail(i, strerrorname(errno), now);
            return;
        }
        watch(epoll_fd_, EPOLL_CTL_ADD, a.fd, EPOLLOUT, i);
    }

    void advance(std::size_t i, std::uint32_t events) {
        Attempt& a = attempts_[i];
        if (a.stage == Attempt::Stage::connecting) {
            int error = 0;
            socklen_t length = sizeof error;
            getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0 || (events & EPOLLERR)) return fail(i, strerrorname(error ? error : ECONNRESET), monotonic_ns());
            if (send(a.fd, "q", 1, MSG_NOSIGNAL) != 1) return fail(i, strerrorname(errno), monotonic_ns());
            a.stage = Attempt::Stage::awaiting_answer;
            watch(epoll_fd_, EPOLL_CTL_MOD, a.fd, EPOLLIN, i);
            return;
        }
        if (a.stage != Attempt::Stage::awaiting_answer) return;
        char buffer[64];
        for (;;) {
            const ssize_t r = recv(a.fd, buffer, sizeof buffer, 0);
            if (r > 0) {
                a.answered = true;
                continue;
            }
            if (r < 0 && errno == EAGAIN) return;
            if (r < 0) return fail(i, strerrorname(errno), monotonic_ns());
            if (!a.answered) return fail(i, "closed without an answer", monotonic_ns());
            ++completed_;
            finish(i);
            return;
        }
    }

    void fail(std::size_t i, const std::string& reason, std::int64_t now) {
        ++failures_[reason];
        ++failed_;
        finish(i);
        attempts_[i].retry_at_ns = now + 10000000;
    }

    void finish(std::size_t i) {
        Attempt& a = attempts_[i];
        close(a.fd);  // also removes it from the epoll set
        a.fd = -1;
        a.stage = Attempt::Stage::idle;
    }

    static std::string strerrorname(int error) {
        const char* name = strerrorname_np(error);
        return name ? name : std::to_string(error);
    }

    void print_report(std::size_t in_flight) const {
        std::string failures;
        for (const auto& [reason, count] : failures_)
            failures += (failures.empty() ? "" : ", ") + ("\"" + reason + "\": " + std::to_string(count));
        std::printf("{\"mode\": \"tcp-connect\", \"seconds\": %.3f, \"parallel\": %zu, \"completed\": %llu, "
                    "\"failed\": %llu, \"in_flight_at_end\": %zu, \"per_second\": %.1f, \"failures\": {%s}}\n",
                    seconds_, attempts_.size(), (unsigned long long)completed_, (unsigned long long)failed_, in_flight,
                    double(completed_) / seconds_, failures.c_str());
    }

    const sockaddr_in server_;
    const double seconds_;
    const double rate_;  // connections started per second; 0: as fast as the slots free up
    const std::int64_t timeout_ns_;
    std::vector<Attempt> attempts_;
    const int epoll_fd_;
    std::int64_t start_ns_ = 0;
    std::uint64_t started_ = 0, completed_ = 0, failed_ = 0;
    std::map<std::string, std::uint64_t> failures_;
};

}  // namespace

int run_tcp_server(const ProbeArguments& args) {
    const int listener = tcp_listener(std::uint16_t(args.integer("port", 1, 65535)));
    install_stop_handlers();
    const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) fail_errno("epoll_create1");
    watch(epoll_fd, EPOLL_CTL_ADD, listener, EPOLLIN, std::uint64_t(listener));
    std::uint64_t answered = 0;
    epoll_event events[max_events];
    while (!stop_requested()) {
        const int n = epoll_wait(epoll_fd, events, max_events, 200);
        for (int k = 0; k < n; ++k) {
            const int fd = int(events[k].data.u64);
            if (fd == listener) {
                int c;
                while ((c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                    watch(epoll_fd, EPOLL_CTL_ADD, c, EPOLLIN, std::uint64_t(c));
                continue;
            }
            char request;
            const ssize_t r = recv(fd, &request, 1, 0);
            if (r < 0 && errno == EAGAIN) continue;
            if (r == 1 && send(fd, "a", 1, MSG_NOSIGNAL) == 1) ++answered;
            close(fd);
        }
    }
    std::fprintf(stderr, "lab_probe tcp-server: answered %llu connections\n", (unsigned long long)answered);
    return 0;
}

int run_tcp_connect(const ProbeArguments& args) { return ConnectRateClient(args).run(); }

}  // namespace gw::probe

#include "metrics_endpoint.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/log.hpp"
#include "base/startup_error.hpp"
#include "igd/http_request_reader.hpp"
#include "socket_address.hpp"

namespace gw {

struct MetricsEndpoint::Connection {
    int fd = -1;
    std::chrono::steady_clock::time_point deadline;
    HttpRequestReader reader{HttpLimits{.max_head_bytes = 4096, .max_body_bytes = 0}};
    std::string output;  // the answer, once there is one
    std::size_t sent = 0;
    ~Connection() {
        if (fd >= 0) close(fd);
    }
};

namespace {

std::string response(const char* status, const char* content_type, std::string_view body) {
    std::string text = std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + content_type +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    text.append(body);
    return text;
}

}  // namespace

MetricsEndpoint::MetricsEndpoint(Endpoint listen, std::chrono::milliseconds deadline)
    : listen_(listen), deadline_(deadline), text_(std::make_shared<const std::string>("gatewayd_up 1\n")) {}

MetricsEndpoint::~MetricsEndpoint() {
    thread_.stop();
    connections_.clear();
    if (listen_fd_ >= 0) close(listen_fd_);
}

void MetricsEndpoint::start() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw StartupError("metrics endpoint: cannot open a socket: " + error_text(errno));
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address = socket_address(listen_);
    if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_fd_, 16) != 0)
        throw StartupError("metrics endpoint: cannot listen on " + to_string(listen_) + ": " + error_text(errno));
    sockaddr_in bound{};
    socklen_t length = sizeof bound;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.sin_port);
    log::info("metrics: serving GET /metrics on " + listen_.address.to_string() + ":" + std::to_string(port_));
    thread_.start([this](std::stop_token stop, int wake_fd) { serve(stop, wake_fd); });
}

void MetricsEndpoint::publish(std::string text) {
    auto shared = std::make_shared<const std::string>(std::move(text));
    std::lock_guard lock(mutex_);
    text_ = std::move(shared);
}

MetricsEndpointCounts MetricsEndpoint::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

// One line for the first refusal, then at most one a minute with the count since.
void MetricsEndpoint::count_refusal(std::uint64_t MetricsEndpointCounts::*counter, const char* what) {
    std::lock_guard lock(mutex_);
    ++(counts_.*counter);
    ++refusals_since_log_;
    auto now = std::chrono::steady_clock::now();
    if (last_refusal_log_.time_since_epoch().count() == 0 || now - last_refusal_log_ >= std::chrono::minutes(1)) {
        log::warning("metrics endpoint: " + std::string(what) + " (" + std::to_string(refusals_since_log_) +
                     " refused since the last line)");
        last_refusal_log_ = now;
        refusals_since_log_ = 0;
    }
}

void MetricsEndpoint::accept_all() {
    for (;;) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN: none left (or a transient error: poll says again)
        if (connections_.size() >= max_connections) {
            // Counted before the close: a client that sees the close may read the count at once.
            count_refusal(&MetricsEndpointCounts::busy, "a connection closed at once: all connections in use");
            close(fd);
            continue;
        }
        auto connection = std::make_unique<Connection>();
        connection->fd = fd;
        connection->deadline = std::chrono::steady_clock::now() + deadline_;
        connections_.push_back(std::move(connection));
    }
}

void MetricsEndpoint::answer(Connection& c) {
    const HttpRequest& request = c.reader.request();
    if (request.method != "GET") {
        count_refusal(&MetricsEndpointCounts::bad_requests, "a request other than GET refused");
        c.output = response("405 Method Not Allowed", "text/plain", "GET /metrics only\n");
        return;
    }
    if (request.target != "/metrics") {
        std::lock_guard lock(mutex_);
        ++counts_.not_found;
        c.output = response("404 Not Found", "text/plain", "GET /metrics only\n");
        return;
    }
    std::shared_ptr<const std::string> text;
    {
        std::lock_guard lock(mutex_);
        text = text_;
        ++counts_.served;
    }
    c.output = response("200 OK", "text/plain; version=0.0.4; charset=utf-8", *text);
}

bool MetricsEndpoint::read_from(Connection& c) {
    char buffer[2048];
    for (;;) {
        ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
        if (n == 0) return false;  // the client went away before its request was whole
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        switch (c.reader.feed(std::string_view(buffer, std::size_t(n)))) {
            case HttpRequestReader::State::incomplete: continue;
            case HttpRequestReader::State::complete: answer(c); return true;
            case HttpRequestReader::State::refused:
                count_refusal(&MetricsEndpointCounts::bad_requests,
                              ("a request refused: " + std::string(http_refusal_name(c.reader.refusal()))).c_str());
                c.output = response("400 Bad Request", "text/plain", "GET /metrics only\n");
                return true;
        }
    }
}

bool MetricsEndpoint::write_to(Connection& c) {
    while (c.sent < c.output.size()) {
        ssize_t n = send(c.fd, c.output.data() + c.sent, c.output.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        c.sent += std::size_t(n);
    }
    return false;  // all sent: done
}

void MetricsEndpoint::serve(std::stop_token stop, int wake_fd) {
    std::vector<pollfd> fds;
    while (!stop.stop_requested()) {
        fds.clear();
        fds.push_back({wake_fd, POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        for (const auto& c : connections_)
            fds.push_back({c->fd, short(c->output.empty() ? POLLIN : POLLOUT), 0});
        poll(fds.data(), fds.size(), 1000);
        if (fds[1].revents & POLLIN) accept_all();
        const auto now = std::chrono::steady_clock::now();
        // fds[2 + i] is connections_[i] as it was before accept_all appended any.
        for (std::size_t i = 0; i + 2 < fds.size(); ++i) {
            Connection& c = *connections_[i];
            bool keep = true;
            if (fds[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) keep = c.output.empty() ? read_from(c) : true;
            if (keep && !c.output.empty()) keep = write_to(c);
            if (keep && now >= c.deadline) {
                count_refusal(&MetricsEndpointCounts::timed_out, "a connection closed: no whole request or read in time");
                keep = false;
            }
            if (!keep) {
                connections_[i].reset();
            }
        }
        std::erase(connections_, nullptr);
        std::lock_guard lock(mutex_);
        counts_.open = connections_.size();
    }
}

}  // namespace gw

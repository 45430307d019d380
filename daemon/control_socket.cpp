#include "control_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control_json.hpp"
#include "base/log.hpp"
#include "base/startup_error.hpp"

namespace gw {
namespace {

constexpr std::size_t max_connections = 8;
constexpr Instant client_deadline = std::chrono::seconds(2);

std::string error_answer(std::string_view message) {
    return JsonObject().add("ok", false).add("error", message).str() + "\n";
}

}  // namespace

ControlRequest parse_control_request(std::string_view line) {
    ControlRequest request;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    std::size_t first = line.find_first_not_of(" \t");
    if (first != std::string_view::npos && line[first] == '[') {
        auto parsed = parse_json(line);
        const JsonValue::Array* items = parsed ? parsed->array() : nullptr;
        if (!items) {
            request.error = "the request is not a JSON array of strings";
            return request;
        }
        for (const auto& item : *items) {
            if (!item.string()) {
                request.error = "the request is not a JSON array of strings";
                request.words.clear();
                return request;
            }
            request.words.push_back(*item.string());
        }
    } else {
        for (std::size_t i = 0; i < line.size();) {
            std::size_t start = line.find_first_not_of(" \t", i);
            if (start == std::string_view::npos) break;
            std::size_t end = line.find_first_of(" \t", start);
            if (end == std::string_view::npos) end = line.size();
            request.words.emplace_back(line.substr(start, end - start));
            i = end;
        }
    }
    for (const auto& w : request.words)
        for (char c : w)
            if (std::uint8_t(c) < 0x20) request.error = "control characters in the request";
    if (request.error.empty() && request.words.empty()) request.error = "empty request";
    if (!request.error.empty()) request.words.clear();
    return request;
}

ControlSocket::ControlSocket(std::string path) : path_(std::move(path)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.empty() || path_.size() >= sizeof address.sun_path)
        throw StartupError("control socket path '" + path_ + "' is empty or too long");
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    // A socket file left by a daemon that died is replaced; anything else is not ours.
    struct stat st{};
    if (lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) throw StartupError("control socket path " + path_ + " exists and is not a socket");
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live = probe >= 0 && connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        if (probe >= 0) close(probe);
        if (live) throw StartupError("another gatewayd answers on " + path_);
        unlink(path_.c_str());
    }
    if (auto slash = path_.rfind('/'); slash != std::string::npos && slash > 0) {
        std::string dir = path_.substr(0, slash);
        if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
            throw StartupError("cannot create " + dir + ": " + std::strerror(errno));
    }
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw StartupError(std::string("cannot create the control socket: ") + std::strerror(errno));
    // 0600 from the start: no window in which another user could connect.
    mode_t old_mask = umask(0177);
    int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    umask(old_mask);
    if (rc != 0 || listen(listen_fd_, 8) != 0) {
        std::string why = std::strerror(errno);
        close(listen_fd_);
        throw StartupError("cannot listen on " + path_ + ": " + why);
    }
    chmod(path_.c_str(), 0600);
}

ControlSocket::~ControlSocket() {
    for (auto& c : connections_) close(c.fd);
    close(listen_fd_);
    unlink(path_.c_str());
}

void ControlSocket::add_poll_fds(std::vector<pollfd>& fds) const {
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& c : connections_) fds.push_back({c.fd, short(c.answered ? POLLOUT : POLLIN), 0});
}

void ControlSocket::serve(const std::vector<pollfd>& fds, const Answer& answer, Instant now) {
    for (const auto& p : fds) {
        if (p.revents == 0) continue;
        if (p.fd == listen_fd_) continue;
        for (auto& c : connections_) {
            if (c.fd != p.fd) continue;
            if (!c.answered && (p.revents & (POLLIN | POLLHUP | POLLERR))) read_request(c, answer);
            if (c.answered) write_answer(c);
        }
    }
    std::erase_if(connections_, [&](Connection& c) {
        bool done = c.fd < 0 || now >= c.deadline;
        if (done && c.fd >= 0) close(c.fd);
        return done;
    });
    for (const auto& p : fds)
        if (p.fd == listen_fd_ && (p.revents & POLLIN)) accept_new(now);
}

void ControlSocket::accept_new(Instant now) {
    for (int fd; (fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
        if (connections_.size() >= max_connections) {
            std::string busy = error_answer("busy: too many control connections");
            (void)!send(fd, busy.data(), busy.size(), MSG_NOSIGNAL);
            close(fd);
            continue;
        }
        connections_.push_back({fd, {}, {}, false, now + client_deadline});
    }
}

void ControlSocket::read_request(Connection& c, const Answer& answer) {
    char buffer[1024];
    for (;;) {
        ssize_t n = read(c.fd, buffer, sizeof buffer);
        if (n > 0) {
            c.in.append(buffer, std::size_t(n));
            if (c.in.size() > max_request_bytes) break;
            if (c.in.find('\n') != std::string::npos) break;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // more to come
        if (c.in.empty()) {  // closed without a word
            close(c.fd);
            c.fd = -1;
            return;
        }
        break;  // EOF ends the line too
    }
    c.answered = true;
    std::size_t end = c.in.find('\n');
    if (c.in.size() > max_request_bytes && (end == std::string::npos || end > max_request_bytes)) {
        c.out = error_answer("request longer than " + std::to_string(max_request_bytes) + " bytes");
        return;
    }
    ControlRequest request = parse_control_request(std::string_view(c.in).substr(0, end));
    c.out = request.error.empty() ? answer(request.words) + "\n" : error_answer(request.error);
}

void ControlSocket::write_answer(Connection& c) {
    while (!c.out.empty()) {
        ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // the deadline bounds the wait
        if (n <= 0) break;
        c.out.erase(0, std::size_t(n));
    }
    close(c.fd);
    c.fd = -1;
}

}  // namespace gw

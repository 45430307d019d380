// gatewayctl's way in: a UNIX stream socket served from the daemon's poll loop.
// Protocol: one request line per connection (at most max_request_bytes, "\n"-ended):
// either a JSON array of words (["flows","--proto","tcp"], what gatewayctl sends) or
// plain words separated by spaces; one JSON object back, then the daemon closes.
// The answer is {"ok":true,...} or {"ok":false,"error":"...","errors":[...]}.
//
// Never blocks: sockets are non-blocking, a connection that has not sent its line
// within client_deadline is dropped, and at most max_connections are served at once.
// The socket file is created mode 0600 (root only: it can open ports and reload), a
// stale one from a crashed daemon is replaced, and it is removed on exit.
// Owned and used by the packet worker thread only.
#pragma once

#include <poll.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nat/mapping.hpp"

namespace gw {

inline constexpr std::size_t max_request_bytes = 4096;

// The words of one request line, or why it cannot be read.
struct ControlRequest {
    std::vector<std::string> words;
    std::string error;  // empty = words are valid
};
ControlRequest parse_control_request(std::string_view line);

class ControlSocket {
public:
    using Answer = std::function<std::string(const std::vector<std::string>& words)>;

    // Throws StartupError when the socket cannot be made.
    explicit ControlSocket(std::string path);
    ~ControlSocket();
    ControlSocket(const ControlSocket&) = delete;
    ControlSocket& operator=(const ControlSocket&) = delete;

    // Appends the listening socket and every connection to `fds`.
    void add_poll_fds(std::vector<pollfd>& fds) const;
    // Accepts, reads, answers and writes what `fds` (from add_poll_fds, polled) says is
    // ready; drops connections past their deadline.
    void serve(const std::vector<pollfd>& fds, const Answer& answer, Instant now);
    const std::string& path() const { return path_; }

private:
    struct Connection {
        int fd = -1;
        std::string in, out;
        bool answered = false;
        Instant deadline{0};
    };
    void accept_new(Instant now);
    void read_request(Connection& c, const Answer& answer);
    void write_answer(Connection& c);

    std::string path_;
    int listen_fd_ = -1;
    std::vector<Connection> connections_;
};

}  // namespace gw

#include "base/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace gw::log {
namespace {

Level minimum_level = Level::info;
// Where the lines go: stderr, or the duplicate of it taken when fd 2 became the pipe
// that catches pupnp's own output (stderr_capture.hpp).
std::atomic<int> output_fd{STDERR_FILENO};

std::string_view prefix_of(Level level) {
    switch (level) {
        case Level::debug: return "gatewayd: debug: ";
        case Level::info: return "gatewayd: ";
        case Level::warning: return "gatewayd: warning: ";
        case Level::error: return "gatewayd: error: ";
    }
    return "gatewayd: ";
}

}  // namespace

void set_minimum_level(Level level) { minimum_level = level; }

void set_output_fd(int fd) { output_fd.store(fd); }

// Under systemd, stderr goes to the journal (JOURNAL_STREAM is set): a "<N>" syslog
// priority in front of each line gives journald the level (SyslogLevelPrefix=yes).
namespace {

std::string_view journal_priority(Level level) {
    static const bool to_journal = std::getenv("JOURNAL_STREAM") != nullptr;
    if (!to_journal) return {};
    switch (level) {
        case Level::debug: return "<7>";
        case Level::info: return "<6>";
        case Level::warning: return "<4>";
        case Level::error: return "<3>";
    }
    return "<6>";
}

}  // namespace

void write(Level level, std::string_view message) {
    if (level < minimum_level) return;
    // One write per line so that lines from concurrent writers never interleave.
    std::string line(journal_priority(level));
    line.append(prefix_of(level));
    line.append(message);
    line.push_back('\n');
    int fd = output_fd.load(std::memory_order_relaxed);
    for (std::size_t sent = 0; sent < line.size();) {
        ssize_t n = ::write(fd, line.data() + sent, line.size() - sent);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        sent += std::size_t(n);
    }
}

}  // namespace gw::log

#include "base/log.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
// Without it every entry would carry CODE_FILE=base/log.cpp: true, and useless.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
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
// Whether output_fd is the journal's stream: entries then go by the native protocol.
std::atomic<bool> to_journal{false};

std::string_view prefix_of(Level level) {
    switch (level) {
        case Level::debug: return "gatewayd: debug: ";
        case Level::info: return "gatewayd: ";
        case Level::warning: return "gatewayd: warning: ";
        case Level::error: return "gatewayd: error: ";
    }
    return "gatewayd: ";
}

// syslog(3) priorities, as journald and the "<N>" prefix both take them.
int priority_of(Level level) {
    switch (level) {
        case Level::debug: return 7;
        case Level::info: return 6;
        case Level::warning: return 4;
        case Level::error: return 3;
    }
    return 6;
}

// journald's rule for field names: A-Z, 0-9 and '_', not starting with '_' (those are
// trusted fields journald sets itself), at most 64 characters.
bool valid_field_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '_' || (name.front() >= '0' && name.front() <= '9'))
        return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

// The "<N>" prefix journald reads on a stream it takes lines from (SyslogLevelPrefix=yes):
// the fallback when the native protocol fails.
void write_line(int fd, Level level, std::string_view message, bool with_priority) {
    // One write per line so that lines from concurrent writers never interleave.
    std::string line;
    if (with_priority) line = "<" + std::to_string(priority_of(level)) + ">";
    line.append(prefix_of(level));
    line.append(message);
    line.push_back('\n');
    for (std::size_t sent = 0; sent < line.size();) {
        ssize_t n = ::write(fd, line.data() + sent, line.size() - sent);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        sent += std::size_t(n);
    }
}

bool send_to_journal(Level level, std::string_view message, std::span<const Field> fields) {
    std::vector<std::string> entry = journal_entry(level, message, fields);
    std::vector<iovec> parts;
    parts.reserve(entry.size());
    for (auto& part : entry) parts.push_back({part.data(), part.size()});
    return sd_journal_sendv(parts.data(), int(parts.size())) == 0;
}

}  // namespace

void set_minimum_level(Level level) { minimum_level = level; }

void set_output_fd(int fd) {
    output_fd.store(fd);
    to_journal.store(is_journal_stream(fd));
}

bool is_journal_stream(int fd) {
    const char* named = std::getenv("JOURNAL_STREAM");
    struct stat status {};
    if (!named || fstat(fd, &status) != 0) return false;
    unsigned long long device = 0, inode = 0;
    if (std::sscanf(named, "%llu:%llu", &device, &inode) != 2) return false;
    return device == static_cast<unsigned long long>(status.st_dev) &&
           inode == static_cast<unsigned long long>(status.st_ino);
}

std::vector<std::string> journal_entry(Level level, std::string_view message, std::span<const Field> fields) {
    std::vector<std::string> entry;
    entry.reserve(3 + fields.size());
    entry.push_back("PRIORITY=" + std::to_string(priority_of(level)));
    entry.push_back("SYSLOG_IDENTIFIER=gatewayd");
    entry.push_back("MESSAGE=" + std::string(message));
    for (const Field& field : fields)
        if (valid_field_name(field.name)) entry.push_back(std::string(field.name) + "=" + field.value);
    return entry;
}

void write(Level level, std::string_view message, std::span<const Field> fields) {
    if (level < minimum_level) return;
    // Judged once for stderr, on the first line, since nothing calls set_output_fd first.
    static const bool stderr_is_journal = [] {
        if (output_fd.load() == STDERR_FILENO) to_journal.store(is_journal_stream(STDERR_FILENO));
        return true;
    }();
    (void)stderr_is_journal;
    if (to_journal.load(std::memory_order_relaxed) && send_to_journal(level, message, fields)) return;
    write_line(output_fd.load(std::memory_order_relaxed), level, message,
               std::getenv("JOURNAL_STREAM") != nullptr);
}

}  // namespace gw::log

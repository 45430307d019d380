#include "log.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace gw::log {
namespace {

Level minimum_level = Level::info;

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
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace gw::log

#include "log.hpp"

#include <cstdio>
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

void write(Level level, std::string_view message) {
    if (level < minimum_level) return;
    // One write per line so that lines from concurrent writers never interleave.
    std::string line(prefix_of(level));
    line.append(message);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace gw::log

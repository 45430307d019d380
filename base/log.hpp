// Leveled log lines on stderr ("gatewayd: warning: ..."), which journald keeps.
#pragma once

#include <string_view>

namespace gw::log {

enum class Level { debug, info, warning, error };

void set_minimum_level(Level level);
// The file descriptor lines are written to (stderr until told otherwise).
void set_output_fd(int fd);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void error(std::string_view m) { write(Level::error, m); }

}  // namespace gw::log

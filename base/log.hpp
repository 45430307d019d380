// Leveled log lines. On a terminal or in a file: one line on stderr each
// ("gatewayd: warning: ..."). Under systemd, whose journal stderr then is (JOURNAL_STREAM
// names that very stream): one journal entry each, through libsystemd's native protocol,
// with the level as PRIORITY=, the line without the redundant "gatewayd:" prefix as
// MESSAGE=, and the caller's fields (RULE=, REASON=, SRC=...) as fields of their own, so
// `journalctl -u gatewayd RULE=no-smtp-out` finds them.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::log {

enum class Level { debug, info, warning, error };

// A journal field of a line: `name` in the journal's form (upper case, digits, '_'),
// `value` any text. On stderr the message alone is written, so it must say it all too.
struct Field {
    std::string_view name;
    std::string value;
};

void set_minimum_level(Level level);
// The file descriptor lines are written to (stderr until told otherwise). Whether it is
// the journal's stream is judged again for the new one.
void set_output_fd(int fd);
void write(Level level, std::string_view message, std::span<const Field> fields = {});

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void error(std::string_view m) { write(Level::error, m); }

// The journal entry write() sends for a line ("PRIORITY=4", "SYSLOG_IDENTIFIER=gatewayd",
// "MESSAGE=...", then the fields), exposed for tests. A field whose name is not a valid
// journal field name is left out rather than sent to be refused with the whole entry.
std::vector<std::string> journal_entry(Level level, std::string_view message, std::span<const Field> fields);

// Whether `fd` is the stream JOURNAL_STREAM ("device:inode") names: systemd sets it for
// the service's stderr when that goes to the journal.
bool is_journal_stream(int fd);

}  // namespace gw::log

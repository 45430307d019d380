#include "base/line_journal.hpp"

namespace gw {

LineJournalRead read_line_journal(std::string_view text, const LineJournalFormat& format, std::string_view source,
                                  const std::function<Expected<void>(std::string_view line)>& read_line) {
    LineJournalRead read;
    auto report = [&](const std::string& message) {
        read.errors.push_back(std::string(source) + ':' + std::to_string(read.lines) + ": " + message);
    };
    bool header_seen = false;
    while (!text.empty()) {
        auto newline = text.find('\n');
        bool torn = newline == std::string_view::npos;
        auto line = text.substr(0, newline);
        text.remove_prefix(torn ? text.size() : newline + 1);
        ++read.lines;
        if (line.ends_with('\r')) line.remove_suffix(1);
        auto first = line.find_first_not_of(' ');
        if (first == std::string_view::npos || line[first] == '#') continue;

        if (!header_seen) {
            if (line == format.header) {
                header_seen = true;
                continue;
            }
            // "gatewayd-leases 2": the same format, another version.
            auto name = format.header.substr(0, format.header.rfind(' ') + 1);
            if (!name.empty() && line.starts_with(name))
                report("unsupported " + std::string(format.kind) + " version " + in_quotes(line.substr(name.size())));
            else
                report("not a " + std::string(format.kind) + ": expected " + in_quotes(format.header) + " first");
            return read;
        }
        if (auto done = read_line(line); !done)
            report(torn ? "torn line at end of file (no newline): " + done.error().message : done.error().message);
    }
    return read;
}

}  // namespace gw

// The state files gatewayd keeps across a restart (the lease file, the pinhole file, the
// control state) are line journals: a header naming the format and its version
// ("gatewayd-leases 1"), then one line a record or a change, read in order, a later line
// about a key overriding an earlier one. Blank lines and lines starting with '#' are
// ignored, a "\r\n" ending reads as "\n".
//
// read_line_journal() is the one reader of that frame; each format reads its own lines.
// The file is untrusted input: a bad line is reported as "<source>:<line>: <what is
// wrong>" and every other line is still read. A last line without its newline is a
// write cut short (kill -9 in the middle of an append): its error says it was torn.
#pragma once

#include <charconv>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"

namespace gw {

struct LineJournalFormat {
    std::string_view header;  // the whole first line: "gatewayd-leases 1"
    std::string_view kind;    // for the refusal of another file: "lease file"
};

struct LineJournalRead {
    std::vector<std::string> errors;  // "<source>:<line>: <what is wrong>", in line order
    std::size_t lines = 0;            // lines read, header, blank lines and comments included
};

// Calls read_line for every line after the header, in order. A text whose first line is
// not the header yields one error ("unsupported lease file version '2'", "not a lease
// file: expected 'gatewayd-leases 1' first") and no call.
LineJournalRead read_line_journal(std::string_view text, const LineJournalFormat& format, std::string_view source,
                                  const std::function<Expected<void>(std::string_view line)>& read_line);

// An unsigned decimal number that is the whole of `text` ("+1", "-1", " 1", "1x" are not).
template <class Number>
std::optional<Number> whole_number(std::string_view text) {
    Number value{};
    if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// 'text', as the state files' errors quote what they read.
inline std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace gw

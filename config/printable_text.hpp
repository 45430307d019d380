// Text from a config file made safe to print: a message that quotes the file (a key, a
// value, a line) must not carry a raw NUL, an escape sequence or a byte that is not
// UTF-8 to the operator's terminal or log. Internal to config/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gw {

// One code point of `text` at `i`, advancing `i`; nullopt for bytes that are not UTF-8
// (overlong forms and surrogates included), leaving `i` where it was.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i);

// `text` with C0 and C1 controls, DEL, the Unicode direction overrides and isolates
// (which reorder what a terminal shows: CVE-2021-42574) and every byte that is not
// UTF-8 written as escapes: \x1b for a byte or a C1 control's bytes, \u202e for a
// direction control. Printable text, UTF-8 included, is left as it is.
std::string printable_text(std::string_view text);

}  // namespace gw

#include "config/printable_text.hpp"

#include <cstdio>

namespace gw {
namespace {

void append_byte_escape(std::string& out, unsigned char byte) {
    char escape[5];
    std::snprintf(escape, sizeof escape, "\\x%02x", unsigned(byte));
    out += escape;
}

// U+202A..U+202E (embeddings and overrides) and U+2066..U+2069 (isolates).
bool direction_control(char32_t code_point) {
    return (code_point >= 0x202a && code_point <= 0x202e) || (code_point >= 0x2066 && code_point <= 0x2069);
}

}  // namespace

std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80           ? 1
                         : (lead >> 5) == 0x6  ? 2
                         : (lead >> 4) == 0xe  ? 3
                         : (lead >> 3) == 0x1e ? 4
                                               : 0;
    if (length == 0 || i + length > text.size()) return std::nullopt;
    char32_t code_point = length == 1 ? lead : lead & (0x7f >> length);
    for (std::size_t k = 1; k < length; ++k) {
        unsigned char next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xc0) != 0x80) return std::nullopt;
        code_point = (code_point << 6) | (next & 0x3f);
    }
    constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < smallest[length] || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) {
        return std::nullopt;
    }
    i += length;
    return code_point;
}

std::string printable_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        std::size_t start = i;
        std::optional<char32_t> code_point = next_code_point(text, i);
        if (!code_point) {
            append_byte_escape(out, static_cast<unsigned char>(text[i++]));
            continue;
        }
        if (*code_point < 0x20 || (*code_point >= 0x7f && *code_point <= 0x9f)) {
            for (std::size_t k = start; k < i; ++k) append_byte_escape(out, static_cast<unsigned char>(text[k]));
        } else if (direction_control(*code_point)) {
            char escape[7];
            std::snprintf(escape, sizeof escape, "\\u%04x", unsigned(*code_point));
            out += escape;
        } else {
            out.append(text.substr(start, i - start));
        }
    }
    return out;
}

}  // namespace gw

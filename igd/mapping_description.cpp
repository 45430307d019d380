// normalized_description (mapping_policy.hpp): what of a client's description may be
// shown to an operator.
#include "igd/mapping_policy.hpp"

namespace gw {
namespace {

// Invisible or reordering characters: a description must read as what it is.
bool is_format_character(char32_t c) {
    return (c >= 0x80 && c <= 0x9f)          // C1 controls (NEL, CSI...)
           || c == 0x061c                     // ARABIC LETTER MARK
           || (c >= 0x200b && c <= 0x200f)    // zero-width space/joiners, LRM, RLM
           || (c >= 0x2028 && c <= 0x202e)    // line/paragraph separators, bidi embeddings and overrides
           || (c >= 0x2060 && c <= 0x2069)    // word joiner, invisible operators, bidi isolates
           || c == 0xfeff;                    // zero-width no-break space (BOM)
}

// The code point of the UTF-8 sequence at text[i] and its length; length 0 when the
// sequence is invalid (overlong, surrogate, beyond U+10FFFF, cut short).
std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& code_point) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > text.size()) return 0;
    char32_t c = length == 1 ? lead : lead & (0x7f >> length);
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        c = (c << 6) | (byte(i + k) & 0x3f);
    }
    static constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < smallest[length] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    code_point = c;
    return length;
}

}  // namespace

std::string normalized_description(std::string_view text) {
    if (text.size() > max_description_bytes) {
        // Back up over UTF-8 continuation bytes so no character is cut in half.
        std::size_t cut = max_description_bytes;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
        text = text.substr(0, cut);
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        char32_t c = 0;
        std::size_t length = decode_utf8(text, i, c);
        if (length == 0) {
            out += '?';
            ++i;
            continue;
        }
        if (c < 0x20 || c == 0x7f || is_format_character(c)) out += '?';
        else out.append(text.substr(i, length));
        i += length;
    }
    return out;
}

}  // namespace gw

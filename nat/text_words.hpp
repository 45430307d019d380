// The words of a line of text, split at runs of spaces: the config's compound values
// ("10/s burst 20") and the lines of the state files (leases, pinholes, control state).
// Lives here, the lowest library every other links, so that one splitter serves them all.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

namespace gw {

inline std::vector<std::string_view> words_of(std::string_view text) {
    std::vector<std::string_view> words;
    while (!text.empty()) {
        auto start = text.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        text.remove_prefix(start);
        auto end = std::min(text.find(' '), text.size());
        words.push_back(text.substr(0, end));
        text.remove_prefix(end);
    }
    return words;
}

}  // namespace gw

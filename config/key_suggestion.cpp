#include "config/key_suggestion.hpp"

#include <algorithm>
#include <vector>

#include "config/config_schema.hpp"

namespace gw {
namespace {

// Every key and every section a file may name, e.g. "nat", "nat.timeouts",
// "nat.timeouts.udp", "firewall.rules[].name"; not the item placeholders "firewall.rules[]".
std::vector<std::string> known_paths() {
    std::vector<std::string> paths;
    for (const SchemaKey& key : config_schema()) {
        for (std::size_t dot = 0; dot != std::string::npos;) {
            dot = key.path.find('.', dot + 1);
            std::string prefix = key.path.substr(0, dot);
            if (prefix.ends_with("[]")) continue;
            if (std::find(paths.begin(), paths.end(), prefix) == paths.end()) paths.push_back(prefix);
        }
    }
    return paths;
}

// Levenshtein distance: how many single-character edits turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

}  // namespace

std::string_view parent_of(std::string_view path) {
    auto dot = path.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

std::string_view leaf_of(std::string_view path) {
    auto dot = path.rfind('.');
    return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

std::optional<std::string> suggest_known_path(std::string_view unknown) {
    std::string schema_path = schema_path_of(unknown);
    std::string_view leaf = leaf_of(schema_path);
    std::size_t best_distance = std::max<std::size_t>(1, leaf.size() / 3) + 1;
    std::optional<std::string> best;
    std::vector<std::string> paths = known_paths();
    for (const std::string& path : paths) {
        if (parent_of(path) != parent_of(schema_path)) continue;
        std::size_t distance = edit_distance(leaf, leaf_of(path));
        if (distance < best_distance) {
            best_distance = distance;
            best = std::string(parent_of(unknown)) + (parent_of(unknown).empty() ? "" : ".") + std::string(leaf_of(path));
        }
    }
    if (best) return best;
    for (const std::string& path : paths) {
        if (leaf_of(path) == leaf) return path;
    }
    return std::nullopt;
}

}  // namespace gw

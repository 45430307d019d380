// Walks a YAML document against the schema in config_schema.cpp, collecting every
// problem with its position instead of stopping at the first one.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <tuple>

#include "config/config_schema.hpp"
#include "config/gateway_config.hpp"

namespace gw {
namespace {

// yaml-cpp marks are 0-based and -1 when unknown; ours are 1-based like a compiler's.
ConfigError error_at(const std::string& file, const YAML::Mark& mark, std::string message) {
    return {file, std::max(mark.line, 0) + 1, std::max(mark.column, 0) + 1, std::move(message)};
}

const YAML::Mark top_of_file{};  // 0:0, reported as 1:1

ConfigLoadResult failure(ConfigError error) {
    return {std::nullopt, {std::move(error)}};
}

std::string_view node_kind(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: return "a map";
        case YAML::NodeType::Sequence: return "a sequence";
        case YAML::NodeType::Scalar: return "a single value";
        default: return "nothing";
    }
}

std::string join_path(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + '.' + std::string(key);
}

std::string_view parent_of(std::string_view path) {
    auto dot = path.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

std::string_view leaf_of(std::string_view path) {
    auto dot = path.rfind('.');
    return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// Every key and every section, e.g. "nat", "nat.timeouts", "nat.timeouts.udp".
std::vector<std::string> known_paths() {
    std::vector<std::string> paths;
    for (const SchemaKey& key : config_schema()) {
        for (std::size_t dot = 0; dot != std::string::npos;) {
            dot = key.path.find('.', dot + 1);
            std::string prefix = key.path.substr(0, dot);
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

// The known path an unknown one was probably meant to be: a sibling a typo away
// ("nat.portrange"), or the same name in another section ("timeouts" for "nat.timeouts").
std::optional<std::string> suggest_known_path(std::string_view unknown) {
    std::string_view leaf = leaf_of(unknown);
    std::size_t best_distance = std::max<std::size_t>(1, leaf.size() / 3) + 1;
    std::optional<std::string> best;
    std::vector<std::string> paths = known_paths();
    for (const std::string& path : paths) {
        if (parent_of(path) != parent_of(unknown)) continue;
        std::size_t distance = edit_distance(leaf, leaf_of(path));
        if (distance < best_distance) {
            best_distance = distance;
            best = path;
        }
    }
    if (best) return best;
    for (const std::string& path : paths) {
        if (leaf_of(path) == leaf) return path;
    }
    return std::nullopt;
}

std::string unknown_key_message(const std::string& path) {
    std::string message = "unknown key '" + path + "'";
    if (auto suggestion = suggest_known_path(path)) message += " (did you mean '" + *suggestion + "'?)";
    return message;
}

// Reads one document into a GatewayConfig; owns the errors until finish().
class ConfigReader {
public:
    explicit ConfigReader(std::string file) : file_(std::move(file)) {}

    void read_document(const YAML::Node& root) {
        if (root.IsNull()) return report(top_of_file, "the configuration is empty; expected a map of settings");
        if (!root.IsMap()) {
            return report(root.Mark(), "expected a map of settings at the top level, got " + std::string(node_kind(root)));
        }
        read_map(root, "");
        report_missing_keys();
        report_cross_key_errors();
    }

    void report(const YAML::Mark& mark, std::string message) {
        errors_.push_back(error_at(file_, mark, std::move(message)));
    }

    ConfigLoadResult finish() && {
        std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        if (!errors_.empty()) return {std::nullopt, std::move(errors_)};
        return {std::move(config_), {}};
    }

private:
    void read_map(const YAML::Node& map, const std::string& prefix) {
        std::map<std::string, YAML::Mark> seen;  // yaml-cpp keeps duplicate keys; we refuse them
        // By value: yaml-cpp's iterator yields a temporary pair, so a reference to
        // `it->first` dangles (AddressSanitizer: stack-use-after-scope). Nodes are handles.
        for (const auto& entry : map) {
            YAML::Node key = entry.first;
            if (!key.IsScalar()) {
                report(key.Mark(), "expected a key name, got " + std::string(node_kind(key)));
                continue;
            }
            // "nat.port_range: ..." written flat would dodge the duplicate check against "nat: {port_range}".
            if (key.Scalar().find('.') != std::string::npos) {
                report(key.Mark(), "'" + key.Scalar() + "': write dotted keys as nested maps");
                continue;
            }
            std::string path = join_path(prefix, key.Scalar());
            auto [first, inserted] = seen.emplace(path, key.Mark());
            if (!inserted) {
                report(key.Mark(), "duplicate key '" + path + "' (first set at line " +
                                       std::to_string(first->second.line + 1) + ")");
                continue;
            }
            read_entry(key, entry.second, path);
        }
    }

    void read_entry(const YAML::Node& key, const YAML::Node& value, const std::string& path) {
        if (const SchemaKey* schema_key = find_schema_key(path)) return read_value(*schema_key, key, value);
        if (is_schema_section(path)) return read_section(key, value, path);
        report(key.Mark(), unknown_key_message(path));
    }

    // An empty section ("nat:" with every setting commented out) means "all defaults".
    void read_section(const YAML::Node& key, const YAML::Node& value, const std::string& path) {
        bool readable = value.IsNull() || value.IsMap();
        sections_[path] = {key.Mark(), readable};
        if (!readable) {
            return report(value.Mark(), path + ": expected a map of settings, got " + std::string(node_kind(value)));
        }
        if (value.IsMap()) read_map(value, path);
    }

    void read_value(const SchemaKey& schema_key, const YAML::Node& key, const YAML::Node& value) {
        // yaml-cpp marks an empty value at the next token, so point at its key instead.
        YAML::Mark mark = value.IsNull() ? key.Mark() : value.Mark();
        value_marks_[schema_key.path] = mark;
        if (!value.IsScalar()) {
            return report(mark, schema_key.path + ": expected " + std::string(value_type_article(schema_key.type)) +
                                    ", got " + std::string(node_kind(value)));
        }
        if (auto error = schema_key.apply(value, config_)) report(mark, schema_key.path + ": " + *error);
    }

    // Positioned at the closest section that is present, else at the top of the file.
    // Not reported under a section already refused as the wrong type: that error says it.
    void report_missing_keys() {
        for (const SchemaKey& key : config_schema()) {
            if (!key.required || value_marks_.contains(key.path)) continue;
            SeenSection closest{top_of_file, true};
            for (std::string_view section = parent_of(key.path); !section.empty(); section = parent_of(section)) {
                if (auto it = sections_.find(std::string(section)); it != sections_.end()) {
                    closest = it->second;
                    break;
                }
            }
            if (closest.readable) report(closest.mark, "missing required key '" + key.path + "'");
        }
    }

    void report_cross_key_errors() {
        for (const CrossKeyError& error : check_cross_key_rules(config_)) {
            auto it = value_marks_.find(error.path);
            report(it == value_marks_.end() ? top_of_file : it->second, error.path + ": " + error.message);
        }
    }

    std::string file_;
    GatewayConfig config_;
    std::vector<ConfigError> errors_;
    struct SeenSection {
        YAML::Mark mark;  // of the section's key
        bool readable;    // a map or empty, not a scalar or sequence
    };
    std::map<std::string, SeenSection> sections_;      // every section present in the file
    std::map<std::string, YAML::Mark> value_marks_;    // where each present key's value is
};

}  // namespace

std::string ConfigError::to_string() const {
    if (line <= 0) return file + ": " + message;  // about the whole file, e.g. it cannot be read
    return file + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " + message;
}

ConfigLoadResult load_config_text(std::string_view yaml_text, const std::string& source_name) {
    try {
        std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml_text));
        ConfigReader reader(source_name);
        if (documents.empty()) {
            reader.read_document(YAML::Node());
        } else {
            reader.read_document(documents[0]);
        }
        // A second document would be silently ignored by a plain YAML::Load.
        if (documents.size() > 1) reader.report(documents[1].Mark(), "only one YAML document is allowed; this is the second");
        return std::move(reader).finish();
    } catch (const YAML::Exception& e) {  // syntax errors; yaml-cpp 0.7 calls its nesting-depth limit "bad file"
        return failure(error_at(source_name, e.mark, "invalid YAML: " + e.msg));
    } catch (const std::exception& e) {
        return failure({source_name, 0, 0, std::string("cannot load: ") + e.what()});
    }
}

ConfigLoadResult load_config_file(const std::string& path) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
    auto cannot_read = [&] { return failure({path, 0, 0, "cannot read: " + std::generic_category().message(errno)}); };
    if (!file) return cannot_read();
    std::string text;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get())) text.append(buffer, n);
    // fopen succeeds on a directory; the read is what fails, with EISDIR.
    if (std::ferror(file.get())) return cannot_read();
    return load_config_text(text, path);
}

}  // namespace gw

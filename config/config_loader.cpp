// Walks a YAML document against the schema in config_schema.cpp, collecting every
// problem with its position instead of stopping at the first one.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "config/config_schema.hpp"
#include "config/config_warnings.hpp"
#include "config/first_errors.hpp"
#include "config/gateway_config.hpp"
#include "config/key_suggestion.hpp"
#include "config/printable_text.hpp"
#include "config/value_parsers.hpp"
#include "config/yaml_scan.hpp"

namespace gw {
namespace {

// yaml-cpp marks are 0-based and -1 when unknown; ours are 1-based like a compiler's.
ConfigError error_at(const std::string& file, const YAML::Mark& mark, std::string message) {
    return {file, std::max(mark.line, 0) + 1, std::max(mark.column, 0) + 1, std::move(message), false};
}

const YAML::Mark top_of_file{};  // 0:0, reported as 1:1

ConfigLoadResult failure(ConfigError error) {
    error.message = printable_text(error.message);
    return {std::nullopt, {std::move(error)}, 0, {}};
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

std::string unknown_key_message(const std::string& path) {
    std::string message = "unknown key " + quoted(path);
    if (auto suggestion = suggest_known_path(path)) message += " (did you mean '" + *suggestion + "'?)";
    return message;
}

// Reads one document into a GatewayConfig; owns the errors until finish(). Paths are
// concrete ("firewall.rules[0].name"); the schema is consulted with schema_path_of().
class ConfigReader {
public:
    ConfigReader(std::string file, const YamlScan& scan) : file_(std::move(file)), scan_(scan) {}

    void read_document(const YAML::Node& root) {
        if (root.IsNull()) return report(top_of_file, "the configuration is empty; expected a map of settings");
        if (!root.IsMap()) {
            return report(root.Mark(), "expected a map of settings at the top level, got " + std::string(node_kind(root)));
        }
        read_map(root, "");
        if (values_read_ > max_values_read) return;
        report_missing_keys();
        complete_dependent_defaults(config_);
        report_cross_key_errors();
    }

    void report(const YAML::Mark& mark, const std::string& message) {
        report_with(mark, [&] { return message; });
    }

    // `message()` is called only for an error that is kept, not for one only counted:
    // a "did you mean" for each of 100 000 unknown keys is most of the work otherwise.
    template <class Message>
    void report_with(const YAML::Mark& mark, Message message) {
        if (alias_scope_) {
            if (alias_scope_->problems++ == 0) alias_scope_->first = message();
            return;
        }
        ConfigError error = error_at(file_, mark, std::string());
        if (errors_.keeps(error)) error.message = message();
        errors_.add(std::move(error));
    }

    ConfigLoadResult finish() && {
        if (!errors_.empty()) {
            std::size_t more = errors_.more();
            return {std::nullopt, std::move(errors_).take(), more, {}};
        }
        ConfigLoadResult result{std::move(config_), {}, 0, {}};
        for (const CrossKeyError& warning : check_config_warnings(*result.config)) {
            ConfigError line =
                error_at(file_, cross_key_mark(warning), printable_text(warning.path + ": " + warning.message));
            line.warning = true;
            result.warnings.push_back(std::move(line));
        }
        return result;
    }

private:
    // An error about the value at `path`; the cross-key rules then leave that value alone.
    void refuse(const std::string& path, const YAML::Mark& mark, const std::string& message) {
        failed_.insert(path);
        report(mark, path + ": " + message);
    }

    // A value given by an alias ("- *office") is read as if written out, but its problems
    // make one error at the alias, where the operator wrote it: the node's own marks are
    // those of its anchor, and a node used twice would repeat each of its errors.
    template <class Read>
    void read_value_at(const std::string& path, Read read) {
        auto use = scan_.alias_uses.find(path);
        if (use == scan_.alias_uses.end() || alias_scope_) return read();
        alias_scope_ = AliasScope{&use->second, 0, {}};
        read();
        AliasScope scope = std::move(*alias_scope_);
        alias_scope_.reset();
        if (scope.problems == 0) return;
        std::string more = scope.problems == 1 ? "" : " (and " + std::to_string(scope.problems - 1) + " more in it)";
        failed_.insert(path);
        report(use->second.mark, "the alias *" + use->second.name + " (anchored on line " +
                                     std::to_string(use->second.anchor.line + 1) + "): " + scope.first + more);
    }

    // A value takes two bytes at least ("1,"), so a file within max_config_file_bytes
    // holds at most this many written out; more can only come from aliases that repeat
    // a node ("billion laughs": 68 kB that read 20 million keys kept the checker busy for
    // minutes). Past it nothing more is read, nor checked across keys, and the file is
    // refused with one error, at its first alias (among the first errors reported).
    bool count_value() {
        if (++values_read_ <= max_values_read) return true;
        if (values_read_ == max_values_read + 1) {
            YAML::Mark first = top_of_file;
            for (bool any = false; const auto& [path, use] : scan_.alias_uses) {
                if (!any || std::tie(use.mark.line, use.mark.column) < std::tie(first.line, first.column)) first = use.mark;
                any = true;
            }
            errors_.add(error_at(file_, first,
                                 "the aliases make this file more than " + std::to_string(max_values_read) +
                                     " values long; write it without aliases of aliases"));
        }
        return false;
    }
    static constexpr std::size_t max_values_read = max_config_file_bytes / 2;

    // Where an error about `node` points: inside an alias, at the alias.
    YAML::Mark mark_of(const YAML::Node& node) const { return alias_scope_ ? alias_scope_->use->mark : node.Mark(); }

    void read_map(const YAML::Node& map, const std::string& prefix) {
        std::map<std::string, YAML::Mark> seen;  // yaml-cpp keeps duplicate keys; we refuse them
        // By value: yaml-cpp's iterator yields a temporary pair, so a reference to
        // `it->first` dangles (AddressSanitizer: stack-use-after-scope). Nodes are handles.
        for (const auto& entry : map) {
            if (!count_value()) return;
            YAML::Node key = entry.first;
            if (!key.IsScalar()) {
                report(key.Mark(), "expected a key name, got " + std::string(node_kind(key)));
                continue;
            }
            // yaml-cpp 0.7 reads "<<" as a key like any other: it does not merge. The map's
            // missing keys are then this error's doing, and not reported.
            if (key.Scalar() == "<<") {
                failed_.insert(prefix);
                report(key.Mark(), join_path(prefix, "<<") +
                                       ": YAML merge keys are not supported; write the keys out, or alias the "
                                       "whole item (- *name)");
                continue;
            }
            // "nat.port_range: ..." written flat would dodge the duplicate check against "nat: {port_range}".
            if (key.Scalar().find('.') != std::string::npos) {
                report(key.Mark(), quoted(key.Scalar()) + ": write dotted keys as nested maps");
                continue;
            }
            std::string path = join_path(prefix, key.Scalar());
            auto [first, inserted] = seen.emplace(path, key.Mark());
            if (!inserted) {
                report(key.Mark(), "duplicate key " + quoted(path) + " (first set at line " +
                                       std::to_string(first->second.line + 1) + ")");
                continue;
            }
            read_value_at(path, [&] { read_entry(key, entry.second, path); });
        }
    }

    void read_entry(const YAML::Node& key, const YAML::Node& value, const std::string& path) {
        std::string schema_path = schema_path_of(path);
        if (const SchemaKey* schema_key = find_schema_key(schema_path)) return read_value(*schema_key, key, value, path);
        if (is_schema_section(schema_path)) return read_section(key, value, path);
        report_with(key.Mark(), [&] { return unknown_key_message(path); });
    }

    // An empty section ("nat:" with every setting commented out) means "all defaults".
    void read_section(const YAML::Node& key, const YAML::Node& value, const std::string& path) {
        bool readable = value.IsNull() || value.IsMap();
        sections_[path] = {mark_of(key), readable};
        if (!readable) return refuse(path, value.Mark(), "expected a map of settings, got " + std::string(node_kind(value)));
        if (value.IsMap()) read_map(value, path);
    }

    void read_value(const SchemaKey& schema_key, const YAML::Node& key, const YAML::Node& value, const std::string& path) {
        // yaml-cpp marks an empty value at the next token, so point at its key instead.
        YAML::Mark mark = value.IsNull() ? key.Mark() : value.Mark();
        value_marks_[path] = alias_scope_ ? alias_scope_->use->mark : mark;
        switch (value_shape(schema_key.type)) {
            case Shape::scalar:
                if (!value.IsScalar()) return refuse(path, mark, expected(schema_key, value));
                return apply(schema_key, value, value.Mark(), path);
            case Shape::list:
                if (value.IsScalar()) return read_list_item(schema_key, value, path, 0);
                if (!value.IsSequence()) return refuse(path, mark, expected(schema_key, value));
                for (std::size_t index = 0; const YAML::Node& item : value) {
                    if (!count_value()) return;
                    if (!item.IsScalar()) {
                        refuse(path, item.IsNull() ? mark : item.Mark(), expected(schema_key, item));
                        ++index;
                        continue;
                    }
                    read_list_item(schema_key, item, path, index++);
                }
                return;
            case Shape::map_list:
                if (value.IsNull()) return;  // "rules:" with every rule commented out
                if (!value.IsSequence()) return refuse(path, mark, expected(schema_key, value));
                return read_items(schema_key, value, path);
        }
    }

    // Item i of a list of values is "<path>[i]", as the YAML scan names it. In a file
    // without errors, which alone gets warnings, it is also item i of the config's list.
    void read_list_item(const SchemaKey& schema_key, const YAML::Node& item, const std::string& path, std::size_t index) {
        std::string item_path = path + '[' + std::to_string(index) + ']';
        read_value_at(item_path, [&] {
            value_marks_[item_path] = mark_of(item);
            apply(schema_key, item, item.Mark(), path);
        });
    }

    static std::string expected(const SchemaKey& schema_key, const YAML::Node& value) {
        return "expected " + value_type_article(schema_key.type) + ", got " + std::string(node_kind(value));
    }

    void apply(const SchemaKey& schema_key, const YAML::Node& value, const YAML::Mark& mark, const std::string& path) {
        if (auto stored = schema_key.apply(value, config_); !stored) refuse(path, mark, stored.error().message);
    }

    // Each item is appended even when it is not a map, so that item i of the config is
    // always "<path>[i]" of the file. An empty item ("-" alone) is reported at the list's
    // start: yaml-cpp marks it at the next token, which is often the next item.
    void read_items(const SchemaKey& list_key, const YAML::Node& items, const std::string& path) {
        std::size_t index = 0;
        for (const YAML::Node& item : items) {
            if (!count_value()) return;
            std::string item_path = path + '[' + std::to_string(index++) + ']';
            static_cast<void>(list_key.apply(item, config_));  // appending an item cannot fail
            read_value_at(item_path, [&] {
                if (!item.IsMap()) {
                    return refuse(item_path, item.IsNull() ? items.Mark() : item.Mark(),
                                  "expected a map of settings, got " + std::string(node_kind(item)));
                }
                read_map(item, item_path);
                report_missing_item_keys(item, item_path);
            });
        }
    }

    void report_missing_item_keys(const YAML::Node& item, const std::string& item_path) {
        std::string schema_item = schema_path_of(item_path);
        for (const SchemaKey& key : config_schema()) {
            if (!key.required || parent_of(key.path) != schema_item) continue;
            std::string path = item_path + '.' + std::string(leaf_of(key.path));
            if (value_marks_.contains(path) || failed_.contains(item_path)) continue;
            failed_.insert(path);
            report(item.Mark(), "missing required key '" + path + "'");
        }
    }

    // Positioned at the closest section that is present, else at the top of the file.
    // Not reported under a section already refused as the wrong type: that error says it.
    // Keys inside list items are checked per item, by report_missing_item_keys().
    void report_missing_keys() {
        for (const SchemaKey& key : config_schema()) {
            if (!key.required || value_marks_.contains(key.path) || key.path.find("[]") != std::string::npos) continue;
            if (has_failed(key.path)) continue;  // under a section that has its own error
            failed_.insert(key.path);
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

    // `path` or a section or item it lies in had its own error. By its prefixes, not by
    // every failed path: a file can hold hundreds of thousands of those.
    bool has_failed(std::string_view path) const {
        for (std::size_t end = 0; end <= path.size(); ++end) {
            if ((end == path.size() || path[end] == '.' || path[end] == '[') &&
                failed_.contains(std::string(path.substr(0, end)))) {
                return true;
            }
        }
        return false;
    }

    void report_cross_key_errors() {
        for (const CrossKeyError& error : check_cross_key_rules(config_)) {
            if (has_failed(error.path) ||
                std::any_of(error.involves.begin(), error.involves.end(), [&](const auto& p) { return has_failed(p); })) {
                continue;
            }
            report(cross_key_mark(error), error.path + ": " + error.message);
        }
    }

    // At the value the error is about; when that key was left at its default, at the
    // first involved key the file does give, which is the one the operator just wrote.
    YAML::Mark cross_key_mark(const CrossKeyError& error) const {
        if (auto it = value_marks_.find(error.path); it != value_marks_.end()) return it->second;
        for (const std::string& path : error.involves) {
            if (auto it = value_marks_.find(path); it != value_marks_.end()) return it->second;
        }
        return top_of_file;
    }

    struct AliasScope {
        const AliasUse* use;
        std::size_t problems = 0;
        std::string first;  // the first problem's message
    };

    std::string file_;
    const YamlScan& scan_;
    GatewayConfig config_;
    FirstErrors errors_;
    std::optional<AliasScope> alias_scope_;  // while a value given by an alias is read
    std::size_t values_read_ = 0;            // map entries and list items, aliases counted each time
    struct SeenSection {
        YAML::Mark mark;  // of the section's key
        bool readable;    // a map or empty, not a scalar or sequence
    };
    std::map<std::string, SeenSection> sections_;      // every section present in the file
    std::map<std::string, YAML::Mark> value_marks_;    // where each present key's value (and list item) is
    std::set<std::string> failed_;                     // paths with their own error, or missing
};

}  // namespace

std::string ConfigError::to_string() const {
    std::string where = printable_text(file);
    std::string what = (warning ? "warning: " : "") + message;
    if (line <= 0) return where + ": " + what;  // about the whole file, e.g. it cannot be read
    return where + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " + what;
}

std::vector<std::string> config_report_lines(const ConfigLoadResult& result) {
    std::vector<std::string> lines;
    for (const ConfigError& error : result.errors) lines.push_back(error.to_string());
    if (result.more_errors > 0) {
        lines.push_back("\u2026 and " + std::to_string(result.more_errors) +
                        (result.more_errors == 1 ? " more error" : " more errors"));
    }
    for (const ConfigError& warning : result.warnings) lines.push_back(warning.to_string());
    return lines;
}

ConfigLoadResult load_config_text(std::string_view yaml_text, const std::string& source_name) {
    std::string text(yaml_text);
    try {
        YamlScan scan = scan_yaml(text);
        ConfigReader reader(source_name, scan);
        reader.read_document(scan.documents == 0 ? YAML::Node() : YAML::Load(text));
        // A second document would be silently ignored by a plain YAML::Load.
        if (scan.second_document) reader.report(*scan.second_document, "only one YAML document is allowed; this is the second");
        return std::move(reader).finish();
    } catch (const YAML::Exception& e) {  // syntax errors; yaml-cpp 0.7 calls its nesting-depth limit "bad file"
        if (auto explained = explain_yaml_error(text, e)) {
            return failure({source_name, explained->line, explained->column, explained->message, false});
        }
        return failure(error_at(source_name, e.mark, "invalid YAML: " + e.msg));
    } catch (const std::exception& e) {
        return failure({source_name, 0, 0, std::string("cannot load: ") + e.what(), false});
    }
}

}  // namespace gw

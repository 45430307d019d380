// Walks a YAML document against the schema in config_schema.cpp, collecting every
// problem with its position instead of stopping at the first one.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <tuple>

#include <yaml-cpp/eventhandler.h>

#include "config/config_schema.hpp"
#include "config/gateway_config.hpp"
#include "config/key_suggestion.hpp"

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

// True when `path` is `ancestor` or lies inside it ("firewall.rules[0]" holds "firewall.rules[0].name").
bool is_within(std::string_view path, std::string_view ancestor) {
    if (!path.starts_with(ancestor)) return false;
    return path.size() == ancestor.size() || path[ancestor.size()] == '.' || path[ancestor.size()] == '[';
}

std::string unknown_key_message(const std::string& path) {
    std::string message = "unknown key '" + path + "'";
    if (auto suggestion = suggest_known_path(path)) message += " (did you mean '" + *suggestion + "'?)";
    return message;
}

// Reads one document into a GatewayConfig; owns the errors until finish(). Paths are
// concrete ("firewall.rules[0].name"); the schema is consulted with schema_path_of().
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
        complete_dependent_defaults(config_);
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
    // An error about the value at `path`; the cross-key rules then leave that value alone.
    void refuse(const std::string& path, const YAML::Mark& mark, const std::string& message) {
        failed_.insert(path);
        report(mark, path + ": " + message);
    }

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
        std::string schema_path = schema_path_of(path);
        if (const SchemaKey* schema_key = find_schema_key(schema_path)) return read_value(*schema_key, key, value, path);
        if (is_schema_section(schema_path)) return read_section(key, value, path);
        report(key.Mark(), unknown_key_message(path));
    }

    // An empty section ("nat:" with every setting commented out) means "all defaults".
    void read_section(const YAML::Node& key, const YAML::Node& value, const std::string& path) {
        bool readable = value.IsNull() || value.IsMap();
        sections_[path] = {key.Mark(), readable};
        if (!readable) return refuse(path, value.Mark(), "expected a map of settings, got " + std::string(node_kind(value)));
        if (value.IsMap()) read_map(value, path);
    }

    void read_value(const SchemaKey& schema_key, const YAML::Node& key, const YAML::Node& value, const std::string& path) {
        // yaml-cpp marks an empty value at the next token, so point at its key instead.
        YAML::Mark mark = value.IsNull() ? key.Mark() : value.Mark();
        value_marks_[path] = mark;
        switch (value_shape(schema_key.type)) {
            case Shape::scalar:
                if (!value.IsScalar()) return refuse(path, mark, expected(schema_key, value));
                return apply(schema_key, value, value.Mark(), path);
            case Shape::list:
                if (value.IsScalar()) return apply(schema_key, value, value.Mark(), path);
                if (!value.IsSequence()) return refuse(path, mark, expected(schema_key, value));
                for (const YAML::Node& item : value) {
                    if (!item.IsScalar()) {
                        refuse(path, item.IsNull() ? mark : item.Mark(), expected(schema_key, item));
                        continue;
                    }
                    apply(schema_key, item, item.Mark(), path);
                }
                return;
            case Shape::map_list:
                if (value.IsNull()) return;  // "rules:" with every rule commented out
                if (!value.IsSequence()) return refuse(path, mark, expected(schema_key, value));
                return read_items(schema_key, value, path);
        }
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
            std::string item_path = path + '[' + std::to_string(index++) + ']';
            static_cast<void>(list_key.apply(item, config_));  // appending an item cannot fail
            if (!item.IsMap()) {
                refuse(item_path, item.IsNull() ? items.Mark() : item.Mark(),
                       "expected a map of settings, got " + std::string(node_kind(item)));
                continue;
            }
            read_map(item, item_path);
            report_missing_item_keys(item, item_path);
        }
    }

    void report_missing_item_keys(const YAML::Node& item, const std::string& item_path) {
        std::string schema_item = schema_path_of(item_path);
        for (const SchemaKey& key : config_schema()) {
            if (!key.required || parent_of(key.path) != schema_item) continue;
            std::string path = item_path + '.' + std::string(leaf_of(key.path));
            if (value_marks_.contains(path)) continue;
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

    bool has_failed(std::string_view path) const {
        return std::any_of(failed_.begin(), failed_.end(), [&](const std::string& f) { return is_within(path, f); });
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

    std::string file_;
    GatewayConfig config_;
    std::vector<ConfigError> errors_;
    struct SeenSection {
        YAML::Mark mark;  // of the section's key
        bool readable;    // a map or empty, not a scalar or sequence
    };
    std::map<std::string, SeenSection> sections_;      // every section present in the file
    std::map<std::string, YAML::Mark> value_marks_;    // where each present key's value is
    std::set<std::string> failed_;                     // paths with their own error, or missing
};

// How many documents the text holds, counting no further than two, and where the
// second one's root node is. Not YAML::LoadAll: on a stray flow entry (a file that is
// just ",") yaml-cpp 0.7's parser reports an empty document again and again without
// consuming the token, and LoadAll collects them until memory runs out (found by
// fuzz/config_loader: gigabytes from one byte).
struct DocumentCount {
    int count = 0;
    std::optional<YAML::Mark> second;
};

class DocumentCounter : public YAML::EventHandler {
public:
    explicit DocumentCounter(DocumentCount& result) : result_(result) {}
    void OnDocumentStart(const YAML::Mark& mark) override {
        ++result_.count;
        start_ = mark;
    }
    void OnDocumentEnd() override {
        if (result_.count == 2 && !result_.second) result_.second = start_;
    }
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node_at(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node_at(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
        node_at(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node_at(mark);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
        node_at(mark);
    }
    void OnMapEnd() override {}

private:
    // Where YAML::Node::Mark() puts a document: at its root node.
    void node_at(const YAML::Mark& mark) {
        if (result_.count == 2 && !result_.second) result_.second = mark;
    }
    DocumentCount& result_;
    YAML::Mark start_;
};

DocumentCount count_documents(const std::string& text) {
    DocumentCount result;
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentCounter counter(result);
    while (result.count < 2 && parser.HandleNextDocument(counter)) {
    }
    return result;
}

}  // namespace

std::string ConfigError::to_string() const {
    if (line <= 0) return file + ": " + message;  // about the whole file, e.g. it cannot be read
    return file + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " + message;
}

ConfigLoadResult load_config_text(std::string_view yaml_text, const std::string& source_name) {
    try {
        std::string text(yaml_text);
        DocumentCount documents = count_documents(text);
        ConfigReader reader(source_name);
        reader.read_document(documents.count == 0 ? YAML::Node() : YAML::Load(text));
        // A second document would be silently ignored by a plain YAML::Load.
        if (documents.second) reader.report(*documents.second, "only one YAML document is allowed; this is the second");
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

#include "config/yaml_scan.hpp"

#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>

namespace gw {
namespace {

// "*name" at `pos`: the name ends at whitespace or a flow indicator (YAML 1.2 6.9.2).
std::string alias_name_at(std::string_view text, std::size_t pos) {
    if (pos >= text.size() || text[pos] != '*') return {};
    std::size_t end = text.find_first_of(" \t\r\n,[]{}", pos + 1);
    return std::string(text.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1));
}

// Follows the events of the first document with the path of each node, as the loader
// builds it: keys joined with '.', sequence items as "[i]". Not YAML::LoadAll: on a
// stray flow entry (a file that is just ",") yaml-cpp 0.7's parser reports an empty
// document again and again without consuming the token, and LoadAll collects them
// until memory runs out (found by fuzz/config_loader: gigabytes from one byte).
class ScanHandler : public YAML::EventHandler {
public:
    ScanHandler(std::string_view text, YamlScan& result) : text_(text), result_(result) {}

    void OnDocumentStart(const YAML::Mark& mark) override {
        ++result_.documents;
        document_start_ = mark;
        frames_.clear();
    }
    void OnDocumentEnd() override {
        if (result_.documents == 2 && !result_.second_document) result_.second_document = document_start_;
    }
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        begin_node(mark, anchor);
        end_node();
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        std::optional<std::string> path = begin_node(mark, 0);
        if (path && result_.documents == 1) {
            auto defined = anchors_.find(anchor);
            result_.alias_uses[*path] = {mark, alias_name_at(text_, mark.pos),
                                         defined == anchors_.end() ? YAML::Mark() : defined->second};
        }
        end_node();
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
        bool is_key = !frames_.empty() && frames_.back().is_map && frames_.back().expecting_key;
        begin_node(mark, anchor);
        if (is_key) frames_.back().key = value;
        end_node();
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(mark, anchor, false);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(mark, anchor, true);
    }
    void OnMapEnd() override { close(); }

private:
    struct Frame {
        bool is_map;
        bool ignored;  // a key that is itself a map or sequence: the loader reads no path in it
        std::string path;
        bool expecting_key = true;
        std::string key;
        std::size_t index = 0;
    };

    // The path of the node starting here, or nullopt inside a key.
    std::optional<std::string> begin_node(const YAML::Mark& mark, YAML::anchor_t anchor) {
        if (result_.documents == 2 && !result_.second_document) result_.second_document = mark;
        if (anchor != 0) anchors_[anchor] = mark;
        if (frames_.empty()) return std::string();
        const Frame& parent = frames_.back();
        if (parent.ignored || (parent.is_map && parent.expecting_key)) return std::nullopt;
        if (parent.is_map) return parent.path.empty() ? parent.key : parent.path + '.' + parent.key;
        return parent.path + '[' + std::to_string(parent.index) + ']';
    }

    // A key is followed by its value, a value by the next key, an item by the next item.
    void end_node() {
        if (frames_.empty()) return;
        Frame& parent = frames_.back();
        if (parent.is_map) {
            parent.expecting_key = !parent.expecting_key;
        } else {
            ++parent.index;
        }
    }

    void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
        bool in_key = !frames_.empty() && (frames_.back().ignored || (frames_.back().is_map && frames_.back().expecting_key));
        std::optional<std::string> path = begin_node(mark, anchor);
        frames_.push_back({is_map, in_key, path.value_or(std::string()), true, {}, 0});
    }

    void close() {
        frames_.pop_back();
        end_node();
    }

    std::string_view text_;
    YamlScan& result_;
    YAML::Mark document_start_;
    std::vector<Frame> frames_;
    std::map<YAML::anchor_t, YAML::Mark> anchors_;
};

// Line `line` (0-based) of the text, without its end of line.
std::string_view line_of(std::string_view text, int line) {
    std::size_t start = 0;
    for (int i = 0; i < line; ++i) {
        start = text.find('\n', start);
        if (start == std::string_view::npos) return {};
        ++start;
    }
    std::size_t end = text.find('\n', start);
    return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// The 0-based column of the first tab among the line's leading blanks, if any.
std::optional<std::size_t> tab_in_indentation(std::string_view line) {
    for (std::size_t i = 0; i < line.size() && (line[i] == ' ' || line[i] == '\t'); ++i) {
        if (line[i] == '\t') return i;
    }
    return std::nullopt;
}

}  // namespace

YamlScan scan_yaml(const std::string& text) {
    YamlScan result;
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    ScanHandler handler(text, result);
    while (result.documents < 2 && parser.HandleNextDocument(handler)) {
    }
    return result;
}

std::optional<YamlErrorExplanation> explain_yaml_error(std::string_view text, const YAML::Exception& error) {
    if (error.mark.line < 0) return std::nullopt;
    // yaml-cpp says "illegal map value", "illegal block entry" or "illegal tab when looking
    // for indentation" when a tab indents a line (YAML 1.2 6.1 forbids it), at that line.
    // Other errors on a line indented with a tab ("illegal flow end") are about something else.
    bool about_indentation = error.msg == YAML::ErrorMsg::TAB_IN_INDENTATION ||
                             error.msg == YAML::ErrorMsg::BLOCK_ENTRY || error.msg == YAML::ErrorMsg::MAP_VALUE ||
                             error.msg == YAML::ErrorMsg::END_OF_MAP || error.msg == YAML::ErrorMsg::END_OF_SEQ;
    if (auto column = tab_in_indentation(line_of(text, error.mark.line)); column && about_indentation) {
        return YamlErrorExplanation{error.mark.line + 1, int(*column) + 1,
                                    "a tab in the indentation: YAML indents with spaces"};
    }
    if (error.msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
        std::string name = alias_name_at(text, std::size_t(error.mark.pos));
        return YamlErrorExplanation{error.mark.line + 1, error.mark.column + 1,
                                    "the alias *" + name + " names no anchor: write &" + name +
                                        " on the node it stands for, before this use"};
    }
    return std::nullopt;
}

}  // namespace gw

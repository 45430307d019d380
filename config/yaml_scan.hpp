// What yaml-cpp's node tree does not tell the loader, read from the parser's events and
// the text: how many documents a file holds, where each alias is used (a node read
// through an alias carries the mark of its anchor, not of its use), and what a syntax
// error that yaml-cpp words for its own grammar means to the operator. Internal to config/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace gw {

struct AliasUse {
    YAML::Mark mark;    // of "*name"
    std::string name;   // without the '*'
    YAML::Mark anchor;  // of the node the anchor "&name" is on
};

struct YamlScan {
    int documents = 0;  // counted no further than two
    std::optional<YAML::Mark> second_document;  // its root node, where YAML::Node::Mark() would put it
    // Values of the first document given by an alias, by their path as the loader names
    // them: "firewall.forwards[1]", "lan.networks[0]".
    std::map<std::string, AliasUse> alias_uses;
};

// Throws YAML::Exception on a syntax error, as YAML::Load does.
YamlScan scan_yaml(const std::string& text);

// The operator's words for a syntax error at `error`, when there are better ones than
// yaml-cpp's: a tab in the indentation ("illegal map value"), an alias without an
// anchor. line and column are 1-based; a tab is pointed at.
struct YamlErrorExplanation {
    int line;
    int column;
    std::string message;
};
std::optional<YamlErrorExplanation> explain_yaml_error(std::string_view text, const YAML::Exception& error);

}  // namespace gw

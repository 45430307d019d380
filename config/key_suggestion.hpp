// "did you mean ...?" for unknown keys: the key another tool's word stands for ("dport"
// in a rule: destination_ports), a sibling a typo away, or the same name in another
// section. Internal to config/.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gw {

std::string_view parent_of(std::string_view path);  // "nat.timeouts.udp" -> "nat.timeouts"
std::string_view leaf_of(std::string_view path);    // "nat.timeouts.udp" -> "udp"

// `word` written in `section` (as the schema writes it: "firewall.rules[]") means `key`.
struct KeySynonym {
    std::string_view section;
    std::string_view word;
    std::string_view key;
};
std::span<const KeySynonym> key_synonyms();

// `unknown` is concrete ("firewall.rules[2].acton"); so is a suggested sibling
// ("firewall.rules[2].action").
std::optional<std::string> suggest_known_path(std::string_view unknown);

}  // namespace gw

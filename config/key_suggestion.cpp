#include "config/key_suggestion.hpp"

#include <algorithm>
#include <vector>

#include "config/config_schema.hpp"

namespace gw {
namespace {

// Every key and every section a file may name, e.g. "nat", "nat.timeouts",
// "nat.timeouts.udp", "firewall.rules[].name"; not the item placeholders "firewall.rules[]".
// Built once, split once: a file of 100 000 unknown keys asks for each of them.
struct KnownPath {
    std::string path;
    std::string parent;
    std::string leaf;
};

std::vector<KnownPath> build_known_paths() {
    std::vector<KnownPath> paths;
    for (const SchemaKey& key : config_schema()) {
        for (std::size_t dot = 0; dot != std::string::npos;) {
            dot = key.path.find('.', dot + 1);
            std::string prefix = key.path.substr(0, dot);
            if (prefix.ends_with("[]")) continue;
            if (std::none_of(paths.begin(), paths.end(), [&](const KnownPath& p) { return p.path == prefix; })) {
                paths.push_back({prefix, std::string(parent_of(prefix)), std::string(leaf_of(prefix))});
            }
        }
    }
    return paths;
}

const std::vector<KnownPath>& known_paths() {
    static const std::vector<KnownPath> paths = build_known_paths();
    return paths;
}

// The words other tools use for our keys (iptables, nftables, miniupnpd, pf, router web
// pages): no edit distance leads from "dport" to "destination_ports".
constexpr KeySynonym synonyms[] = {
    {"firewall.forwards[]", "port", "external_port"},
    {"firewall.forwards[]", "ports", "external_port"},
    {"firewall.forwards[]", "dport", "external_port"},
    {"firewall.forwards[]", "external_ports", "external_port"},
    {"firewall.forwards[]", "wan_port", "external_port"},
    {"firewall.forwards[]", "public_port", "external_port"},
    {"firewall.forwards[]", "to", "internal"},
    {"firewall.forwards[]", "target", "internal"},
    {"firewall.forwards[]", "destination", "internal"},
    {"firewall.forwards[]", "internal_port", "internal"},
    {"firewall.forwards[]", "host", "internal"},
    {"firewall.forwards[]", "proto", "protocol"},
    {"firewall.forwards[]", "src", "allowed_sources"},
    {"firewall.forwards[]", "source", "allowed_sources"},
    {"firewall.forwards[]", "sources", "allowed_sources"},
    {"firewall.forwards[]", "from", "allowed_sources"},
    {"firewall.rules[]", "dport", "destination_ports"},
    {"firewall.rules[]", "dports", "destination_ports"},
    {"firewall.rules[]", "port", "destination_ports"},
    {"firewall.rules[]", "ports", "destination_ports"},
    {"firewall.rules[]", "dst_port", "destination_ports"},
    {"firewall.rules[]", "destination_port", "destination_ports"},
    {"firewall.rules[]", "sport", "source_ports"},
    {"firewall.rules[]", "sports", "source_ports"},
    {"firewall.rules[]", "src_port", "source_ports"},
    {"firewall.rules[]", "source_port", "source_ports"},
    {"firewall.rules[]", "proto", "protocol"},
    {"firewall.rules[]", "src", "sources"},
    {"firewall.rules[]", "saddr", "sources"},
    {"firewall.rules[]", "from", "sources"},
    {"firewall.rules[]", "source", "sources"},
    {"firewall.rules[]", "dst", "destinations"},
    {"firewall.rules[]", "daddr", "destinations"},
    {"firewall.rules[]", "to", "destinations"},
    {"firewall.rules[]", "destination", "destinations"},
    {"firewall.rules[]", "target", "action"},
    {"firewall.rules[]", "jump", "action"},
    {"firewall.rules[]", "verdict", "action"},
    {"firewall.rules[]", "policy", "action"},
    {"firewall.rules[]", "dir", "direction"},
    {"firewall.rules[]", "chain", "direction"},
    {"firewall.rules[]", "iif", "interface"},
    {"firewall.rules[]", "iifname", "interface"},
    {"firewall.rules[]", "in_interface", "interface"},
    {"firewall.rules[]", "limit", "rate_limit"},
    {"firewall.rules[]", "rate", "rate_limit"},
    {"firewall.rules[]", "type", "icmp_type"},
    {"lan", "subnet", "networks"},
    {"lan", "subnets", "networks"},
    {"lan", "network", "networks"},
    {"lan", "cidr", "networks"},
    {"lan", "iface", "interface"},
    {"lan", "device", "interface"},
    {"wan", "iface", "interface"},
    {"wan", "device", "interface"},
    {"wan", "ip", "address"},
    {"wan", "external_ip", "address"},
    {"wan", "external_address", "address"},
    {"nat", "ports", "port_range"},
    {"nfqueue", "queue_num", "queue"},
    {"nfqueue", "num", "queue"},
    {"nfqueue", "threads", "workers"},
    {"firewall", "dmz_host", "dmz"},
    {"firewall", "forwarding", "forwards"},
    {"firewall", "port_forwards", "forwards"},
    {"upnp", "enable", "enabled"},
    {"upnp", "port", "http_port"},
    {"upnp", "secure", "secure_mode"},
    {"upnp", "name", "friendly_name"},
};

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

std::span<const KeySynonym> key_synonyms() {
    return synonyms;
}

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
    std::string_view concrete_parent = parent_of(unknown);
    for (const KeySynonym& synonym : synonyms) {
        if (synonym.section == parent_of(schema_path) && synonym.word == leaf)
            return std::string(concrete_parent) + (concrete_parent.empty() ? "" : ".") + std::string(synonym.key);
    }
    std::size_t best_distance = std::max<std::size_t>(1, leaf.size() / 3) + 1;
    std::optional<std::string> best;
    std::string_view schema_parent = parent_of(schema_path);
    for (const KnownPath& known : known_paths()) {
        if (known.parent != schema_parent) continue;
        std::size_t length_difference = std::max(leaf.size(), known.leaf.size()) - std::min(leaf.size(), known.leaf.size());
        if (length_difference >= best_distance) continue;  // at least that many edits
        std::size_t distance = edit_distance(leaf, known.leaf);
        if (distance < best_distance) {
            best_distance = distance;
            best = std::string(concrete_parent) + (concrete_parent.empty() ? "" : ".") + known.leaf;
        }
    }
    if (best) return best;
    for (const KnownPath& known : known_paths()) {
        if (known.leaf == leaf) return known.path;
    }
    return std::nullopt;
}

}  // namespace gw

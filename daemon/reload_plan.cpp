#include "daemon/reload_plan.hpp"

#include <algorithm>
#include <array>

#include "config/config_schema.hpp"
#include "config/reload_keys.hpp"

namespace gw {
namespace {

// The lists of maps: the schema's show() renders one item (the newest), so each list is
// compared item by item through a configuration holding just that item.
struct ListOfMaps {
    std::string_view path;
    std::string_view noun;
    std::size_t (*size)(const GatewayConfig&);
    GatewayConfig (*only_item)(const GatewayConfig&, std::size_t);
};

const ListOfMaps lists_of_maps[] = {
    {"firewall.rules", "rules", [](const GatewayConfig& c) { return c.firewall.rules.size(); },
     [](const GatewayConfig& c, std::size_t i) {
         GatewayConfig one;
         one.firewall.rules = {c.firewall.rules[i]};
         return one;
     }},
    {"firewall.forwards", "forwards", [](const GatewayConfig& c) { return c.firewall.forwards.size(); },
     [](const GatewayConfig& c, std::size_t i) {
         GatewayConfig one;
         one.firewall.forwards = {c.firewall.forwards[i]};
         return one;
     }},
};

const ListOfMaps* list_of_maps(std::string_view path) {
    for (const auto& list : lists_of_maps)
        if (list.path == path) return &list;
    return nullptr;
}

// Every item of the list, each as the values of its keys.
std::vector<std::string> items_shown(const ListOfMaps& list, const GatewayConfig& config) {
    const std::string prefix = std::string(list.path) + "[].";
    std::vector<std::string> items;
    for (std::size_t i = 0; i < list.size(config); ++i) {
        GatewayConfig one = list.only_item(config, i);
        std::string text;
        for (const SchemaKey& key : config_schema())
            if (key.path.starts_with(prefix)) text += key.show(one) + '\x1f';
        items.push_back(std::move(text));
    }
    return items;
}

// "[a, b, c, d, e, f]" -> "[a, b, c, ... 3 more]": a refusal line stays one readable line.
std::string short_value(const std::string& value) {
    constexpr std::size_t shown = 3, most = 4;
    if (value.size() < 2 || value.front() != '[' || value.back() != ']') return value.empty() ? "(none)" : value;
    std::vector<std::string> items;
    for (std::size_t start = 1; start < value.size() - 1;) {
        std::size_t comma = value.find(", ", start);
        if (comma == std::string::npos || comma > value.size() - 1) comma = value.size() - 1;
        items.push_back(value.substr(start, comma - start));
        start = comma + 2;
    }
    if (items.size() <= most) return value;
    std::string text = "[";
    for (std::size_t i = 0; i < shown; ++i) text += items[i] + ", ";
    return text + "... " + std::to_string(items.size() - shown) + " more]";
}

std::string count_of(std::size_t n, std::string_view noun) { return std::to_string(n) + " " + std::string(noun); }

}  // namespace

ReloadPlan plan_reload(const GatewayConfig& running, const GatewayConfig& wanted) {
    ReloadPlan plan;
    for (const SchemaKey& key : config_schema()) {
        if (key.path.find("[]") != std::string::npos) continue;  // an item's key: its list compares it
        KeyChange change{key.path, {}, {}};
        if (const ListOfMaps* list = list_of_maps(key.path)) {
            if (items_shown(*list, running) == items_shown(*list, wanted)) continue;
            const std::size_t before = list->size(running), after = list->size(wanted);
            change.from = count_of(before, list->noun);
            change.to = count_of(after, list->noun) + (before == after ? " (edited)" : "");
        } else {
            change.from = key.show(running);
            change.to = key.show(wanted);
            if (change.from == change.to) continue;
            change.from = short_value(change.from);
            change.to = short_value(change.to);
        }
        (applies_in_place(key.path) ? plan.applied : plan.restart).push_back(std::move(change));
    }
    return plan;
}

std::string restart_refusal(const KeyChange& change) {
    return change.key + " cannot change while running (" + change.from + " -> " + change.to +
           "): restart gatewayd to apply it";
}

std::string change_list(const std::vector<KeyChange>& changes, std::size_t shown) {
    if (changes.empty()) return "no key changed";
    std::string text;
    for (std::size_t i = 0; i < changes.size() && i < shown; ++i)
        text += (i == 0 ? "" : ", ") + changes[i].key + " " + changes[i].from + " -> " + changes[i].to;
    if (changes.size() > shown) text += " and " + std::to_string(changes.size() - shown) + " more";
    return text;
}

}  // namespace gw

// `gatewayctl rules`: the firewall's rules in order, then the three policies, each with
// the packets and bytes it decided. A reload keeps the counts of the rules it left
// unchanged (RuleTable::keep_counters_of), so a count is the rule's since it was written.
#include "gateway_control.hpp"

#include "control_json.hpp"

namespace gw {
namespace {

struct RuleRow {
    std::string name;
    RuleDirection direction;
    RuleAction action;
    std::uint64_t packets, bytes, rate_limited;
};

struct PolicyRow {
    RuleDirection direction;
    RuleAction action;
    std::uint64_t packets, bytes;
};

}  // namespace

std::string GatewayControl::rules() const {
    // Copied in one short hold; the JSON is written after it (locked_engine.hpp).
    auto [rule_rows, policy_rows] = engine_.with([](const PacketEngine& e) {
        const RuleTable& table = e.rules();
        std::vector<RuleRow> rules;
        for (const auto& c : table.counters())
            rules.push_back({c.rule->name, c.rule->direction, c.rule->action, c.matched, c.bytes, c.rate_limited});
        const DefaultPolicies p = table.policies();
        std::vector<PolicyRow> policies;
        for (auto [direction, action] : {std::pair{RuleDirection::inbound, p.inbound},
                                         std::pair{RuleDirection::outbound, p.outbound},
                                         std::pair{RuleDirection::input, p.input}})
            policies.push_back({direction, action, table.policy_decisions(direction), table.policy_bytes(direction)});
        return std::pair{std::move(rules), std::move(policies)};
    });
    std::vector<std::string> rows;
    for (const RuleRow& r : rule_rows)
        rows.push_back(JsonObject()
                           .add("name", r.name)
                           .add("direction", rule_direction_name(r.direction))
                           .add("action", rule_action_name(r.action))
                           .add("packets", r.packets)
                           .add("bytes", r.bytes)
                           .add("rate_limited", r.rate_limited)
                           .str());
    std::vector<std::string> policies;
    for (const PolicyRow& p : policy_rows)
        policies.push_back(JsonObject()
                               .add("direction", rule_direction_name(p.direction))
                               .add("action", rule_action_name(p.action))
                               .add("packets", p.packets)
                               .add("bytes", p.bytes)
                               .str());
    return JsonObject().add("ok", true).add_raw("rules", json_array(rows)).add_raw("policies", json_array(policies)).str();
}

}  // namespace gw

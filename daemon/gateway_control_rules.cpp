// `gatewayctl rules`: the firewall's rules in order, then the three policies, each with
// the packets and bytes it decided. A reload keeps the counts of the rules it left
// unchanged (RuleTable::keep_counters_of), so a count is the rule's since it was written.
#include "gateway_control.hpp"

#include "control_json.hpp"

namespace gw {

std::string GatewayControl::rules() const {
    const RuleTable& table = engine_.rules();
    std::vector<std::string> rows;
    for (const auto& counter : table.counters()) {
        const FirewallRule& rule = *counter.rule;
        rows.push_back(JsonObject()
                           .add("name", rule.name)
                           .add("direction", rule_direction_name(rule.direction))
                           .add("action", rule_action_name(rule.action))
                           .add("packets", counter.matched)
                           .add("bytes", counter.bytes)
                           .add("rate_limited", counter.rate_limited)
                           .str());
    }
    const DefaultPolicies policies = table.policies();
    std::vector<std::string> policy_rows;
    for (auto [direction, action] : {std::pair{RuleDirection::inbound, policies.inbound},
                                     std::pair{RuleDirection::outbound, policies.outbound},
                                     std::pair{RuleDirection::input, policies.input}})
        policy_rows.push_back(JsonObject()
                                  .add("direction", rule_direction_name(direction))
                                  .add("action", rule_action_name(action))
                                  .add("packets", table.policy_decisions(direction))
                                  .add("bytes", table.policy_bytes(direction))
                                  .str());
    return JsonObject()
        .add("ok", true)
        .add_raw("rules", json_array(rows))
        .add_raw("policies", json_array(policy_rows))
        .str();
}

}  // namespace gw

// What each IGD action does once its arguments are valid: the answers about the
// connection, and the port mapping actions, decided against the one mapping policy inside
// the service's with_policy (which carries out the changes they report).
#include <string>

#include "base/log.hpp"
#include "igd/engine_clock.hpp"
#include "igd/internet_gateway_device.hpp"
#include "igd/refusal_reasons.hpp"
#include "igd/upstream_carrier.hpp"

namespace gw {
namespace {

std::string protocol_text(Protocol p) { return p == Protocol::udp ? "UDP" : "TCP"; }
std::string boolean_text(bool b) { return b ? "1" : "0"; }
std::string remote_text(const std::optional<Ipv4Address>& a) { return a ? a->to_string() : std::string(); }

std::string xml_escaped(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

SoapFault fault_of(MappingRefusal refusal) { return SoapFault{UpnpError(upnp_error_code(refusal))}; }

std::string describe(const PortMapping& m) {
    return std::string(protocol_name(m.protocol)) + " " + std::to_string(m.external.value) + " -> " +
           to_string(m.internal) + " \"" + m.description + "\"";
}

}  // namespace

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::perform(const ActionCall& call, Ipv4Address requester) {
    const ActionArguments& args = call.arguments;
    switch (call.action->id) {
        case IgdActionId::get_external_ip_address: return {{external_address_text()}, {}};
        case IgdActionId::get_status_info: return {{"Connected", "ERROR_NONE", uptime_seconds()}, {}};
        case IgdActionId::get_connection_type_info: return {{"IP_Routed", "IP_Routed"}, {}};
        case IgdActionId::get_nat_rsip_status: return {{"0", "1"}, {}};
        case IgdActionId::set_connection_type:
            // gatewayd is always an IP router; any other type is not ours to choose.
            if (std::get<ConnectionTypeArgs>(args).connection_type == "IP_Routed") return {{}, {}};
            return {{}, SoapFault{UpnpError::action_not_authorized}};
        case IgdActionId::request_connection:
        case IgdActionId::force_termination:
        case IgdActionId::set_default_connection_service:
            return {{}, SoapFault{UpnpError::action_not_authorized}};
        case IgdActionId::get_default_connection_service: {
            for (const auto& e : endpoints_)
                if (e.kind == ServiceKind::wan_ip_connection) return {{e.udn + ":" + std::string(e.service_id)}, {}};
            return {{}, SoapFault{UpnpError::action_failed}};
        }
        case IgdActionId::get_common_link_properties: return {{"Ethernet", "1000000000", "1000000000", "Up"}, {}};
        // ui4 counters wrap, as the spec's 32-bit state variables do.
        case IgdActionId::get_total_bytes_sent: return {{std::to_string(std::uint32_t(counters_.bytes_sent))}, {}};
        case IgdActionId::get_total_bytes_received:
            return {{std::to_string(std::uint32_t(counters_.bytes_received))}, {}};
        case IgdActionId::get_total_packets_sent: return {{std::to_string(std::uint32_t(counters_.packets_sent))}, {}};
        case IgdActionId::get_total_packets_received:
            return {{std::to_string(std::uint32_t(counters_.packets_received))}, {}};
        case IgdActionId::add_port_mapping: return add_mapping(std::get<AddPortMappingArgs>(args), requester, false);
        case IgdActionId::add_any_port_mapping: return add_mapping(std::get<AddPortMappingArgs>(args), requester, true);
        case IgdActionId::delete_port_mapping: return delete_mapping(std::get<PortMappingKey>(args), requester);
        case IgdActionId::delete_port_mapping_range: return delete_range(std::get<PortRangeArgs>(args), requester);
        case IgdActionId::get_list_of_port_mappings: return list_mappings(std::get<ListPortMappingsArgs>(args));
        case IgdActionId::get_specific_port_mapping_entry: {
            const auto& key = std::get<PortMappingKey>(args);
            return mappings_.with_policy([&](MappingPolicy& policy, Instant now) {
                return mapping_entry(policy.find(key.protocol, key.external_port, key.remote_host, now), false, now);
            });
        }
        case IgdActionId::get_generic_port_mapping_entry: {
            return mappings_.with_policy([&](MappingPolicy& policy, Instant now) -> ActionOutcome {
                const PortMapping* m = policy.at_index(std::get<PortMappingIndexArgs>(args).index, now);
                if (!m) return {{}, SoapFault{UpnpError::specified_array_index_invalid}};
                return mapping_entry(m, true, now);
            });
        }
        // WANIPv6FirewallControl: on_pinhole_action dispatches those (pinhole_actions.cpp).
        case IgdActionId::get_firewall_status:
        case IgdActionId::get_outbound_pinhole_timeout:
        case IgdActionId::add_pinhole:
        case IgdActionId::update_pinhole:
        case IgdActionId::delete_pinhole:
        case IgdActionId::get_pinhole_packets:
        case IgdActionId::check_pinhole_working: break;
    }
    return {{}, SoapFault{UpnpError::invalid_action}};
}

// Inside with_policy. `with_key`: GetGenericPortMappingEntry also names the mapping.
InternetGatewayDevice::ActionOutcome InternetGatewayDevice::mapping_entry(const PortMapping* m, bool with_key,
                                                                          Instant now) {
    if (!m) return {{}, SoapFault{UpnpError::no_such_entry_in_array}};
    std::vector<std::string> values;
    if (with_key) values = {remote_text(m->remote_host), std::to_string(m->external.value), protocol_text(m->protocol)};
    values.insert(values.end(), {std::to_string(m->internal.port.value), m->internal.address.to_string(),
                                 boolean_text(m->enabled), m->description,
                                 std::to_string(remaining_lease_seconds(*m, now))});
    return {values, {}};
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::add_mapping(const AddPortMappingArgs& a,
                                                                        Ipv4Address requester, bool any_port) {
    PortMapping requested = a.requested();
    ActionOutcome outcome = mappings_.with_policy([&](MappingPolicy& policy, Instant now) -> ActionOutcome {
        auto granted = any_port ? policy.grant_any(requested, requester, a.lease_seconds, now)
                                : policy.grant(requested, requester, a.lease_seconds, now);
        // Counted and logged (rate-limited) by answer_action's refuse(), naming the
        // request and the reason in words.
        if (auto* refusal = std::get_if<MappingRefusal>(&granted)) {
            ActionOutcome refused{{}, fault_of(*refusal)};
            refused.refused_request = mapping_request_text(requested);
            refused.refusal_reason = mapping_refusal_reason(*refusal, requested, requester, config_.secure_mode,
                                                            policy.at_client_limit(requester, now));
            return refused;
        }
        const PortMapping& m = std::get<PortMapping>(granted);
        log::info("UPnP: mapping granted to " + requester.to_string() + ": " + describe(m) + ", lease " +
                  (m.expires ? std::to_string(remaining_lease_seconds(m, now)) + " s" : std::string("unlimited")));
        ActionOutcome outcome;
        if (any_port) outcome.out_values = {std::to_string(m.external.value)};
        outcome.changes.granted.push_back(m);
        return outcome;
    });
    if (!outcome.fault && !outcome.changes.granted.empty() && environment_.upstream)
        carry_upstream(outcome, requester, any_port);
    return outcome;
}

// wan.upstream_mappings, outside every lock (the upstream worker does the I/O). The
// answer's port is always ours: AddPortMapping asked for a fixed one, and a later
// DeletePortMapping names what AddAnyPortMapping answered, so that must be the local
// port (an upstream half on another port is kept and warned about; see
// igd/upstream_carrier.hpp). GetExternalIPAddress already reports the upstream's address.
void InternetGatewayDevice::carry_upstream(ActionOutcome& outcome, Ipv4Address requester, bool any_port) {
    const PortMapping m = outcome.changes.granted.front();
    UpstreamCarrier& upstream = *environment_.upstream;
    UpstreamOutcome half = upstream.await_upstream({m.protocol, m.external}, UpstreamCarrier::grant_wait);
    UpstreamJudgement j = judge_upstream(half, m.external, upstream.refusing_on_failure(), !any_port, any_port);
    std::string what = "UPnP " + describe(m) + " for " + requester.to_string() + ": " + j.why;
    if (j.kind == UpstreamJudgement::Kind::refuse) {
        mappings_.delete_mapping_as_administrator(m.protocol, m.external);
        upstream.report_refused_locally(what);
        outcome.out_values.clear();
        outcome.fault = SoapFault{j.port_taken ? UpnpError::conflict_in_mapping_entry : UpnpError::action_failed};
        outcome.refused_request = mapping_request_text(m);
        outcome.refusal_reason = j.why;
    } else if (j.warn) {
        upstream.report_kept_without_upstream(what);
    }
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::delete_mapping(const PortMappingKey& key,
                                                                           Ipv4Address requester) {
    return mappings_.with_policy([&](MappingPolicy& policy, Instant now) -> ActionOutcome {
        const PortMapping* existing = policy.find(key.protocol, key.external_port, key.remote_host, now);
        std::optional<PortMapping> copy = existing ? std::optional(*existing) : std::nullopt;
        if (auto refusal = policy.remove(key.protocol, key.external_port, key.remote_host, requester, now))
            return {{}, fault_of(*refusal)};
        ActionOutcome outcome;
        if (copy) {
            log::info("UPnP: mapping deleted by " + requester.to_string() + ": " + describe(*copy));
            outcome.changes.removed.push_back(*copy);
        }
        return outcome;
    });
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::delete_range(const PortRangeArgs& a, Ipv4Address requester) {
    return mappings_.with_policy([&](MappingPolicy& policy, Instant now) -> ActionOutcome {
        auto removed = policy.remove_range(a.protocol, a.ports, requester, a.manage, now);
        if (auto* refusal = std::get_if<MappingRefusal>(&removed)) return {{}, fault_of(*refusal)};
        ActionOutcome outcome;
        outcome.changes.removed = std::move(std::get<std::vector<PortMapping>>(removed));
        log::info("UPnP: " + std::to_string(outcome.changes.removed.size()) + " mappings in " +
                  std::string(protocol_name(a.protocol)) + " " + a.ports.to_string() + " deleted by " +
                  requester.to_string());
        return outcome;
    });
}

InternetGatewayDevice::ActionOutcome InternetGatewayDevice::list_mappings(const ListPortMappingsArgs& a) {
    return mappings_.with_policy([&](MappingPolicy& policy, Instant now) -> ActionOutcome {
        auto mappings = policy.list(a.range.protocol, a.range.ports, a.max_entries, now);
        log::debug("UPnP: GetListOfPortMappings " + std::string(protocol_name(a.range.protocol)) + " " +
                   a.range.ports.to_string() + " max " + std::to_string(a.max_entries) + ": " +
                   std::to_string(mappings.size()) + " of " + std::to_string(policy.size()));
        // WANIPConnection:2 2.5.21: nothing in the range is 730 PortMappingNotFound.
        if (mappings.empty()) return {{}, SoapFault{UpnpError::port_mapping_not_found}};
        // WANIPConnection:2 2.5.21: an XML document (escaped again when it becomes the
        // argument's text) in the PortMappingList schema.
        std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><p:PortMappingList "
                          "xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\">";
        for (const auto& m : mappings) {
            xml += "<p:PortMappingEntry><p:NewRemoteHost>" + remote_text(m.remote_host) + "</p:NewRemoteHost>";
            xml += "<p:NewExternalPort>" + std::to_string(m.external.value) + "</p:NewExternalPort>";
            xml += "<p:NewProtocol>" + protocol_text(m.protocol) + "</p:NewProtocol>";
            xml += "<p:NewInternalPort>" + std::to_string(m.internal.port.value) + "</p:NewInternalPort>";
            xml += "<p:NewInternalClient>" + m.internal.address.to_string() + "</p:NewInternalClient>";
            xml += "<p:NewEnabled>" + boolean_text(m.enabled) + "</p:NewEnabled>";
            xml += "<p:NewDescription>" + xml_escaped(m.description) + "</p:NewDescription>";
            xml += "<p:NewLeaseTime>" + std::to_string(remaining_lease_seconds(m, now)) + "</p:NewLeaseTime>";
            xml += "</p:PortMappingEntry>";
        }
        return {{xml + "</p:PortMappingList>"}, {}};
    });
}

}  // namespace gw

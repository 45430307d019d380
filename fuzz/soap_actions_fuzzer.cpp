// libFuzzer harness for the SOAP layer: a raw control request body is parsed with ixml
// the way pupnp's soap_device.c does (the Body's first element is printed and
// re-parsed as its own document), its arguments are read and validated for the
// service its namespace names in both IGD versions, and valid calls are run against
// mapping policies (one secure, one not) kept across inputs. No network, no pupnp
// runtime: only ixml and the pure igd/ layers.
#include <upnp/ixml.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "igd/mapping_policy.hpp"
#include "igd/service_table.hpp"
#include "igd/soap_arguments.hpp"

namespace {

using namespace gw;

[[noreturn]] void invariant_broken(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "soap_actions invariant broken: %s %s\n", what, detail.c_str());
    std::abort();
}

std::string_view local_name(const char* name) {
    std::string_view n = name ? name : "";
    auto colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

IXML_Node* first_element_child(IXML_Node* node) {
    for (IXML_Node* c = node ? ixmlNode_getFirstChild(node) : nullptr; c; c = ixmlNode_getNextSibling(c))
        if (ixmlNode_getNodeType(c) == eELEMENT_NODE) return c;
    return nullptr;
}

IXML_Node* child_named(IXML_Node* node, std::string_view name) {
    for (IXML_Node* c = node ? ixmlNode_getFirstChild(node) : nullptr; c; c = ixmlNode_getNextSibling(c))
        if (ixmlNode_getNodeType(c) == eELEMENT_NODE && local_name(ixmlNode_getNodeName(c)) == name) return c;
    return nullptr;
}

// pupnp answers requests at a control path; here the namespace picks the service, as
// the control path would (urn:schemas-upnp-org:service:WANIPConnection:2).
const IgdService* service_named_in(std::string_view service_type) {
    for (const IgdService& service : igd_services()) {
        std::string prefix = "urn:schemas-upnp-org:service:" + std::string(service.type_name) + ":";
        if (service_type.starts_with(prefix)) return &service;
    }
    return nullptr;
}

IgdConfig policy_config(bool secure) {
    IgdConfig config;
    config.secure_mode = secure;
    config.per_client_limit = 16;
    config.max_mappings = 32;
    config.permissions = default_upnp_permissions({Ipv4Network::parse("192.168.0.0/16").value()});
    return config;
}

const Ipv4Address requester = Ipv4Address::from_octets(192, 168, 1, 10);
Instant now = std::chrono::seconds(1000);

void check_granted(const std::variant<PortMapping, MappingRefusal>& granted) {
    const PortMapping* m = std::get_if<PortMapping>(&granted);
    if (!m) return;
    if (m->external.value == 0) invariant_broken("granted external port 0");
    if (m->description.size() > max_description_bytes) invariant_broken("description longer than the maximum");
    for (unsigned char c : m->description)
        if (c < 0x20 || c == 0x7f) invariant_broken("control character kept in a description");
    if (m->expires && *m->expires <= now) invariant_broken("granted a lease already over");
}

void run_on_policy(MappingPolicy& policy, const ActionCall& call) {
    const ActionArguments& args = call.arguments;
    switch (call.action->id) {
        case IgdActionId::add_port_mapping:
        case IgdActionId::add_any_port_mapping: {
            const auto& a = std::get<AddPortMappingArgs>(args);
            PortMapping requested = a.requested();
            bool any = call.action->id == IgdActionId::add_any_port_mapping;
            check_granted(any ? policy.grant_any(requested, requester, a.lease_seconds, now)
                              : policy.grant(requested, requester, a.lease_seconds, now));
            break;
        }
        case IgdActionId::delete_port_mapping: {
            const auto& k = std::get<PortMappingKey>(args);
            policy.remove(k.protocol, k.external_port, k.remote_host, requester, now);
            break;
        }
        case IgdActionId::get_specific_port_mapping_entry: {
            const auto& k = std::get<PortMappingKey>(args);
            const PortMapping* m = policy.find(k.protocol, k.external_port, k.remote_host, now);
            if (m && (m->protocol != k.protocol || m->external != k.external_port))
                invariant_broken("find returned another mapping");
            break;
        }
        case IgdActionId::get_generic_port_mapping_entry:
            policy.at_index(std::get<PortMappingIndexArgs>(args).index, now);
            break;
        case IgdActionId::delete_port_mapping_range: {
            const auto& r = std::get<PortRangeArgs>(args);
            policy.remove_range(r.protocol, r.ports, requester, r.manage, now);
            break;
        }
        case IgdActionId::get_list_of_port_mappings: {
            const auto& l = std::get<ListPortMappingsArgs>(args);
            auto listed = policy.list(l.range.protocol, l.range.ports, l.max_entries, now);
            if (l.max_entries != 0 && listed.size() > l.max_entries) invariant_broken("list longer than asked");
            for (const PortMapping& m : listed)
                if (!l.range.ports.contains(m.external) || m.protocol != l.range.protocol)
                    invariant_broken("list returned a mapping outside the range");
            break;
        }
        default: break;
    }
    if (policy.size() > 32) invariant_broken("policy holds more than max_mappings");
}

// The response document for the action's OUT arguments must always build.
void check_response(const IgdAction& action, std::string_view service_type) {
    std::vector<std::string> values;
    for (const ActionArgument& argument : action.arguments)
        if (argument.direction == ArgumentDirection::out) values.push_back("<&\"value\">");
    if (!make_action_response(action, service_type, values)) invariant_broken("response did not build");
}

void validate_and_run(IXML_Document* action_document, std::string_view action_name) {
    static MappingPolicy secure(policy_config(true), {{Protocol::tcp, PortRange{3389, 3389}}});
    static MappingPolicy open(policy_config(false), {});
    std::optional<SoapArguments> arguments = read_soap_arguments(action_document);
    std::string service_type = request_service_type(action_document);
    const IgdService* service = service_named_in(service_type);
    if (!arguments || !service) return;
    for (int version : {1, 2}) {
        ParsedAction parsed = parse_action_call(*service, action_name, *arguments, version);
        const ActionCall* call = parsed ? &*parsed : nullptr;
        if (!call) continue;
        if (!call->action || call->action->name != action_name) invariant_broken("validated another action");
        check_response(*call->action, service_type);
        run_on_policy(secure, *call);
        run_on_policy(open, *call);
    }
    secure.expire(now);
    open.expire(now);
}

}  // namespace

// pupnp 1.8.4's ixml parser leaks the text node it was building when text follows the
// root element ("<a/>#"; ixmlParseBuffer returns null): not ours to fix, and pupnp
// parses every request before gatewayd sees it. Suppressed by the parser's name only,
// so a leak of a node gatewayd creates (make_action_response) is still reported; that
// needs whole stacks through libixml, which has no frame pointers.
extern "C" const char* __lsan_default_suppressions() { return "leak:ixmlParseBuffer\n"; }
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0:malloc_context_size=8"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    now += std::chrono::seconds(7);
    std::string body(reinterpret_cast<const char*>(data), size);  // ixml wants a C string
    IxmlDocumentPtr envelope(ixmlParseBuffer(body.c_str()));
    if (!envelope) return 0;
    IXML_Node* root = first_element_child(reinterpret_cast<IXML_Node*>(envelope.get()));
    IXML_Node* action = first_element_child(child_named(root, "Body"));
    if (!action) return 0;
    DOMString printed = ixmlNodetoString(action);
    if (!printed) return 0;
    IxmlDocumentPtr action_document(ixmlParseBuffer(printed));
    ixmlFreeDOMString(printed);
    if (!action_document) return 0;
    validate_and_run(action_document.get(), local_name(ixmlNode_getNodeName(action)));
    return 0;
}

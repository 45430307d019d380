#include "igd/soap_arguments.hpp"

#include <upnptools.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gw {
namespace {

Unexpected<SoapFault> fault(UpnpError error) { return unexpected(SoapFault{error}); }

// XML Schema collapses whitespace around numbers and booleans, and ixml hands text over
// verbatim, so "<NewExternalPort> 80 </NewExternalPort>" means 80.
std::string_view trim(std::string_view text) {
    constexpr std::string_view space = " \t\r\n";
    auto first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// UDA 1.0 2.3: boolean is "0", "false" or "no" / "1", "true" or "yes".
std::optional<bool> parse_boolean(std::string_view text) {
    for (auto word : {"0", "false", "no"})
        if (equals_ignoring_case(text, word)) return false;
    for (auto word : {"1", "true", "yes"})
        if (equals_ignoring_case(text, word)) return true;
    return std::nullopt;
}

// Digits only: no sign, no "0x", nothing after. ui4 has at most 10 digits.
std::optional<std::uint32_t> parse_unsigned(std::string_view text, std::uint32_t max) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

// One IN argument, checked against its state variable: number and flag hold the parsed
// value of numeric and boolean arguments.
struct CheckedArgument {
    std::string_view raw;   // as sent
    std::string_view text;  // trimmed
    std::uint32_t number = 0;
    bool flag = false;
};

class CheckedArguments {
public:
    void add(std::string_view name, CheckedArgument argument) { entries_.emplace_back(name, argument); }
    bool contains(std::string_view name) const { return find(name) != nullptr; }
    // Every name the per-action rules ask for is an IN argument of that action in the
    // table, so it is here; an empty argument stands in if the two ever disagree.
    const CheckedArgument& operator[](std::string_view name) const {
        static const CheckedArgument missing;
        const CheckedArgument* argument = find(name);
        return argument ? *argument : missing;
    }
    std::uint16_t port(std::string_view name) const { return static_cast<std::uint16_t>((*this)[name].number); }

private:
    const CheckedArgument* find(std::string_view name) const {
        for (const auto& [entry_name, argument] : entries_)
            if (entry_name == name) return &argument;
        return nullptr;
    }
    std::vector<std::pair<std::string_view, CheckedArgument>> entries_;
};

Expected<void, SoapFault> check_value(const StateVariable& variable, CheckedArgument& argument) {
    switch (variable.type) {
    case UpnpDataType::string:
        if (argument.raw.size() > max_string_argument_bytes) return fault(UpnpError::string_argument_too_long);
        if (!variable.allowed_values.empty() &&
            std::ranges::find(variable.allowed_values, argument.text) == variable.allowed_values.end())
            return fault(UpnpError::argument_value_out_of_range);
        return {};
    case UpnpDataType::boolean: {
        auto flag = parse_boolean(argument.text);
        if (!flag) return fault(UpnpError::invalid_args);
        argument.flag = *flag;
        return {};
    }
    case UpnpDataType::ui1:
    case UpnpDataType::ui2:
    case UpnpDataType::ui4: {
        auto number = parse_unsigned(argument.text, data_type_max(variable.type));
        if (!number) return fault(UpnpError::invalid_args);
        argument.number = *number;
        return {};
    }
    }
    return fault(UpnpError::invalid_args);
}

// Exactly the action's IN arguments, each once, each a value of its state variable.
Expected<CheckedArguments, SoapFault> check_arguments(const IgdService& service, const IgdAction& action,
                                                      const SoapArguments& arguments, int igd_version) {
    auto inputs = std::ranges::count(action.arguments, ArgumentDirection::in, &ActionArgument::direction);
    if (arguments.size() != static_cast<std::size_t>(inputs)) return fault(UpnpError::invalid_args);
    CheckedArguments checked;
    for (const auto& sent : arguments) {
        // Plain references, not a structured binding: clang 14 (the fuzz build) cannot
        // capture those in a lambda.
        const std::string& name = sent.first;
        const std::string& value = sent.second;
        auto declared = std::ranges::find_if(action.arguments, [&](const ActionArgument& argument) {
            return argument.direction == ArgumentDirection::in && argument.name == name;
        });
        if (declared == action.arguments.end() || checked.contains(declared->name))
            return fault(UpnpError::invalid_args);
        const StateVariable* variable = related_variable(service, *declared, igd_version);
        if (!variable) return fault(UpnpError::action_failed);  // the table test rules this out
        CheckedArgument argument{value, trim(value)};
        if (auto valid = check_value(*variable, argument); !valid) return unexpected(valid.error());
        checked.add(declared->name, argument);
    }
    return checked;
}

using TypedOutcome = Expected<ActionArguments, SoapFault>;

// NewProtocol has passed PortMappingProtocol's allowed values: "TCP" or "UDP".
Protocol protocol_of(const CheckedArgument& argument) {
    return argument.text == "UDP" ? Protocol::udp : Protocol::tcp;
}

// RemoteHost: "" is the wildcard. The specs also allow a DNS name; resolving one is not
// this layer's job (it does no I/O), so only dotted quads are accepted.
Expected<void, SoapFault> read_remote_host(const CheckedArgument& argument, std::optional<Ipv4Address>& out) {
    if (argument.text.empty()) return {};
    out = Ipv4Address::parse(argument.text);
    if (!out) return fault(UpnpError::invalid_args);
    return {};
}

std::uint32_t granted_lease(std::uint32_t requested, int igd_version) {
    if (igd_version < 2) return requested;  // IGD:1: 0 asks for a permanent mapping
    // WANIPConnection:2 2.3.16: "the value of 0 MUST be interpreted as the maximum value";
    // longer than the allowedValueRange is shortened to it too, like miniupnpd, rather
    // than refused: the control point renews either way.
    return (requested == 0 || requested > max_lease_seconds_v2) ? max_lease_seconds_v2 : requested;
}

TypedOutcome add_port_mapping(const CheckedArguments& in, int igd_version) {
    AddPortMappingArgs args;
    if (auto read = read_remote_host(in["NewRemoteHost"], args.remote_host); !read) return unexpected(read.error());
    args.external_port = Port{in.port("NewExternalPort")};
    args.protocol = protocol_of(in["NewProtocol"]);
    args.internal_port = Port{in.port("NewInternalPort")};
    args.enabled = in["NewEnabled"].flag;
    args.description = std::string(in["NewPortMappingDescription"].raw);
    args.lease_seconds = granted_lease(in["NewLeaseDuration"].number, igd_version);

    // A wildcard external port would forward every unmapped port: not offered (716).
    if (args.external_port.value == 0) return fault(UpnpError::wildcard_not_permitted_in_ext_port);
    // InternalPort 0 "is not allowed" (v1 2.2.17); IGD:2 gave it its own code.
    if (args.internal_port.value == 0)
        return fault(igd_version >= 2 ? UpnpError::wildcard_not_permitted_in_int_port : UpnpError::invalid_args);
    // 715: "InternalClient equals to an empty string" (v2 Table 2-40); 0.0.0.0 is no host either.
    const CheckedArgument& client = in["NewInternalClient"];
    if (client.text.empty()) return fault(UpnpError::wildcard_not_permitted_in_src_ip);
    auto address = Ipv4Address::parse(client.text);
    if (!address) return fault(UpnpError::invalid_args);
    if (address->host_order() == 0) return fault(UpnpError::wildcard_not_permitted_in_src_ip);
    args.internal_client = *address;
    return ActionArguments{std::move(args)};
}

TypedOutcome port_mapping_key(const CheckedArguments& in) {
    PortMappingKey key;
    if (auto read = read_remote_host(in["NewRemoteHost"], key.remote_host); !read) return unexpected(read.error());
    key.external_port = Port{in.port("NewExternalPort")};
    key.protocol = protocol_of(in["NewProtocol"]);
    return ActionArguments{key};
}

Expected<PortRangeArgs, SoapFault> port_range(const CheckedArguments& in) {
    PortRangeArgs range{PortRange{in.port("NewStartPort"), in.port("NewEndPort")}, protocol_of(in["NewProtocol"]),
                        in["NewManage"].flag};
    if (range.ports.first > range.ports.last) return fault(UpnpError::inconsistent_parameters);  // 2.5.19, 2.5.21
    return range;
}

TypedOutcome list_port_mappings(const CheckedArguments& in) {
    auto range = port_range(in);
    if (!range) return unexpected(range.error());
    return ActionArguments{ListPortMappingsArgs{*range, in.port("NewNumberOfPorts")}};
}

// WANIPv6FirewallControl's addresses: "" is the wildcard (the policy decides where one
// is allowed); otherwise an IPv6 literal. The spec allows a DNS name for RemoteHost too;
// resolving it is not this layer's job (no I/O), so it is 402 like any other text.
Expected<void, SoapFault> read_ipv6(const CheckedArgument& argument, std::optional<Ipv6Address>& out) {
    if (argument.text.empty()) return {};
    out = Ipv6Address::parse(argument.text);
    if (!out) return fault(UpnpError::invalid_args);
    return {};
}

TypedOutcome pinhole_request(const CheckedArguments& in, bool with_lease) {
    PinholeRequest request;
    if (auto read = read_ipv6(in["RemoteHost"], request.remote_host); !read) return unexpected(read.error());
    if (auto read = read_ipv6(in["InternalClient"], request.internal_client); !read) return unexpected(read.error());
    request.remote_port = in.port("RemotePort");
    request.internal_port = in.port("InternalPort");
    request.protocol = in.port("Protocol");
    if (with_lease) request.lease_seconds = in["LeaseTime"].number;
    return ActionArguments{request};
}

TypedOutcome typed_arguments(IgdActionId id, const CheckedArguments& in, int igd_version) {
    switch (id) {
    case IgdActionId::add_port_mapping:
    case IgdActionId::add_any_port_mapping: return add_port_mapping(in, igd_version);
    case IgdActionId::delete_port_mapping:
    case IgdActionId::get_specific_port_mapping_entry: return port_mapping_key(in);
    case IgdActionId::get_generic_port_mapping_entry:
        return ActionArguments{PortMappingIndexArgs{in.port("NewPortMappingIndex")}};
    case IgdActionId::delete_port_mapping_range: {
        auto range = port_range(in);
        if (!range) return unexpected(range.error());
        return ActionArguments{*range};
    }
    case IgdActionId::get_list_of_port_mappings: return list_port_mappings(in);
    case IgdActionId::set_connection_type:
        return ActionArguments{ConnectionTypeArgs{std::string(in["NewConnectionType"].text)}};
    case IgdActionId::set_default_connection_service:
        return ActionArguments{DefaultConnectionServiceArgs{std::string(in["NewDefaultConnectionService"].text)}};
    case IgdActionId::add_pinhole: return pinhole_request(in, true);
    case IgdActionId::get_outbound_pinhole_timeout: return pinhole_request(in, false);
    case IgdActionId::update_pinhole:
        return ActionArguments{UpdatePinholeArgs{in.port("UniqueID"), in["NewLeaseTime"].number}};
    case IgdActionId::delete_pinhole:
    case IgdActionId::get_pinhole_packets:
    case IgdActionId::check_pinhole_working: return ActionArguments{PinholeIdArgs{in.port("UniqueID")}};
    case IgdActionId::get_firewall_status:
    case IgdActionId::get_connection_type_info:
    case IgdActionId::request_connection:
    case IgdActionId::force_termination:
    case IgdActionId::get_status_info:
    case IgdActionId::get_nat_rsip_status:
    case IgdActionId::get_external_ip_address:
    case IgdActionId::get_common_link_properties:
    case IgdActionId::get_total_bytes_sent:
    case IgdActionId::get_total_bytes_received:
    case IgdActionId::get_total_packets_sent:
    case IgdActionId::get_total_packets_received:
    case IgdActionId::get_default_connection_service: return ActionArguments{std::monostate{}};
    }
    return fault(UpnpError::action_failed);
}

IXML_Node* as_node(IXML_Document* document) { return reinterpret_cast<IXML_Node*>(document); }

IXML_Node* first_element(IXML_Node* parent) {
    for (IXML_Node* node = ixmlNode_getFirstChild(parent); node; node = ixmlNode_getNextSibling(node))
        if (ixmlNode_getNodeType(node) == eELEMENT_NODE) return node;
    return nullptr;
}

std::string_view local_name(const char* qualified) {
    std::string_view name = qualified ? qualified : "";
    auto colon = name.rfind(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace


ParsedAction parse_action_call(const IgdService& service, std::string_view action_name,
                               const SoapArguments& arguments, int igd_version) {
    const IgdAction* action = find_action(service, action_name, igd_version);
    if (!action) return fault(UpnpError::invalid_action);
    auto checked = check_arguments(service, *action, arguments, igd_version);
    if (!checked) return unexpected(checked.error());
    auto typed = typed_arguments(action->id, *checked, igd_version);
    if (!typed) return unexpected(typed.error());
    return ActionCall{action, std::move(*typed)};
}

std::optional<SoapArguments> read_soap_arguments(IXML_Document* request) {
    IXML_Node* action = request ? first_element(as_node(request)) : nullptr;
    if (!action) return std::nullopt;
    SoapArguments arguments;
    for (IXML_Node* node = ixmlNode_getFirstChild(action); node; node = ixmlNode_getNextSibling(node)) {
        if (ixmlNode_getNodeType(node) != eELEMENT_NODE) continue;  // whitespace, comments
        std::string value;
        for (IXML_Node* part = ixmlNode_getFirstChild(node); part; part = ixmlNode_getNextSibling(part)) {
            auto type = ixmlNode_getNodeType(part);
            if (type == eELEMENT_NODE) return std::nullopt;
            const char* text = ixmlNode_getNodeValue(part);
            if ((type == eTEXT_NODE || type == eCDATA_SECTION_NODE) && text) value += text;
        }
        arguments.emplace_back(std::string(local_name(ixmlNode_getNodeName(node))), std::move(value));
    }
    return arguments;
}

std::string request_service_type(IXML_Document* request) {
    IXML_Node* action = request ? first_element(as_node(request)) : nullptr;
    const char* uri = action ? ixmlNode_getNamespaceURI(action) : nullptr;
    std::string type = uri ? uri : "";
    // It is echoed as the answer's namespace: a URN's characters only, so that a client's
    // text can neither keep the answer from building (`...:1&amp;`, found by the
    // soap_actions fuzzer) nor be reflected as markup. Anything else: the service's own.
    const bool urn_characters = std::all_of(type.begin(), type.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '.' || c == '-' || c == '_';
    });
    return urn_characters ? type : std::string();
}

namespace {

// WANIPConnection:2 2.5.21: NewPortListing is itself an XML document. Sent as escaped
// text it is valid SOAP, but miniupnpc (and so most control points) read it only as a
// CDATA section, which is also how miniupnpd sends it.
bool put_in_cdata(IXML_Document* document, const std::string& argument_name, const std::string& value) {
    IXML_NodeList* found = ixmlDocument_getElementsByTagName(document, argument_name.c_str());
    IXML_Node* element = found ? ixmlNodeList_item(found, 0) : nullptr;
    ixmlNodeList_free(found);
    if (!element) return false;
    while (IXML_Node* child = ixmlNode_getFirstChild(element)) {
        IXML_Node* removed = nullptr;
        ixmlNode_removeChild(element, child, &removed);
        ixmlNode_free(removed);
    }
    IXML_CDATASection* cdata = ixmlDocument_createCDATASection(document, value.c_str());
    return cdata && ixmlNode_appendChild(element, reinterpret_cast<IXML_Node*>(cdata)) == IXML_SUCCESS;
}

}  // namespace

IxmlDocumentPtr make_action_response(const IgdAction& action, std::string_view service_type,
                                     std::span<const std::string> out_values) {
    auto outputs = std::ranges::count(action.arguments, ArgumentDirection::out, &ActionArgument::direction);
    if (out_values.size() != static_cast<std::size_t>(outputs)) return nullptr;
    std::string name(action.name);
    std::string type(service_type);
    IXML_Document* document = UpnpMakeActionResponse(name.c_str(), type.c_str(), 0, nullptr);
    IxmlDocumentPtr response(document);
    if (!response) return nullptr;
    auto value = out_values.begin();
    for (const auto& argument : action.arguments) {
        if (argument.direction != ArgumentDirection::out) continue;
        std::string argument_name(argument.name);
        const std::string& text = *value++;
        bool listing = argument.related_variable == "A_ARG_TYPE_PortListing";
        if (UpnpAddToActionResponse(&document, name.c_str(), type.c_str(), argument_name.c_str(),
                                    listing ? "" : text.c_str()) != UPNP_E_SUCCESS)
            return nullptr;
        if (listing && !put_in_cdata(document, argument_name, text)) return nullptr;
    }
    return response;
}

void set_action_result(UpnpActionRequest* request, IxmlDocumentPtr response) {
    ixmlDocument_free(UpnpActionRequest_get_ActionResult(request));
    UpnpActionRequest_set_ActionResult(request, response.release());
    UpnpActionRequest_set_ErrCode(request, UPNP_E_SUCCESS);
}

void set_action_fault(UpnpActionRequest* request, const SoapFault& fault) {
    // pupnp frees the result only on success: drop one set earlier so it does not leak.
    ixmlDocument_free(UpnpActionRequest_get_ActionResult(request));
    UpnpActionRequest_set_ActionResult(request, nullptr);
    UpnpActionRequest_set_ErrCode(request, fault.code());
    UpnpActionRequest_strcpy_ErrStr(request, std::string(fault.description()).c_str());
}

}  // namespace gw

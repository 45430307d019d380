// SOAP arguments as control points send them, through the validation layer: what
// becomes a typed request, and which UPnP error each malformed request earns under
// IGD:1 and IGD:2 (UPnP-gw-WANIPConnection v1/v2, UDA 1.0 3.2.2).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "igd/soap_arguments.hpp"

namespace gw {
namespace {

// An AddPortMapping a game console would send: TCP 1.2.3.4:any -> 192.168.1.20:3074.
SoapArguments add_port_mapping() {
    return {{"NewRemoteHost", ""},
            {"NewExternalPort", "3074"},
            {"NewProtocol", "TCP"},
            {"NewInternalPort", "3074"},
            {"NewInternalClient", "192.168.1.20"},
            {"NewEnabled", "1"},
            {"NewPortMappingDescription", "Xbox"},
            {"NewLeaseDuration", "3600"}};
}

SoapArguments port_range() {
    return {{"NewStartPort", "1024"}, {"NewEndPort", "2048"}, {"NewProtocol", "UDP"}, {"NewManage", "0"}};
}

SoapArguments list_port_mappings() {
    auto arguments = port_range();
    arguments.emplace_back("NewNumberOfPorts", "0");
    return arguments;
}

SoapArguments with(SoapArguments arguments, const std::string& name, const std::string& value) {
    for (auto& [argument, text] : arguments)
        if (argument == name) text = value;
    return arguments;
}

SoapArguments without(SoapArguments arguments, const std::string& name) {
    std::erase_if(arguments, [&](const auto& argument) { return argument.first == name; });
    return arguments;
}

ParsedAction call(ServiceKind service, std::string_view action, const SoapArguments& arguments, int version) {
    return parse_action_call(igd_service(service), action, arguments, version);
}

ParsedAction call(std::string_view action, const SoapArguments& arguments, int version = 1) {
    return call(ServiceKind::wan_ip_connection, action, arguments, version);
}

int error_code(const ParsedAction& parsed) {
    return parsed ? 0 : parsed.error().code();
}

template <class Arguments>
Arguments accepted(const ParsedAction& parsed) {
    INFO("refused with " << error_code(parsed));
    REQUIRE(parsed.has_value());
    const auto& arguments = parsed.value().arguments;
    REQUIRE(std::holds_alternative<Arguments>(arguments));
    return std::get<Arguments>(arguments);
}

TEST_CASE("a well-formed AddPortMapping becomes typed arguments") {
    auto parsed = call("AddPortMapping", add_port_mapping());
    CHECK(parsed.value().action->id == IgdActionId::add_port_mapping);
    auto args = accepted<AddPortMappingArgs>(parsed);
    CHECK(args.remote_host == std::nullopt);
    CHECK(args.external_port == Port{3074});
    CHECK(args.protocol == Protocol::tcp);
    CHECK(args.internal_port == Port{3074});
    CHECK(args.internal_client == Ipv4Address::from_octets(192, 168, 1, 20));
    CHECK(args.enabled);
    CHECK(args.description == "Xbox");
    CHECK(args.lease_seconds == 3600);
}

TEST_CASE("arguments are matched by name, whatever order they come in") {
    auto arguments = add_port_mapping();
    std::reverse(arguments.begin(), arguments.end());
    CHECK(accepted<AddPortMappingArgs>(call("AddPortMapping", arguments)).external_port == Port{3074});
}

TEST_CASE("each malformed request earns the UPnP error the specs give it") {
    struct Row {
        const char* why;
        const char* action;
        SoapArguments arguments;
        int version;
        int code;
    };
    auto row = GENERATE(values<Row>({
        {"an action the service does not have", "FlushEverything", {}, 1, 401},
        {"an IGD:2 action asked of IGD:1", "AddAnyPortMapping", add_port_mapping(), 1, 401},
        {"a missing argument", "AddPortMapping", without(add_port_mapping(), "NewLeaseDuration"), 1, 402},
        {"an unknown argument", "GetExternalIPAddress", {{"NewVerbose", "1"}}, 1, 402},
        {"a repeated argument", "DeletePortMapping",
         {{"NewRemoteHost", ""}, {"NewExternalPort", "80"}, {"NewExternalPort", "80"}}, 1, 402},
        {"a port that is not a number", "AddPortMapping", with(add_port_mapping(), "NewExternalPort", "http"), 1, 402},
        {"a port beyond ui2", "AddPortMapping", with(add_port_mapping(), "NewInternalPort", "65536"), 1, 402},
        {"a negative port", "AddPortMapping", with(add_port_mapping(), "NewExternalPort", "-1"), 1, 402},
        {"a boolean that is neither", "AddPortMapping", with(add_port_mapping(), "NewEnabled", "maybe"), 1, 402},
        {"a lease beyond ui4", "AddPortMapping", with(add_port_mapping(), "NewLeaseDuration", "4294967296"), 2, 402},
        {"a host name as internal client", "AddPortMapping",
         with(add_port_mapping(), "NewInternalClient", "xbox.lan"), 1, 402},
        {"a remote host that is not an address", "AddPortMapping",
         with(add_port_mapping(), "NewRemoteHost", "1.2.3"), 2, 402},
        {"internal port 0 in IGD:1", "AddPortMapping", with(add_port_mapping(), "NewInternalPort", "0"), 1, 402},
        {"a protocol outside TCP/UDP", "AddPortMapping", with(add_port_mapping(), "NewProtocol", "ICMP"), 1, 601},
        {"a protocol in lower case", "DeletePortMapping",
         {{"NewRemoteHost", ""}, {"NewExternalPort", "80"}, {"NewProtocol", "tcp"}}, 2, 601},
        {"a connection type not in its list", "SetConnectionType", {{"NewConnectionType", "PPPoE_Relay"}}, 1, 601},
        {"a description of 1025 bytes", "AddPortMapping",
         with(add_port_mapping(), "NewPortMappingDescription", std::string(1025, 'd')), 1, 605},
        {"an empty internal client", "AddPortMapping", with(add_port_mapping(), "NewInternalClient", ""), 1, 715},
        {"internal client 0.0.0.0", "AddAnyPortMapping", with(add_port_mapping(), "NewInternalClient", "0.0.0.0"),
         2, 715},
        {"external port 0 in IGD:1", "AddPortMapping", with(add_port_mapping(), "NewExternalPort", "0"), 1, 716},
        {"external port 0 in IGD:2", "AddPortMapping", with(add_port_mapping(), "NewExternalPort", "0"), 2, 716},
        {"external port 0 to AddAnyPortMapping", "AddAnyPortMapping",
         with(add_port_mapping(), "NewExternalPort", "0"), 2, 716},
        {"internal port 0 in IGD:2", "AddPortMapping", with(add_port_mapping(), "NewInternalPort", "0"), 2, 732},
        {"internal port 0 to AddAnyPortMapping", "AddAnyPortMapping",
         with(add_port_mapping(), "NewInternalPort", "0"), 2, 732},
        {"a range deleted backwards", "DeletePortMappingRange", with(port_range(), "NewStartPort", "4096"), 2, 733},
        {"a range listed backwards", "GetListOfPortMappings", with(list_port_mappings(), "NewEndPort", "80"), 2, 733},
    }));
    INFO(row.why);
    CHECK(error_code(call(row.action, row.arguments, row.version)) == row.code);
}

TEST_CASE("every error code carries the description the specs spell") {
    auto [error, description] = GENERATE(table<UpnpError, std::string_view>({
        {UpnpError::invalid_action, "Invalid Action"},
        {UpnpError::invalid_args, "Invalid Args"},
        {UpnpError::action_failed, "Action Failed"},
        {UpnpError::argument_value_out_of_range, "Argument Value Out of Range"},
        {UpnpError::string_argument_too_long, "String Argument Too Long"},
        {UpnpError::action_not_authorized, "Action not authorized"},
        {UpnpError::specified_array_index_invalid, "SpecifiedArrayIndexInvalid"},
        {UpnpError::no_such_entry_in_array, "NoSuchEntryInArray"},
        {UpnpError::wildcard_not_permitted_in_src_ip, "WildCardNotPermittedInSrcIP"},
        {UpnpError::wildcard_not_permitted_in_ext_port, "WildCardNotPermittedInExtPort"},
        {UpnpError::conflict_in_mapping_entry, "ConflictInMappingEntry"},
        {UpnpError::same_port_values_required, "SamePortValuesRequired"},
        {UpnpError::only_permanent_leases_supported, "OnlyPermanentLeasesSupported"},
        {UpnpError::remote_host_only_supports_wildcard, "RemoteHostOnlySupportsWildcard"},
        {UpnpError::external_port_only_supports_wildcard, "ExternalPortOnlySupportsWildcard"},
        {UpnpError::no_port_maps_available, "NoPortMapsAvailable"},
        {UpnpError::conflict_with_other_mechanisms, "ConflictWithOtherMechanisms"},
        {UpnpError::port_mapping_not_found, "PortMappingNotFound"},
        {UpnpError::read_only, "ReadOnly"},
        {UpnpError::wildcard_not_permitted_in_int_port, "WildCardNotPermittedInIntPort"},
        {UpnpError::inconsistent_parameters, "InconsistentParameters"},
    }));
    CHECK(SoapFault{error}.description() == description);
}

TEST_CASE("IGD:1 keeps a lease of 0 as a request for a permanent mapping") {
    auto parsed = call("AddPortMapping", with(add_port_mapping(), "NewLeaseDuration", "0"), 1);
    CHECK(accepted<AddPortMappingArgs>(parsed).lease_seconds == 0);
}

TEST_CASE("IGD:1 passes a lease longer than a week on as asked, for the policy to cap") {
    auto parsed = call("AddPortMapping", with(add_port_mapping(), "NewLeaseDuration", "2000000"), 1);
    CHECK(accepted<AddPortMappingArgs>(parsed).lease_seconds == 2000000);
}

TEST_CASE("IGD:2 reads a lease of 0 as the one-week maximum (WANIPConnection:2 2.3.16)") {
    for (const char* action : {"AddPortMapping", "AddAnyPortMapping"}) {
        auto parsed = call(action, with(add_port_mapping(), "NewLeaseDuration", "0"), 2);
        CHECK(accepted<AddPortMappingArgs>(parsed).lease_seconds == 604800);
    }
}

TEST_CASE("IGD:2 shortens a lease beyond its allowed range to a week and keeps shorter ones") {
    auto longer = call("AddPortMapping", with(add_port_mapping(), "NewLeaseDuration", "604801"), 2);
    CHECK(accepted<AddPortMappingArgs>(longer).lease_seconds == 604800);
    auto shorter = call("AddPortMapping", with(add_port_mapping(), "NewLeaseDuration", "1"), 2);
    CHECK(accepted<AddPortMappingArgs>(shorter).lease_seconds == 1);
}

TEST_CASE("a specific remote host narrows the mapping and the wildcard is the empty string") {
    auto narrow = call("AddPortMapping", with(add_port_mapping(), "NewRemoteHost", "203.0.113.9"), 1);
    CHECK(accepted<AddPortMappingArgs>(narrow).remote_host == Ipv4Address::from_octets(203, 0, 113, 9));
    SoapArguments wildcard{{"NewRemoteHost", ""}, {"NewExternalPort", "80"}, {"NewProtocol", "UDP"}};
    auto key = accepted<PortMappingKey>(call("GetSpecificPortMappingEntry", wildcard));
    CHECK(key == PortMappingKey{std::nullopt, Port{80}, Protocol::udp});
}

TEST_CASE("whitespace around numbers and addresses is ignored, descriptions stay as sent") {
    auto arguments = with(add_port_mapping(), "NewExternalPort", " 8080\r\n");
    arguments = with(arguments, "NewInternalClient", "\t192.168.1.20 ");
    arguments = with(arguments, "NewPortMappingDescription", "  two  spaces ");
    auto args = accepted<AddPortMappingArgs>(call("AddPortMapping", arguments));
    CHECK(args.external_port == Port{8080});
    CHECK(args.internal_client == Ipv4Address::from_octets(192, 168, 1, 20));
    CHECK(args.description == "  two  spaces ");
}

TEST_CASE("booleans are 0/1, true/false or yes/no in any case") {
    for (auto [text, value] : {std::pair{"0", false}, {"no", false}, {"False", false}, {"1", true}, {"YES", true},
                               {"true", true}}) {
        INFO(text);
        CHECK(accepted<AddPortMappingArgs>(call("AddPortMapping", with(add_port_mapping(), "NewEnabled", text)))
                  .enabled == value);
    }
}

TEST_CASE("GetGenericPortMappingEntry takes any ui2 index and leaves bounds to the policy") {
    CHECK(accepted<PortMappingIndexArgs>(call("GetGenericPortMappingEntry", {{"NewPortMappingIndex", "65535"}}))
              .index == 65535);
}

TEST_CASE("port ranges are inclusive and NewNumberOfPorts 0 asks for every mapping") {
    auto deleted = accepted<PortRangeArgs>(
        call("DeletePortMappingRange", with(with(port_range(), "NewEndPort", "1024"), "NewManage", "1"), 2));
    CHECK(deleted.ports == PortRange{1024, 1024});
    CHECK(deleted.protocol == Protocol::udp);
    CHECK(deleted.manage);
    auto listed = accepted<ListPortMappingsArgs>(call("GetListOfPortMappings", list_port_mappings(), 2));
    CHECK(listed.range.ports == PortRange{1024, 2048});
    CHECK(listed.max_entries == 0);
    listed = accepted<ListPortMappingsArgs>(
        call("GetListOfPortMappings", with(list_port_mappings(), "NewNumberOfPorts", "10"), 2));
    CHECK(listed.max_entries == 10);
}

TEST_CASE("actions without IN arguments are accepted bare") {
    for (const char* action : {"GetExternalIPAddress", "GetStatusInfo", "GetNATRSIPStatus", "RequestConnection"})
        CHECK(std::holds_alternative<std::monostate>((*call(action, {})).arguments));
    CHECK(error_code(call(ServiceKind::wan_common_interface_config, "GetTotalBytesSent", {}, 1)) == 0);
}

TEST_CASE("each service answers only its own actions") {
    CHECK(error_code(call(ServiceKind::layer3_forwarding, "AddPortMapping", add_port_mapping(), 1)) == 401);
    SoapArguments service{
        {"NewDefaultConnectionService", "uuid:x:WANConnectionDevice:1,urn:upnp-org:serviceId:WANIPConn1"}};
    auto parsed = call(ServiceKind::layer3_forwarding, "SetDefaultConnectionService", service, 2);
    CHECK(accepted<DefaultConnectionServiceArgs>(parsed).connection_service.ends_with("WANIPConn1"));
}

// ---- pupnp glue ----

IxmlDocumentPtr action_document(const char* xml) {
    IxmlDocumentPtr document(ixmlParseBuffer(xml));
    REQUIRE(document);
    return document;
}

TEST_CASE("arguments are read from pupnp's action document, prefixes and empty elements included") {
    auto document = action_document(
        "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">\n"
        "<NewRemoteHost></NewRemoteHost>\n<u:NewExternalPort>80</u:NewExternalPort>\n"
        "<NewPortMappingDescription>a &amp; b</NewPortMappingDescription><NewEnabled/></u:AddPortMapping>");
    auto arguments = read_soap_arguments(document.get());
    REQUIRE(arguments);
    CHECK(*arguments == SoapArguments{{"NewRemoteHost", ""},
                                      {"NewExternalPort", "80"},
                                      {"NewPortMappingDescription", "a & b"},
                                      {"NewEnabled", ""}});
    CHECK(request_service_type(document.get()) == "urn:schemas-upnp-org:service:WANIPConnection:1");
}

TEST_CASE("a service type with other than a URN's characters is not echoed into the answer") {
    // Found by the soap_actions fuzzer: "...Layer3Forwarding:1&amp;" kept the answer from building.
    auto document = action_document(
        "<u:SetDefaultConnectionService xmlns:u=\"urn:schemas-upnp-org:service:Layer3Forwarding:1&amp;\">"
        "<NewDefaultConnectionService>x</NewDefaultConnectionService></u:SetDefaultConnectionService>");
    CHECK(request_service_type(document.get()).empty());
    auto markup = action_document("<u:GetStatusInfo xmlns:u=\"urn:x&quot;&gt;&lt;y\"/>");
    CHECK(request_service_type(markup.get()).empty());
}

TEST_CASE("an argument holding elements instead of text is refused") {
    auto document = action_document("<u:DeletePortMapping xmlns:u=\"urn:x\"><NewRemoteHost><a/></NewRemoteHost>"
                                     "</u:DeletePortMapping>");
    CHECK_FALSE(read_soap_arguments(document.get()));
    CHECK_FALSE(read_soap_arguments(nullptr));
}

TEST_CASE("a response names the action's OUT arguments from the table, in order") {
    const IgdAction& action = igd_action(IgdActionId::get_specific_port_mapping_entry);
    std::vector<std::string> values{"3074", "192.168.1.20", "1", "Xbox & co", "3599"};
    auto response = make_action_response(action, "urn:schemas-upnp-org:service:WANIPConnection:1", values);
    REQUIRE(response);
    auto arguments = read_soap_arguments(response.get());
    REQUIRE(arguments);
    CHECK(*arguments == SoapArguments{{"NewInternalPort", "3074"},
                                      {"NewInternalClient", "192.168.1.20"},
                                      {"NewEnabled", "1"},
                                      {"NewPortMappingDescription", "Xbox & co"},
                                      {"NewLeaseDuration", "3599"}});
    IXML_Node* element = ixmlNode_getFirstChild(reinterpret_cast<IXML_Node*>(response.get()));
    CHECK(std::string(ixmlNode_getNodeName(element)) == "u:GetSpecificPortMappingEntryResponse");
    CHECK(request_service_type(response.get()) == "urn:schemas-upnp-org:service:WANIPConnection:1");
    values.pop_back();
    CHECK_FALSE(make_action_response(action, "urn:schemas-upnp-org:service:WANIPConnection:1", values));
}

TEST_CASE("a response to an action without OUT arguments is an empty element") {
    auto response = make_action_response(igd_action(IgdActionId::add_port_mapping), "urn:x", {});
    REQUIRE(response);
    CHECK(read_soap_arguments(response.get())->empty());
}

TEST_CASE("a fault reaches pupnp as ErrCode and ErrStr, and drops a result set before") {
    UpnpActionRequest* request = UpnpActionRequest_new();
    set_action_result(request, make_action_response(igd_action(IgdActionId::add_port_mapping), "urn:x", {}));
    CHECK(UpnpActionRequest_get_ActionResult(request) != nullptr);
    set_action_fault(request, SoapFault{UpnpError::conflict_in_mapping_entry});
    CHECK(UpnpActionRequest_get_ErrCode(request) == 718);
    CHECK(std::string(UpnpActionRequest_get_ErrStr_cstr(request)) == "ConflictInMappingEntry");
    CHECK(UpnpActionRequest_get_ActionResult(request) == nullptr);
    UpnpActionRequest_delete(request);
}

TEST_CASE("a result reaches pupnp with success, for pupnp to send and free") {
    UpnpActionRequest* request = UpnpActionRequest_new();
    UpnpActionRequest_set_ErrCode(request, 501);
    set_action_result(request, make_action_response(igd_action(IgdActionId::get_external_ip_address), "urn:x",
                                                    std::vector<std::string>{"198.51.100.4"}));
    CHECK(UpnpActionRequest_get_ErrCode(request) == UPNP_E_SUCCESS);
    IxmlDocumentPtr sent(UpnpActionRequest_get_ActionResult(request));  // what pupnp would free
    REQUIRE(sent);
    CHECK(*read_soap_arguments(sent.get()) == SoapArguments{{"NewExternalIPAddress", "198.51.100.4"}});
    UpnpActionRequest_delete(request);
}

}  // namespace
}  // namespace gw

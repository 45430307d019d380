// The IGD's description and SCPDs as a control point reads them: parsed back with ixml,
// they must announce the device tree, services and actions the UPnP IGD specs define,
// with version 1 (what Windows recognises) by default.
#include <catch2/catch.hpp>

#include <ixml.h>

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "igd/device_description.hpp"

namespace gw {
namespace {

constexpr const char* root_uuid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

struct DocumentFree {
    void operator()(IXML_Document* document) const { ixmlDocument_free(document); }
};
using Document = std::unique_ptr<IXML_Document, DocumentFree>;

Document parse(const std::string& xml) {
    Document document(ixmlParseBuffer(xml.c_str()));
    REQUIRE(document);
    return document;
}

IXML_Node* node(void* n) { return static_cast<IXML_Node*>(n); }

std::vector<IXML_Node*> children_named(IXML_Node* parent, std::string_view name) {
    std::vector<IXML_Node*> found;
    for (IXML_Node* child = ixmlNode_getFirstChild(parent); child; child = ixmlNode_getNextSibling(child))
        if (ixmlNode_getNodeType(child) == eELEMENT_NODE && name == ixmlNode_getNodeName(child))
            found.push_back(child);
    return found;
}

IXML_Node* child_named(IXML_Node* parent, std::string_view name) {
    auto found = children_named(parent, name);
    REQUIRE(found.size() == 1);
    return found.front();
}

std::string text_of(IXML_Node* element) {
    IXML_Node* text = ixmlNode_getFirstChild(element);
    return text && ixmlNode_getNodeValue(text) ? ixmlNode_getNodeValue(text) : "";
}

std::string child_text(IXML_Node* parent, std::string_view name) { return text_of(child_named(parent, name)); }

// Text of every element with this tag, in document order.
std::vector<std::string> all_texts(IXML_Document* document, const char* tag) {
    std::vector<std::string> texts;
    IXML_NodeList* list = ixmlDocument_getElementsByTagName(document, tag);
    for (unsigned long i = 0; list && i < ixmlNodeList_length(list); ++i)
        texts.push_back(text_of(ixmlNodeList_item(list, i)));
    ixmlNodeList_free(list);
    return texts;
}

DescriptionParams params(int igd_version) {
    DescriptionParams p;
    p.igd_version = igd_version;
    p.uuid = root_uuid;
    p.friendly_name = "Home router";
    return p;
}

IXML_Node* root_device(IXML_Document* document) {
    return child_named(child_named(node(document), "root"), "device");
}

std::vector<std::string> action_names(IXML_Document* scpd) {
    std::vector<std::string> names;
    IXML_Node* list = child_named(child_named(node(scpd), "scpd"), "actionList");
    for (IXML_Node* action : children_named(list, "action")) names.push_back(child_text(action, "name"));
    return names;
}

// name -> the <stateVariable> element
std::vector<std::pair<std::string, IXML_Node*>> state_variables(IXML_Document* scpd) {
    std::vector<std::pair<std::string, IXML_Node*>> variables;
    IXML_Node* table = child_named(child_named(node(scpd), "scpd"), "serviceStateTable");
    for (IXML_Node* variable : children_named(table, "stateVariable"))
        variables.emplace_back(child_text(variable, "name"), variable);
    return variables;
}

IXML_Node* state_variable(IXML_Document* scpd, std::string_view name) {
    for (auto& [variable_name, element] : state_variables(scpd))
        if (variable_name == name) return element;
    FAIL("no state variable " << name);
    return nullptr;
}

std::string attribute(IXML_Node* element, const char* name) {
    const char* value = ixmlElement_getAttribute(reinterpret_cast<IXML_Element*>(element), name);
    return value ? value : "";
}

// (name, direction, relatedStateVariable) of each argument of one action.
std::vector<std::string> arguments_of(IXML_Document* scpd, std::string_view action_name) {
    IXML_Node* list = child_named(child_named(node(scpd), "scpd"), "actionList");
    for (IXML_Node* action : children_named(list, "action")) {
        if (child_text(action, "name") != action_name) continue;
        std::vector<std::string> arguments;
        for (IXML_Node* argument_list : children_named(action, "argumentList"))
            for (IXML_Node* argument : children_named(argument_list, "argument"))
                arguments.push_back(child_text(argument, "name") + ' ' + child_text(argument, "direction") + ' ' +
                                    child_text(argument, "relatedStateVariable"));
        return arguments;
    }
    FAIL("no action " << action_name);
    return {};
}

TEST_CASE("the default description announces InternetGatewayDevice:1 with WANIPConnection:1") {
    DescriptionParams p;
    p.uuid = root_uuid;
    auto document = parse(device_description_xml(p));
    CHECK(all_texts(document.get(), "deviceType") ==
          std::vector<std::string>{"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                                   "urn:schemas-upnp-org:device:WANDevice:1",
                                   "urn:schemas-upnp-org:device:WANConnectionDevice:1"});
    CHECK(all_texts(document.get(), "serviceType") ==
          std::vector<std::string>{"urn:schemas-upnp-org:service:Layer3Forwarding:1",
                                   "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
                                   "urn:schemas-upnp-org:service:WANIPConnection:1"});
    CHECK(all_texts(document.get(), "serviceId") ==
          std::vector<std::string>{"urn:upnp-org:serviceId:L3Forwarding1", "urn:upnp-org:serviceId:WANCommonIFC1",
                                   "urn:upnp-org:serviceId:WANIPConn1"});
}

TEST_CASE("an IGD:2 description raises the devices and WANIPConnection to 2 and keeps the :1 services") {
    auto document = parse(device_description_xml(params(2)));
    CHECK(all_texts(document.get(), "deviceType") ==
          std::vector<std::string>{"urn:schemas-upnp-org:device:InternetGatewayDevice:2",
                                   "urn:schemas-upnp-org:device:WANDevice:2",
                                   "urn:schemas-upnp-org:device:WANConnectionDevice:2"});
    CHECK(all_texts(document.get(), "serviceType") ==
          std::vector<std::string>{"urn:schemas-upnp-org:service:Layer3Forwarding:1",
                                   "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
                                   "urn:schemas-upnp-org:service:WANIPConnection:2",
                                   "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"});
}

TEST_CASE("WANIPv6FirewallControl:1 is listed in IGD:2 only, beside WANIPConnection in the WANConnectionDevice") {
    auto v1 = parse(device_description_xml(params(1)));
    for (const auto& type : all_texts(v1.get(), "serviceType")) CHECK(type.find("WANIPv6FirewallControl") == std::string::npos);
    for (const auto& document : description_documents(params(1))) CHECK(document.path != "/igd/WANIP6FC.xml");
    for (const auto& endpoint : service_endpoints(params(1))) CHECK(endpoint.kind != ServiceKind::wan_ipv6_firewall_control);

    auto v2 = parse(device_description_xml(params(2)));
    IXML_Node* wan = child_named(child_named(root_device(v2.get()), "deviceList"), "device");
    IXML_Node* connection = child_named(child_named(wan, "deviceList"), "device");
    auto services = children_named(child_named(connection, "serviceList"), "service");
    REQUIRE(services.size() == 2);
    CHECK(child_text(services[1], "serviceType") == "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1");
    CHECK(child_text(services[1], "serviceId") == "urn:upnp-org:serviceId:WANIPv6Firewall1");
    CHECK(child_text(services[1], "SCPDURL") == "/igd/WANIP6FC.xml");
    CHECK(child_text(services[1], "controlURL") == "/ctl/IP6FCtl");
}

TEST_CASE("the WANIPv6FirewallControl SCPD has the spec's seven actions, arguments and evented variables") {
    auto scpd = parse(service_scpd_xml(ServiceKind::wan_ipv6_firewall_control, 2));
    CHECK(action_names(scpd.get()) ==
          std::vector<std::string>{"GetFirewallStatus", "GetOutboundPinholeTimeout", "AddPinhole", "UpdatePinhole",
                                   "DeletePinhole", "GetPinholePackets", "CheckPinholeWorking"});
    CHECK(arguments_of(scpd.get(), "AddPinhole") ==
          std::vector<std::string>{"RemoteHost in A_ARG_TYPE_IPv6Address", "RemotePort in A_ARG_TYPE_Port",
                                   "InternalClient in A_ARG_TYPE_IPv6Address", "InternalPort in A_ARG_TYPE_Port",
                                   "Protocol in A_ARG_TYPE_Protocol", "LeaseTime in A_ARG_TYPE_LeaseTime",
                                   "UniqueID out A_ARG_TYPE_UniqueID"});
    CHECK(arguments_of(scpd.get(), "UpdatePinhole") ==
          std::vector<std::string>{"UniqueID in A_ARG_TYPE_UniqueID", "NewLeaseTime in A_ARG_TYPE_LeaseTime"});
    CHECK(arguments_of(scpd.get(), "CheckPinholeWorking") ==
          std::vector<std::string>{"UniqueID in A_ARG_TYPE_UniqueID", "IsWorking out A_ARG_TYPE_Boolean"});
    std::vector<std::string> evented;
    for (auto& [name, element] : state_variables(scpd.get()))
        if (attribute(element, "sendEvents") == "yes") evented.push_back(name);
    CHECK(evented == std::vector<std::string>{"FirewallEnabled", "InboundPinholeAllowed"});
    IXML_Node* lease = state_variable(scpd.get(), "A_ARG_TYPE_LeaseTime");
    CHECK(child_text(child_named(lease, "allowedValueRange"), "minimum") == "1");
    CHECK(child_text(child_named(lease, "allowedValueRange"), "maximum") == "86400");
    CHECK(child_text(state_variable(scpd.get(), "A_ARG_TYPE_UniqueID"), "dataType") == "ui2");
}

TEST_CASE("each device and service sits where the IGD tree puts it") {
    auto document = parse(device_description_xml(params(1)));
    IXML_Node* gateway = root_device(document.get());
    CHECK(child_text(gateway, "friendlyName") == "Home router");
    CHECK(child_text(gateway, "manufacturer") == "gatewayd");
    CHECK(child_text(child_named(child_named(gateway, "serviceList"), "service"), "serviceType") ==
          "urn:schemas-upnp-org:service:Layer3Forwarding:1");
    IXML_Node* wan = child_named(child_named(gateway, "deviceList"), "device");
    CHECK(child_text(wan, "deviceType") == "urn:schemas-upnp-org:device:WANDevice:1");
    IXML_Node* common = child_named(child_named(wan, "serviceList"), "service");
    CHECK(child_text(common, "SCPDURL") == "/igd/WANCfg.xml");
    IXML_Node* connection = child_named(child_named(wan, "deviceList"), "device");
    IXML_Node* ip = child_named(child_named(connection, "serviceList"), "service");
    CHECK(child_text(ip, "serviceType") == "urn:schemas-upnp-org:service:WANIPConnection:1");
    CHECK(child_text(ip, "SCPDURL") == "/igd/WANIPCn.xml");
    CHECK(child_text(ip, "controlURL") == "/ctl/IPConn");
    CHECK(child_text(ip, "eventSubURL") == "/evt/IPConn");
    CHECK(children_named(connection, "deviceList").empty());
    CHECK(children_named(gateway, "presentationURL").empty());
}

TEST_CASE("the three devices get distinct UDNs derived from the root uuid") {
    auto document = parse(device_description_xml(params(1)));
    CHECK(all_texts(document.get(), "UDN") ==
          std::vector<std::string>{"uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                                   "uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c9",
                                   "uuid:6ba7b810-9dad-11d1-80b4-00c04fd430ca"});
    CHECK(device_udn("uuid:6BA7B810-9DAD-11D1-80B4-00C04FD430CF", DeviceKind::wan) ==
          "uuid:6BA7B810-9DAD-11D1-80B4-00C04FD430C0");
}

TEST_CASE("URLBase is announced only when the LAN HTTP endpoint is given") {
    auto p = params(1);
    CHECK(all_texts(parse(device_description_xml(p)).get(), "URLBase").empty());
    p.url_base = Endpoint{Ipv4Address::from_octets(192, 168, 1, 1), Port{5000}};
    CHECK(all_texts(parse(device_description_xml(p)).get(), "URLBase") ==
          std::vector<std::string>{"http://192.168.1.1:5000/"});
}

TEST_CASE("the friendly name is escaped, stripped of control characters and cut below 64 bytes") {
    auto p = params(1);
    p.friendly_name = "R&D <lab>\n\"router\"";
    CHECK(child_text(root_device(parse(device_description_xml(p)).get()), "friendlyName") ==
          "R&D <lab> \"router\"");
    p.friendly_name = std::string(62, 'x') + "\xc3\xa9" + "tail";  // é straddles byte 63
    CHECK(child_text(root_device(parse(device_description_xml(p)).get()), "friendlyName") == std::string(62, 'x'));
}

TEST_CASE("a malformed uuid or an unknown IGD version is a start-up error") {
    auto p = params(1);
    p.uuid = "not-a-uuid";
    CHECK_THROWS_AS(device_description_xml(p), std::invalid_argument);
    p = params(3);
    CHECK_THROWS_AS(device_description_xml(p), std::invalid_argument);
    CHECK_THROWS_AS(service_scpd_xml(ServiceKind::wan_ip_connection, 0), std::invalid_argument);
}

TEST_CASE("every argument of every SCPD names a state variable of the same SCPD, ins before outs") {
    for (int version : {1, 2}) {
        for (const auto& service : igd_services()) {
            auto scpd = parse(service_scpd_xml(service.kind, version));
            std::set<std::string> declared;
            for (auto& [name, element] : state_variables(scpd.get())) CHECK(declared.insert(name).second);
            std::set<std::string> actions;
            for (const auto& action : action_names(scpd.get())) {
                CHECK(actions.insert(action).second);
                bool seen_out = false;
                for (const auto& argument : arguments_of(scpd.get(), action)) {
                    INFO(service.type_name << ':' << version << ' ' << action << ": " << argument);
                    auto related = argument.substr(argument.rfind(' ') + 1);
                    CHECK(declared.count(related) == 1);
                    bool is_out = argument.find(" out ") != std::string::npos;
                    CHECK((is_out || !seen_out));
                    seen_out = seen_out || is_out;
                }
            }
        }
    }
}

TEST_CASE("the IGD:2 actions of WANIPConnection appear only in its IGD:2 SCPD") {
    std::vector<std::string> v1{"SetConnectionType",          "GetConnectionTypeInfo",      "RequestConnection",
                                "ForceTermination",           "GetStatusInfo",              "GetNATRSIPStatus",
                                "GetGenericPortMappingEntry", "GetSpecificPortMappingEntry", "AddPortMapping",
                                "DeletePortMapping",          "GetExternalIPAddress"};
    CHECK(action_names(parse(service_scpd_xml(ServiceKind::wan_ip_connection, 1)).get()) == v1);
    auto v2 = action_names(parse(service_scpd_xml(ServiceKind::wan_ip_connection, 2)).get());
    CHECK(v2.size() == v1.size() + 3);
    for (const char* added : {"AddAnyPortMapping", "DeletePortMappingRange", "GetListOfPortMappings"}) {
        CHECK(std::ranges::count(v2, std::string(added)) == 1);
        CHECK(std::ranges::count(v1, std::string(added)) == 0);
    }
    auto v1_variables = state_variables(parse(service_scpd_xml(ServiceKind::wan_ip_connection, 1)).get());
    for (auto& [name, element] : v1_variables) {
        CHECK(name != "SystemUpdateID");
        CHECK(name.rfind("A_ARG_TYPE_", 0) == std::string::npos);
    }
}

TEST_CASE("port mapping actions take the spec's arguments in the spec's order") {
    auto scpd = parse(service_scpd_xml(ServiceKind::wan_ip_connection, 2));
    CHECK(arguments_of(scpd.get(), "AddAnyPortMapping") ==
          std::vector<std::string>{"NewRemoteHost in RemoteHost", "NewExternalPort in ExternalPort",
                                   "NewProtocol in PortMappingProtocol", "NewInternalPort in InternalPort",
                                   "NewInternalClient in InternalClient", "NewEnabled in PortMappingEnabled",
                                   "NewPortMappingDescription in PortMappingDescription",
                                   "NewLeaseDuration in PortMappingLeaseDuration",
                                   "NewReservedPort out ExternalPort"});
    CHECK(arguments_of(scpd.get(), "GetGenericPortMappingEntry").front() ==
          "NewPortMappingIndex in PortMappingNumberOfEntries");
    CHECK(arguments_of(scpd.get(), "GetListOfPortMappings") ==
          std::vector<std::string>{"NewStartPort in ExternalPort", "NewEndPort in ExternalPort",
                                   "NewProtocol in PortMappingProtocol", "NewManage in A_ARG_TYPE_Manage",
                                   "NewNumberOfPorts in PortMappingNumberOfEntries",
                                   "NewPortListing out A_ARG_TYPE_PortListing"});
    CHECK(arguments_of(scpd.get(), "GetNATRSIPStatus") ==
          std::vector<std::string>{"NewRSIPAvailable out RSIPAvailable", "NewNATEnabled out NATEnabled"});
}

TEST_CASE("state variables carry the spec's data types and only the spec's are evented") {
    auto v1 = parse(service_scpd_xml(ServiceKind::wan_ip_connection, 1));
    for (auto [name, type] : {std::pair{"ExternalPort", "ui2"}, {"InternalPort", "ui2"},
                              {"PortMappingNumberOfEntries", "ui2"}, {"PortMappingLeaseDuration", "ui4"},
                              {"Uptime", "ui4"}, {"PortMappingEnabled", "boolean"}, {"NATEnabled", "boolean"},
                              {"RemoteHost", "string"}, {"InternalClient", "string"}})
        CHECK(child_text(state_variable(v1.get(), name), "dataType") == type);

    auto evented = [](IXML_Document* scpd) {
        std::vector<std::string> names;
        for (auto& [name, element] : state_variables(scpd))
            if (attribute(element, "sendEvents") == "yes") names.push_back(name);
        return names;
    };
    CHECK(evented(v1.get()) == std::vector<std::string>{"PossibleConnectionTypes", "ConnectionStatus",
                                                        "ExternalIPAddress", "PortMappingNumberOfEntries"});
    auto v2 = parse(service_scpd_xml(ServiceKind::wan_ip_connection, 2));
    CHECK(evented(v2.get()).back() == "SystemUpdateID");
    CHECK(evented(parse(service_scpd_xml(ServiceKind::wan_common_interface_config, 1)).get()) ==
          std::vector<std::string>{"PhysicalLinkStatus"});
    CHECK(evented(parse(service_scpd_xml(ServiceKind::layer3_forwarding, 1)).get()) ==
          std::vector<std::string>{"DefaultConnectionService"});
}

TEST_CASE("IGD:2 bounds the lease duration and internal port in its SCPD and IGD:1 does not") {
    auto v1 = parse(service_scpd_xml(ServiceKind::wan_ip_connection, 1));
    CHECK(children_named(state_variable(v1.get(), "PortMappingLeaseDuration"), "allowedValueRange").empty());
    CHECK(children_named(state_variable(v1.get(), "InternalPort"), "allowedValueRange").empty());
    auto v2 = parse(service_scpd_xml(ServiceKind::wan_ip_connection, 2));
    IXML_Node* lease = state_variable(v2.get(), "PortMappingLeaseDuration");
    IXML_Node* range = child_named(lease, "allowedValueRange");
    CHECK(child_text(range, "minimum") == "0");
    CHECK(child_text(range, "maximum") == "604800");
    CHECK(child_text(lease, "defaultValue") == "3600");
    CHECK(child_text(child_named(state_variable(v2.get(), "InternalPort"), "allowedValueRange"), "minimum") == "1");
}

TEST_CASE("PortMappingProtocol allows exactly TCP and UDP") {
    auto scpd = parse(service_scpd_xml(ServiceKind::wan_ip_connection, 1));
    IXML_Node* list = child_named(state_variable(scpd.get(), "PortMappingProtocol"), "allowedValueList");
    std::vector<std::string> values;
    for (IXML_Node* value : children_named(list, "allowedValue")) values.push_back(text_of(value));
    CHECK(values == std::vector<std::string>{"TCP", "UDP"});
}

TEST_CASE("the documents to serve are the description and one SCPD per service, under the IGD directory") {
    auto documents = description_documents(params(2));
    REQUIRE(documents.size() == 1 + igd_services().size());  // IGD:2 lists every service
    CHECK(documents.front().path == description_path);
    std::set<std::string> paths;
    for (const auto& document : documents) {
        CHECK(document.path.rfind(std::string(igd_document_directory) + "/", 0) == 0);
        CHECK(paths.insert(document.path).second);
        CHECK(parse(document.content));
    }
    CHECK(documents.back().content == service_scpd_xml(ServiceKind::wan_ipv6_firewall_control, 2));
}

TEST_CASE("each service endpoint carries the UDN of the device that lists it") {
    auto endpoints = service_endpoints(params(1));
    REQUIRE(endpoints.size() == 3);
    for (const auto& endpoint : endpoints) {
        const IgdService& service = igd_service(endpoint.kind);
        CHECK(endpoint.udn == device_udn(root_uuid, service.device));
        CHECK(find_service_by_id(endpoint.service_id) == &service);
        CHECK(find_service_by_control_path(endpoint.control_path) == &service);
    }
    CHECK(endpoints.back().service_type == "urn:schemas-upnp-org:service:WANIPConnection:1");
    CHECK(find_service_by_id("urn:upnp-org:serviceId:WANPPPConn1") == nullptr);
}

TEST_CASE("every action id leads back to its own entry and service in the table") {
    for (const auto& service : igd_services())
        for (const auto& action : service.actions) {
            CHECK(&igd_action(action.id) == &action);
            CHECK(&service_of(action.id) == &service);
        }
    CHECK(find_action(igd_service(ServiceKind::wan_ip_connection), "AddAnyPortMapping", 1) == nullptr);
    CHECK(find_action(igd_service(ServiceKind::wan_ip_connection), "AddAnyPortMapping", 2) != nullptr);
}

}  // namespace
}  // namespace gw

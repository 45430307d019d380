#include "igd/service_table.hpp"

#include <array>

namespace gw {
namespace {

using Type = UpnpDataType;
constexpr auto in = ArgumentDirection::in;
constexpr auto out = ArgumentDirection::out;

constexpr IgdAction action(IgdActionId id, std::string_view name, std::span<const ActionArgument> arguments,
                           IgdVersions versions = all_versions) {
    return {id, name, arguments, versions};
}

// ---- WANIPConnection (v1 template / v2 sections 2.3, 2.5) ----

constexpr std::array<std::string_view, 3> connection_types{"Unconfigured", "IP_Routed", "IP_Bridged"};
// v2 Table 2-4: Connecting, PendingDisconnect and Disconnecting are optional values.
constexpr std::array<std::string_view, 6> connection_statuses{
    "Unconfigured", "Connecting", "Connected", "PendingDisconnect", "Disconnecting", "Disconnected"};
// v2 Table 2-5.
constexpr std::array<std::string_view, 10> connection_errors{
    "ERROR_NONE",           "ERROR_COMMAND_ABORTED",   "ERROR_NOT_ENABLED_FOR_INTERNET",
    "ERROR_USER_DISCONNECT", "ERROR_ISP_DISCONNECT",   "ERROR_IDLE_DISCONNECT",
    "ERROR_FORCED_DISCONNECT", "ERROR_NO_CARRIER",     "ERROR_IP_CONFIGURATION",
    "ERROR_UNKNOWN"};
constexpr std::array<std::string_view, 2> protocols{"TCP", "UDP"};

constexpr std::array wan_ip_variables{
    // ConnectionType: IP_Routed is the v2 default (Table 2-3) and what a NAT router is.
    StateVariable{.name = "ConnectionType", .allowed_values = connection_types, .default_value = "IP_Routed"},
    StateVariable{.name = "PossibleConnectionTypes", .send_events = true, .allowed_values = connection_types},
    StateVariable{.name = "ConnectionStatus", .send_events = true, .allowed_values = connection_statuses,
                  .default_value = "Unconfigured"},
    StateVariable{.name = "Uptime", .type = Type::ui4},
    StateVariable{.name = "LastConnectionError", .allowed_values = connection_errors, .default_value = "ERROR_NONE"},
    StateVariable{.name = "RSIPAvailable", .type = Type::boolean, .default_value = "0"},
    StateVariable{.name = "NATEnabled", .type = Type::boolean, .default_value = "1"},
    StateVariable{.name = "ExternalIPAddress", .send_events = true},
    StateVariable{.name = "PortMappingNumberOfEntries", .type = Type::ui2, .send_events = true},
    StateVariable{.name = "PortMappingEnabled", .type = Type::boolean},
    // v1 declares no range (0 = a static mapping); v2 Table 2-6 bounds it to a week and
    // recommends 3600 as the default.
    StateVariable{.name = "PortMappingLeaseDuration", .type = Type::ui4, .versions = version_1_only},
    StateVariable{.name = "PortMappingLeaseDuration", .type = Type::ui4, .allowed_range = ValueRange{0, 604800},
                  .default_value = "3600", .versions = version_2_only},
    StateVariable{.name = "RemoteHost"},
    StateVariable{.name = "ExternalPort", .type = Type::ui2},
    StateVariable{.name = "InternalPort", .type = Type::ui2, .versions = version_1_only},
    StateVariable{.name = "InternalPort", .type = Type::ui2, .allowed_range = ValueRange{1, 65535},  // Table 2-7
                  .versions = version_2_only},
    StateVariable{.name = "PortMappingProtocol", .allowed_values = protocols},
    StateVariable{.name = "InternalClient"},
    StateVariable{.name = "PortMappingDescription"},
    StateVariable{.name = "SystemUpdateID", .type = Type::ui4, .send_events = true, .versions = version_2_only},
    StateVariable{.name = "A_ARG_TYPE_Manage", .type = Type::boolean, .versions = version_2_only},
    StateVariable{.name = "A_ARG_TYPE_PortListing", .versions = version_2_only},
};

constexpr std::array<ActionArgument, 1> set_connection_type_args{{{"NewConnectionType", in, "ConnectionType"}}};
constexpr std::array<ActionArgument, 2> get_connection_type_info_args{{
    {"NewConnectionType", out, "ConnectionType"},
    {"NewPossibleConnectionTypes", out, "PossibleConnectionTypes"},
}};
constexpr std::array<ActionArgument, 3> get_status_info_args{{
    {"NewConnectionStatus", out, "ConnectionStatus"},
    {"NewLastConnectionError", out, "LastConnectionError"},
    {"NewUptime", out, "Uptime"},
}};
constexpr std::array<ActionArgument, 2> get_nat_rsip_status_args{{
    {"NewRSIPAvailable", out, "RSIPAvailable"},
    {"NewNATEnabled", out, "NATEnabled"},
}};
constexpr std::array<ActionArgument, 9> get_generic_port_mapping_entry_args{{
    {"NewPortMappingIndex", in, "PortMappingNumberOfEntries"},
    {"NewRemoteHost", out, "RemoteHost"},
    {"NewExternalPort", out, "ExternalPort"},
    {"NewProtocol", out, "PortMappingProtocol"},
    {"NewInternalPort", out, "InternalPort"},
    {"NewInternalClient", out, "InternalClient"},
    {"NewEnabled", out, "PortMappingEnabled"},
    {"NewPortMappingDescription", out, "PortMappingDescription"},
    {"NewLeaseDuration", out, "PortMappingLeaseDuration"},
}};
constexpr std::array<ActionArgument, 8> get_specific_port_mapping_entry_args{{
    {"NewRemoteHost", in, "RemoteHost"},
    {"NewExternalPort", in, "ExternalPort"},
    {"NewProtocol", in, "PortMappingProtocol"},
    {"NewInternalPort", out, "InternalPort"},
    {"NewInternalClient", out, "InternalClient"},
    {"NewEnabled", out, "PortMappingEnabled"},
    {"NewPortMappingDescription", out, "PortMappingDescription"},
    {"NewLeaseDuration", out, "PortMappingLeaseDuration"},
}};
constexpr std::array<ActionArgument, 8> add_port_mapping_args{{
    {"NewRemoteHost", in, "RemoteHost"},
    {"NewExternalPort", in, "ExternalPort"},
    {"NewProtocol", in, "PortMappingProtocol"},
    {"NewInternalPort", in, "InternalPort"},
    {"NewInternalClient", in, "InternalClient"},
    {"NewEnabled", in, "PortMappingEnabled"},
    {"NewPortMappingDescription", in, "PortMappingDescription"},
    {"NewLeaseDuration", in, "PortMappingLeaseDuration"},
}};
// v2 Table 2-41: AddPortMapping's arguments, then the port actually reserved.
constexpr std::array<ActionArgument, 9> add_any_port_mapping_args{{
    {"NewRemoteHost", in, "RemoteHost"},
    {"NewExternalPort", in, "ExternalPort"},
    {"NewProtocol", in, "PortMappingProtocol"},
    {"NewInternalPort", in, "InternalPort"},
    {"NewInternalClient", in, "InternalClient"},
    {"NewEnabled", in, "PortMappingEnabled"},
    {"NewPortMappingDescription", in, "PortMappingDescription"},
    {"NewLeaseDuration", in, "PortMappingLeaseDuration"},
    {"NewReservedPort", out, "ExternalPort"},
}};
constexpr std::array<ActionArgument, 3> delete_port_mapping_args{{
    {"NewRemoteHost", in, "RemoteHost"},
    {"NewExternalPort", in, "ExternalPort"},
    {"NewProtocol", in, "PortMappingProtocol"},
}};
constexpr std::array<ActionArgument, 4> delete_port_mapping_range_args{{  // v2 Table 2-45
    {"NewStartPort", in, "ExternalPort"},
    {"NewEndPort", in, "ExternalPort"},
    {"NewProtocol", in, "PortMappingProtocol"},
    {"NewManage", in, "A_ARG_TYPE_Manage"},
}};
constexpr std::array<ActionArgument, 1> get_external_ip_address_args{{
    {"NewExternalIPAddress", out, "ExternalIPAddress"},
}};
constexpr std::array<ActionArgument, 6> get_list_of_port_mappings_args{{  // v2 Table 2-49
    {"NewStartPort", in, "ExternalPort"},
    {"NewEndPort", in, "ExternalPort"},
    {"NewProtocol", in, "PortMappingProtocol"},
    {"NewManage", in, "A_ARG_TYPE_Manage"},
    {"NewNumberOfPorts", in, "PortMappingNumberOfEntries"},
    {"NewPortListing", out, "A_ARG_TYPE_PortListing"},
}};

// v2 Table 2-10 order. RequestConnection and ForceTermination are REQUIRED of a device
// in both versions even though an always-on router can only refuse them.
constexpr std::array wan_ip_actions{
    action(IgdActionId::set_connection_type, "SetConnectionType", set_connection_type_args),
    action(IgdActionId::get_connection_type_info, "GetConnectionTypeInfo", get_connection_type_info_args),
    action(IgdActionId::request_connection, "RequestConnection", {}),
    action(IgdActionId::force_termination, "ForceTermination", {}),
    action(IgdActionId::get_status_info, "GetStatusInfo", get_status_info_args),
    action(IgdActionId::get_nat_rsip_status, "GetNATRSIPStatus", get_nat_rsip_status_args),
    action(IgdActionId::get_generic_port_mapping_entry, "GetGenericPortMappingEntry",
              get_generic_port_mapping_entry_args),
    action(IgdActionId::get_specific_port_mapping_entry, "GetSpecificPortMappingEntry",
              get_specific_port_mapping_entry_args),
    action(IgdActionId::add_port_mapping, "AddPortMapping", add_port_mapping_args),
    action(IgdActionId::add_any_port_mapping, "AddAnyPortMapping", add_any_port_mapping_args, version_2_only),
    action(IgdActionId::delete_port_mapping, "DeletePortMapping", delete_port_mapping_args),
    action(IgdActionId::delete_port_mapping_range, "DeletePortMappingRange", delete_port_mapping_range_args,
              version_2_only),
    action(IgdActionId::get_external_ip_address, "GetExternalIPAddress", get_external_ip_address_args),
    action(IgdActionId::get_list_of_port_mappings, "GetListOfPortMappings", get_list_of_port_mappings_args,
              version_2_only),
};

// ---- WANCommonInterfaceConfig:1 ----

constexpr std::array<std::string_view, 4> access_types{"DSL", "POTS", "Cable", "Ethernet"};
constexpr std::array<std::string_view, 4> link_statuses{"Up", "Down", "Initializing", "Unavailable"};

constexpr std::array wan_common_variables{
    StateVariable{.name = "WANAccessType", .allowed_values = access_types},
    StateVariable{.name = "Layer1UpstreamMaxBitRate", .type = Type::ui4},
    StateVariable{.name = "Layer1DownstreamMaxBitRate", .type = Type::ui4},
    StateVariable{.name = "PhysicalLinkStatus", .send_events = true, .allowed_values = link_statuses},
    StateVariable{.name = "TotalBytesSent", .type = Type::ui4},
    StateVariable{.name = "TotalBytesReceived", .type = Type::ui4},
    StateVariable{.name = "TotalPacketsSent", .type = Type::ui4},
    StateVariable{.name = "TotalPacketsReceived", .type = Type::ui4},
};

constexpr std::array<ActionArgument, 4> get_common_link_properties_args{{
    {"NewWANAccessType", out, "WANAccessType"},
    {"NewLayer1UpstreamMaxBitRate", out, "Layer1UpstreamMaxBitRate"},
    {"NewLayer1DownstreamMaxBitRate", out, "Layer1DownstreamMaxBitRate"},
    {"NewPhysicalLinkStatus", out, "PhysicalLinkStatus"},
}};
constexpr std::array<ActionArgument, 1> get_total_bytes_sent_args{{{"NewTotalBytesSent", out, "TotalBytesSent"}}};
constexpr std::array<ActionArgument, 1> get_total_bytes_received_args{
    {{"NewTotalBytesReceived", out, "TotalBytesReceived"}}};
constexpr std::array<ActionArgument, 1> get_total_packets_sent_args{
    {{"NewTotalPacketsSent", out, "TotalPacketsSent"}}};
constexpr std::array<ActionArgument, 1> get_total_packets_received_args{
    {{"NewTotalPacketsReceived", out, "TotalPacketsReceived"}}};

constexpr std::array wan_common_actions{
    action(IgdActionId::get_common_link_properties, "GetCommonLinkProperties", get_common_link_properties_args),
    action(IgdActionId::get_total_bytes_sent, "GetTotalBytesSent", get_total_bytes_sent_args),
    action(IgdActionId::get_total_bytes_received, "GetTotalBytesReceived", get_total_bytes_received_args),
    action(IgdActionId::get_total_packets_sent, "GetTotalPacketsSent", get_total_packets_sent_args),
    action(IgdActionId::get_total_packets_received, "GetTotalPacketsReceived", get_total_packets_received_args),
};

// ---- Layer3Forwarding:1 ----

constexpr std::array layer3_variables{
    StateVariable{.name = "DefaultConnectionService", .send_events = true},
};
constexpr std::array<ActionArgument, 1> set_default_connection_service_args{
    {{"NewDefaultConnectionService", in, "DefaultConnectionService"}}};
constexpr std::array<ActionArgument, 1> get_default_connection_service_args{
    {{"NewDefaultConnectionService", out, "DefaultConnectionService"}}};
// Both are REQUIRED by Layer3Forwarding:1; with one WAN connection the setter can only refuse.
constexpr std::array layer3_actions{
    action(IgdActionId::set_default_connection_service, "SetDefaultConnectionService",
              set_default_connection_service_args),
    action(IgdActionId::get_default_connection_service, "GetDefaultConnectionService",
              get_default_connection_service_args),
};

// ---- WANIPv6FirewallControl:1 (sections 2.3 and 2.4) ----

// FirewallEnabled and InboundPinholeAllowed are the only evented variables (Table 2-1);
// the service has no SystemUpdateID. The A_ARG_TYPE_ variables only type arguments.
constexpr std::array firewall_control_variables{
    StateVariable{.name = "FirewallEnabled", .type = Type::boolean, .send_events = true},
    StateVariable{.name = "InboundPinholeAllowed", .type = Type::boolean, .send_events = true},
    StateVariable{.name = "A_ARG_TYPE_IPv6Address"},
    StateVariable{.name = "A_ARG_TYPE_Port", .type = Type::ui2},
    StateVariable{.name = "A_ARG_TYPE_Protocol", .type = Type::ui2},
    StateVariable{.name = "A_ARG_TYPE_OutboundPinholeTimeout", .type = Type::ui4},
    StateVariable{.name = "A_ARG_TYPE_LeaseTime", .type = Type::ui4, .allowed_range = ValueRange{1, 86400}},
    StateVariable{.name = "A_ARG_TYPE_UniqueID", .type = Type::ui2},
    StateVariable{.name = "A_ARG_TYPE_Boolean", .type = Type::boolean},
    StateVariable{.name = "A_ARG_TYPE_PinholePackets", .type = Type::ui4},
};

constexpr std::array<ActionArgument, 2> get_firewall_status_args{{
    {"FirewallEnabled", out, "FirewallEnabled"},
    {"InboundPinholeAllowed", out, "InboundPinholeAllowed"},
}};
constexpr std::array<ActionArgument, 6> get_outbound_pinhole_timeout_args{{
    {"RemoteHost", in, "A_ARG_TYPE_IPv6Address"},
    {"RemotePort", in, "A_ARG_TYPE_Port"},
    {"InternalClient", in, "A_ARG_TYPE_IPv6Address"},
    {"InternalPort", in, "A_ARG_TYPE_Port"},
    {"Protocol", in, "A_ARG_TYPE_Protocol"},
    {"OutboundPinholeTimeout", out, "A_ARG_TYPE_OutboundPinholeTimeout"},
}};
constexpr std::array<ActionArgument, 7> add_pinhole_args{{
    {"RemoteHost", in, "A_ARG_TYPE_IPv6Address"},
    {"RemotePort", in, "A_ARG_TYPE_Port"},
    {"InternalClient", in, "A_ARG_TYPE_IPv6Address"},
    {"InternalPort", in, "A_ARG_TYPE_Port"},
    {"Protocol", in, "A_ARG_TYPE_Protocol"},
    {"LeaseTime", in, "A_ARG_TYPE_LeaseTime"},
    {"UniqueID", out, "A_ARG_TYPE_UniqueID"},
}};
constexpr std::array<ActionArgument, 2> update_pinhole_args{{
    {"UniqueID", in, "A_ARG_TYPE_UniqueID"},
    {"NewLeaseTime", in, "A_ARG_TYPE_LeaseTime"},
}};
constexpr std::array<ActionArgument, 1> delete_pinhole_args{{{"UniqueID", in, "A_ARG_TYPE_UniqueID"}}};
constexpr std::array<ActionArgument, 2> get_pinhole_packets_args{{
    {"UniqueID", in, "A_ARG_TYPE_UniqueID"},
    {"PinholePackets", out, "A_ARG_TYPE_PinholePackets"},
}};
constexpr std::array<ActionArgument, 2> check_pinhole_working_args{{
    {"UniqueID", in, "A_ARG_TYPE_UniqueID"},
    {"IsWorking", out, "A_ARG_TYPE_Boolean"},
}};

// Table 2-2 order. GetOutboundPinholeTimeout and CheckPinholeWorking are optional; both
// are offered (the packet path counts each pinhole's packets).
constexpr std::array firewall_control_actions{
    action(IgdActionId::get_firewall_status, "GetFirewallStatus", get_firewall_status_args, version_2_only),
    action(IgdActionId::get_outbound_pinhole_timeout, "GetOutboundPinholeTimeout", get_outbound_pinhole_timeout_args,
           version_2_only),
    action(IgdActionId::add_pinhole, "AddPinhole", add_pinhole_args, version_2_only),
    action(IgdActionId::update_pinhole, "UpdatePinhole", update_pinhole_args, version_2_only),
    action(IgdActionId::delete_pinhole, "DeletePinhole", delete_pinhole_args, version_2_only),
    action(IgdActionId::get_pinhole_packets, "GetPinholePackets", get_pinhole_packets_args, version_2_only),
    action(IgdActionId::check_pinhole_working, "CheckPinholeWorking", check_pinhole_working_args, version_2_only),
};

// ---- The device tree ----

constexpr std::array devices{
    IgdDevice{DeviceKind::internet_gateway, "InternetGatewayDevice", {}, std::nullopt, 0},
    IgdDevice{DeviceKind::wan, "WANDevice", "WANDevice", DeviceKind::internet_gateway, 1},
    IgdDevice{DeviceKind::wan_connection, "WANConnectionDevice", "WANConnectionDevice", DeviceKind::wan, 2},
};

// serviceIds are instance names, not versions: WANIPConn1 in IGD:2 too. The SCPDs live
// under igd_document_directory; control and event URLs are pupnp's own (it routes SOAP
// and GENA requests by these paths before its web server sees them).
constexpr std::array services{
    IgdService{ServiceKind::layer3_forwarding, DeviceKind::internet_gateway, "Layer3Forwarding", false,
               "urn:upnp-org:serviceId:L3Forwarding1", "/igd/L3F.xml", "/ctl/L3F", "/evt/L3F", layer3_actions,
               layer3_variables},
    IgdService{ServiceKind::wan_common_interface_config, DeviceKind::wan, "WANCommonInterfaceConfig", false,
               "urn:upnp-org:serviceId:WANCommonIFC1", "/igd/WANCfg.xml", "/ctl/CmnIfCfg", "/evt/CmnIfCfg",
               wan_common_actions, wan_common_variables},
    IgdService{ServiceKind::wan_ip_connection, DeviceKind::wan_connection, "WANIPConnection", true,
               "urn:upnp-org:serviceId:WANIPConn1", "/igd/WANIPCn.xml", "/ctl/IPConn", "/evt/IPConn", wan_ip_actions,
               wan_ip_variables},
    // IGD:2 2.3: WANIPv6FirewallControl sits in the WANConnectionDevice beside
    // WANIPConnection; it exists only as :1, and IGD:1 has no IPv6 at all.
    IgdService{ServiceKind::wan_ipv6_firewall_control, DeviceKind::wan_connection, "WANIPv6FirewallControl", false,
               "urn:upnp-org:serviceId:WANIPv6Firewall1", "/igd/WANIP6FC.xml", "/ctl/IP6FCtl", "/evt/IP6FCtl",
               firewall_control_actions, firewall_control_variables, version_2_only},
};

}  // namespace

std::string_view data_type_name(UpnpDataType type) {
    switch (type) {
    case UpnpDataType::string: return "string";
    case UpnpDataType::ui1: return "ui1";
    case UpnpDataType::ui2: return "ui2";
    case UpnpDataType::ui4: return "ui4";
    case UpnpDataType::boolean: return "boolean";
    }
    return "string";
}

std::uint32_t data_type_max(UpnpDataType type) {
    switch (type) {
    case UpnpDataType::ui1: return 0xff;
    case UpnpDataType::ui2: return 0xffff;
    case UpnpDataType::ui4: return 0xffffffff;
    case UpnpDataType::string:
    case UpnpDataType::boolean: break;
    }
    return 0;
}

std::span<const IgdDevice> igd_devices() { return devices; }

const IgdDevice& igd_device(DeviceKind kind) {
    for (const auto& device : devices)
        if (device.kind == kind) return device;
    return devices.front();  // unreachable: every DeviceKind is in the table
}

std::span<const IgdService> igd_services() { return services; }

const IgdService& igd_service(ServiceKind kind) {
    for (const auto& service : services)
        if (service.kind == kind) return service;
    return services.back();  // unreachable: every ServiceKind is in the table
}

const IgdService* find_service_by_id(std::string_view service_id) {
    for (const auto& service : services)
        if (service.service_id == service_id) return &service;
    return nullptr;
}

const IgdService* find_service_by_control_path(std::string_view path) {
    for (const auto& service : services)
        if (service.control_path == path) return &service;
    return nullptr;
}

int service_version(const IgdService& service, int igd_version) {
    return service.follows_igd_version ? igd_version : 1;
}

std::string service_type(const IgdService& service, int igd_version) {
    return "urn:schemas-upnp-org:service:" + std::string(service.type_name) + ':' +
           std::to_string(service_version(service, igd_version));
}

std::string device_type(const IgdDevice& device, int igd_version) {
    return "urn:schemas-upnp-org:device:" + std::string(device.type_name) + ':' + std::to_string(igd_version);
}

const IgdAction* find_action(const IgdService& service, std::string_view name, int igd_version) {
    for (const auto& action : service.actions)
        if (action.name == name && action.versions.contains(igd_version)) return &action;
    return nullptr;
}

const IgdService& service_of(IgdActionId id) {
    for (const auto& service : services)
        for (const auto& action : service.actions)
            if (action.id == id) return service;
    return services.back();  // unreachable: every IgdActionId is in the table
}

const IgdAction& igd_action(IgdActionId id) {
    for (const auto& action : service_of(id).actions)
        if (action.id == id) return action;
    return wan_ip_actions.front();  // unreachable
}

const StateVariable* find_state_variable(const IgdService& service, std::string_view name, int igd_version) {
    for (const auto& variable : service.variables)
        if (variable.name == name && variable.versions.contains(igd_version)) return &variable;
    return nullptr;
}

const StateVariable* related_variable(const IgdService& service, const ActionArgument& argument,
                                      int igd_version) {
    return find_state_variable(service, argument.related_variable, igd_version);
}

}  // namespace gw

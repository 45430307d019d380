// The UPnP Internet Gateway Device, defined once (STYLE 6): its device tree, and for
// each service its actions (arguments in order, with direction and related state
// variable) and its state variables (type, eventing, allowed values, default).
// device_description.cpp renders the description and SCPD XML from this table,
// soap_arguments.cpp validates SOAP arguments against it, and dispatch looks actions
// up in it. Nothing else lists an action or a variable.
//
// Sources: UPnP WANIPConnection:2 (2010) sections 2.3-2.5 for names, argument orders,
// types, ranges and eventing; WANIPv6FirewallControl:1 (2010) sections 2.3-2.4 for the
// pinhole service IGD:2 adds; the WANIPConnection:1 / WANCommonInterfaceConfig:1 service
// templates as Microsoft reproduces them in [MS-UPIGD] section 5 (what Windows reads);
// Layer3Forwarding:1 for the root service.
//
// The table is constant data with static storage: spans and pointers into it stay
// valid for the life of the program and may be read from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gw {

// The UPnP data types the IGD uses (UDA 1.0 section 2.3).
enum class UpnpDataType : std::uint8_t { string, ui1, ui2, ui4, boolean };

std::string_view data_type_name(UpnpDataType type);  // "ui2"
// The largest value of an unsigned type (ui1/ui2/ui4); 0 for string and boolean.
std::uint32_t data_type_max(UpnpDataType type);

// The IGD versions an entry exists in, inclusive. IGD:1 is the default because Windows
// recognises only InternetGatewayDevice:1 / WANIPConnection:1.
struct IgdVersions {
    int first = 1;
    int last = 2;
    constexpr bool contains(int version) const { return version >= first && version <= last; }
};
inline constexpr IgdVersions all_versions{1, 2};
inline constexpr IgdVersions version_1_only{1, 1};
inline constexpr IgdVersions version_2_only{2, 2};
inline constexpr int default_igd_version = 1;
constexpr bool is_supported_igd_version(int version) { return all_versions.contains(version); }

struct ValueRange {
    std::uint32_t minimum = 0;
    std::uint32_t maximum = 0;
};

struct StateVariable {
    std::string_view name{};
    UpnpDataType type = UpnpDataType::string;
    bool send_events = false;
    std::span<const std::string_view> allowed_values{};  // empty: any value of the type
    std::optional<ValueRange> allowed_range{};
    std::string_view default_value{};  // empty: none declared
    IgdVersions versions = all_versions;
};

enum class ArgumentDirection : std::uint8_t { in, out };

struct ActionArgument {
    std::string_view name;
    ArgumentDirection direction = ArgumentDirection::in;
    std::string_view related_variable;  // a StateVariable of the same service
};

// Every action of every service; dispatch switches on this rather than on names.
enum class IgdActionId : std::uint8_t {
    // WANIPConnection
    set_connection_type,
    get_connection_type_info,
    request_connection,
    force_termination,
    get_status_info,
    get_nat_rsip_status,
    get_generic_port_mapping_entry,
    get_specific_port_mapping_entry,
    add_port_mapping,
    delete_port_mapping,
    get_external_ip_address,
    delete_port_mapping_range,   // WANIPConnection:2
    get_list_of_port_mappings,   // WANIPConnection:2
    add_any_port_mapping,        // WANIPConnection:2
    // WANCommonInterfaceConfig
    get_common_link_properties,
    get_total_bytes_sent,
    get_total_bytes_received,
    get_total_packets_sent,
    get_total_packets_received,
    // WANIPv6FirewallControl:1 (IGD:2 only)
    get_firewall_status,
    get_outbound_pinhole_timeout,
    add_pinhole,
    update_pinhole,
    delete_pinhole,
    get_pinhole_packets,
    check_pinhole_working,
    // Layer3Forwarding
    set_default_connection_service,
    get_default_connection_service,
};

struct IgdAction {
    IgdActionId id;
    std::string_view name;
    std::span<const ActionArgument> arguments;  // in SCPD order: ins, then outs
    IgdVersions versions = all_versions;
};

enum class DeviceKind : std::uint8_t { internet_gateway, wan, wan_connection };
enum class ServiceKind : std::uint8_t {
    layer3_forwarding,
    wan_common_interface_config,
    wan_ip_connection,
    wan_ipv6_firewall_control,
};

struct IgdDevice {
    DeviceKind kind;
    std::string_view type_name;        // "WANDevice": urn:schemas-upnp-org:device:WANDevice:<v>
    std::string_view friendly_name;    // embedded devices only; the root's comes from config
    std::optional<DeviceKind> parent;  // nullopt: the root device
    std::uint8_t udn_offset = 0;       // added to the root UUID's last hex digit (device_udn)
};

// The HTTP directory holding the description and the SCPDs, so that the web server
// registers one virtual directory for all of them.
inline constexpr std::string_view igd_document_directory = "/igd";

struct IgdService {
    ServiceKind kind;
    DeviceKind device;              // the device whose serviceList holds it
    std::string_view type_name;     // "WANIPConnection"
    bool follows_igd_version;       // WANIPConnection:2 in IGD:2; the others exist only as :1
    std::string_view service_id;    // urn:upnp-org:serviceId:...
    std::string_view scpd_path;     // paths on the LAN HTTP server, stable across versions
    std::string_view control_path;
    std::string_view event_path;
    std::span<const IgdAction> actions;
    std::span<const StateVariable> variables;
    IgdVersions versions = all_versions;  // the IGD versions whose description lists it
};

// Root first, every device after its parent.
std::span<const IgdDevice> igd_devices();
const IgdDevice& igd_device(DeviceKind kind);
// In description order: the root's service first.
std::span<const IgdService> igd_services();
const IgdService& igd_service(ServiceKind kind);
// nullptr when no service has that serviceId / control path.
const IgdService* find_service_by_id(std::string_view service_id);
const IgdService* find_service_by_control_path(std::string_view path);

int service_version(const IgdService& service, int igd_version);
std::string service_type(const IgdService& service, int igd_version);  // full URN
std::string device_type(const IgdDevice& device, int igd_version);     // full URN

// Lookups within one IGD version; nullptr when the entry does not exist in it.
const IgdAction* find_action(const IgdService& service, std::string_view name, int igd_version);
const IgdAction& igd_action(IgdActionId id);
const IgdService& service_of(IgdActionId id);
const StateVariable* find_state_variable(const IgdService& service, std::string_view name,
                                         int igd_version);
// The variable an argument names; nullptr only if the table is inconsistent (a test
// checks that it never is).
const StateVariable* related_variable(const IgdService& service, const ActionArgument& argument,
                                      int igd_version);

}  // namespace gw

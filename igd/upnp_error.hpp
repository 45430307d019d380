// The UPnP error codes the IGD answers with, and their spec names: one table for the
// SOAP layer, the mapping policy and the logs. No pupnp here: the policy stays pure.
#pragma once

#include <array>
#include <string_view>

namespace gw {

// UDA 1.0 section 3.2.2, WANIPConnection:2 Table 2-51 (730-733 are IGD:2's) and
// WANIPv6FirewallControl:1 section 2.4 (701-709, pinholes only).
enum class UpnpError : int {
    invalid_action = 401,
    invalid_args = 402,
    action_failed = 501,
    argument_value_out_of_range = 601,
    string_argument_too_long = 605,
    action_not_authorized = 606,
    pinhole_space_exhausted = 701,
    firewall_disabled = 702,
    inbound_pinhole_not_allowed = 703,
    no_such_entry = 704,
    protocol_not_supported = 705,
    internal_port_wildcarding_not_allowed = 706,
    protocol_wildcarding_not_allowed = 707,
    pinhole_wildcard_not_permitted_in_src_ip = 708,
    no_traffic_received = 709,
    specified_array_index_invalid = 713,
    no_such_entry_in_array = 714,
    wildcard_not_permitted_in_src_ip = 715,
    wildcard_not_permitted_in_ext_port = 716,
    conflict_in_mapping_entry = 718,
    same_port_values_required = 724,
    only_permanent_leases_supported = 725,
    remote_host_only_supports_wildcard = 726,
    external_port_only_supports_wildcard = 727,
    no_port_maps_available = 728,
    conflict_with_other_mechanisms = 729,
    port_mapping_not_found = 730,
    read_only = 731,
    wildcard_not_permitted_in_int_port = 732,
    inconsistent_parameters = 733,
};

// Every code above, in order (for tables of counters).
inline constexpr std::array all_upnp_errors{
    UpnpError::invalid_action, UpnpError::invalid_args, UpnpError::action_failed,
    UpnpError::argument_value_out_of_range, UpnpError::string_argument_too_long, UpnpError::action_not_authorized,
    UpnpError::pinhole_space_exhausted, UpnpError::firewall_disabled, UpnpError::inbound_pinhole_not_allowed,
    UpnpError::no_such_entry, UpnpError::protocol_not_supported, UpnpError::internal_port_wildcarding_not_allowed,
    UpnpError::protocol_wildcarding_not_allowed, UpnpError::pinhole_wildcard_not_permitted_in_src_ip,
    UpnpError::no_traffic_received, UpnpError::specified_array_index_invalid, UpnpError::no_such_entry_in_array,
    UpnpError::wildcard_not_permitted_in_src_ip, UpnpError::wildcard_not_permitted_in_ext_port,
    UpnpError::conflict_in_mapping_entry, UpnpError::same_port_values_required,
    UpnpError::only_permanent_leases_supported, UpnpError::remote_host_only_supports_wildcard,
    UpnpError::external_port_only_supports_wildcard, UpnpError::no_port_maps_available,
    UpnpError::conflict_with_other_mechanisms, UpnpError::port_mapping_not_found, UpnpError::read_only,
    UpnpError::wildcard_not_permitted_in_int_port, UpnpError::inconsistent_parameters,
};

// The errorDescription the specs give, e.g. "ConflictInMappingEntry".
std::string_view upnp_error_description(UpnpError error);
// A snake_case name for counters and JSON, e.g. "no_port_maps_available".
std::string_view upnp_error_name(UpnpError error);

}  // namespace gw

#include "upnp_error.hpp"

namespace gw {

std::string_view upnp_error_description(UpnpError error) {
    switch (error) {
    case UpnpError::invalid_action: return "Invalid Action";
    case UpnpError::invalid_args: return "Invalid Args";
    case UpnpError::action_failed: return "Action Failed";
    case UpnpError::argument_value_out_of_range: return "Argument Value Out of Range";
    case UpnpError::string_argument_too_long: return "String Argument Too Long";
    case UpnpError::action_not_authorized: return "Action not authorized";
    case UpnpError::pinhole_space_exhausted: return "PinholeSpaceExhausted";
    case UpnpError::firewall_disabled: return "FirewallDisabled";
    case UpnpError::inbound_pinhole_not_allowed: return "InboundPinholeNotAllowed";
    case UpnpError::no_such_entry: return "NoSuchEntry";
    case UpnpError::protocol_not_supported: return "ProtocolNotSupported";
    case UpnpError::internal_port_wildcarding_not_allowed: return "InternalPortWildcardingNotAllowed";
    case UpnpError::protocol_wildcarding_not_allowed: return "ProtocolWildcardingNotAllowed";
    case UpnpError::pinhole_wildcard_not_permitted_in_src_ip: return "WildCardNotPermittedInSrcIP";
    case UpnpError::no_traffic_received: return "NoTrafficReceived";
    case UpnpError::specified_array_index_invalid: return "SpecifiedArrayIndexInvalid";
    case UpnpError::no_such_entry_in_array: return "NoSuchEntryInArray";
    case UpnpError::wildcard_not_permitted_in_src_ip: return "WildCardNotPermittedInSrcIP";
    case UpnpError::wildcard_not_permitted_in_ext_port: return "WildCardNotPermittedInExtPort";
    case UpnpError::conflict_in_mapping_entry: return "ConflictInMappingEntry";
    case UpnpError::same_port_values_required: return "SamePortValuesRequired";
    case UpnpError::only_permanent_leases_supported: return "OnlyPermanentLeasesSupported";
    case UpnpError::remote_host_only_supports_wildcard: return "RemoteHostOnlySupportsWildcard";
    case UpnpError::external_port_only_supports_wildcard: return "ExternalPortOnlySupportsWildcard";
    case UpnpError::no_port_maps_available: return "NoPortMapsAvailable";
    case UpnpError::conflict_with_other_mechanisms: return "ConflictWithOtherMechanisms";
    case UpnpError::port_mapping_not_found: return "PortMappingNotFound";
    case UpnpError::read_only: return "ReadOnly";
    case UpnpError::wildcard_not_permitted_in_int_port: return "WildCardNotPermittedInIntPort";
    case UpnpError::inconsistent_parameters: return "InconsistentParameters";
    }
    return "Action Failed";
}

std::string_view upnp_error_name(UpnpError error) {
    switch (error) {
    case UpnpError::invalid_action: return "invalid_action";
    case UpnpError::invalid_args: return "invalid_args";
    case UpnpError::action_failed: return "action_failed";
    case UpnpError::argument_value_out_of_range: return "argument_value_out_of_range";
    case UpnpError::string_argument_too_long: return "string_argument_too_long";
    case UpnpError::action_not_authorized: return "action_not_authorized";
    case UpnpError::pinhole_space_exhausted: return "pinhole_space_exhausted";
    case UpnpError::firewall_disabled: return "firewall_disabled";
    case UpnpError::inbound_pinhole_not_allowed: return "inbound_pinhole_not_allowed";
    case UpnpError::no_such_entry: return "no_such_entry";
    case UpnpError::protocol_not_supported: return "protocol_not_supported";
    case UpnpError::internal_port_wildcarding_not_allowed: return "internal_port_wildcarding_not_allowed";
    case UpnpError::protocol_wildcarding_not_allowed: return "protocol_wildcarding_not_allowed";
    case UpnpError::pinhole_wildcard_not_permitted_in_src_ip: return "pinhole_wildcard_not_permitted_in_src_ip";
    case UpnpError::no_traffic_received: return "no_traffic_received";
    case UpnpError::specified_array_index_invalid: return "specified_array_index_invalid";
    case UpnpError::no_such_entry_in_array: return "no_such_entry_in_array";
    case UpnpError::wildcard_not_permitted_in_src_ip: return "wildcard_not_permitted_in_src_ip";
    case UpnpError::wildcard_not_permitted_in_ext_port: return "wildcard_not_permitted_in_ext_port";
    case UpnpError::conflict_in_mapping_entry: return "conflict_in_mapping_entry";
    case UpnpError::same_port_values_required: return "same_port_values_required";
    case UpnpError::only_permanent_leases_supported: return "only_permanent_leases_supported";
    case UpnpError::remote_host_only_supports_wildcard: return "remote_host_only_supports_wildcard";
    case UpnpError::external_port_only_supports_wildcard: return "external_port_only_supports_wildcard";
    case UpnpError::no_port_maps_available: return "no_port_maps_available";
    case UpnpError::conflict_with_other_mechanisms: return "conflict_with_other_mechanisms";
    case UpnpError::port_mapping_not_found: return "port_mapping_not_found";
    case UpnpError::read_only: return "read_only";
    case UpnpError::wildcard_not_permitted_in_int_port: return "wildcard_not_permitted_in_int_port";
    case UpnpError::inconsistent_parameters: return "inconsistent_parameters";
    }
    return "action_failed";
}

}  // namespace gw

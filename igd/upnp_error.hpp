// The UPnP error codes the IGD answers with, and their spec names: one table for the
// SOAP layer, the mapping policy and the logs. No pupnp here: the policy stays pure.
#pragma once

#include <string_view>

namespace gw {

// UDA 1.0 section 3.2.2 and WANIPConnection:2 Table 2-51 (730-733 are IGD:2's).
enum class UpnpError : int {
    invalid_action = 401,
    invalid_args = 402,
    action_failed = 501,
    argument_value_out_of_range = 601,
    string_argument_too_long = 605,
    action_not_authorized = 606,
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

// The errorDescription the specs give, e.g. "ConflictInMappingEntry".
std::string_view upnp_error_description(UpnpError error);

}  // namespace gw

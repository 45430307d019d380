// The edge between pupnp and the IGD's logic: SOAP arguments arrive as untrusted
// name/value strings and leave here either as typed requests or as a UPnP error
// (STYLE 5). The checks come from the service table (STYLE 6): which IN arguments an
// action has, their types and allowed values; the rules the specs attach to single
// arguments (wildcards, lease bounds, port ranges) are written per action below it.
//
// What validation cannot know (existing mappings, permissions, free ports) is the
// mapping policy's: it answers with the other codes of UpnpError (606, 713, 714, 718,
// 728-730). 724-727 exist for IGD:1 devices that lack a feature; gatewayd has them all
// and never sends those codes (WANIPConnection:2 forbids them outright, 2.5.16).
//
// Everything here is stateless and may run on any thread.
#pragma once

#include <ixml.h>
#include <upnp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/expected.hpp"
#include <vector>

#include "igd/pinhole_policy.hpp"
#include "igd/port_mapping.hpp"
#include "igd/service_table.hpp"
#include "igd/upnp_error.hpp"
#include "nat/endpoint.hpp"

namespace gw {


struct SoapFault {
    UpnpError error = UpnpError::action_failed;
    int code() const { return static_cast<int>(error); }
    std::string_view description() const { return upnp_error_description(error); }
    bool operator==(const SoapFault&) const = default;
};

// The arguments of one action request, in the order the control point sent them.
using SoapArguments = std::vector<std::pair<std::string, std::string>>;

// Longer strings are refused with 605. Generous: descriptions are cut to
// max_description_bytes by MappingPolicy, not refused; this only bounds hostile input.
inline constexpr std::size_t max_string_argument_bytes = 1024;
inline constexpr std::uint32_t max_lease_seconds_v2 = 604800;  // WANIPConnection:2 Table 2-6

// ---- Typed requests ----

// DeletePortMapping, GetSpecificPortMappingEntry: the unique tuple of a mapping.
struct PortMappingKey {
    std::optional<Ipv4Address> remote_host;  // nullopt: the wildcard ""
    Port external_port;                      // 0 never matches a mapping: 714 is the policy's
    Protocol protocol = Protocol::tcp;
    bool operator==(const PortMappingKey&) const = default;
};

// AddPortMapping and AddAnyPortMapping.
struct AddPortMappingArgs {
    std::optional<Ipv4Address> remote_host;  // nullopt: any sender
    Port external_port;                      // never 0 (716)
    Protocol protocol = Protocol::tcp;
    Port internal_port;                      // never 0 (732 in IGD:2, 402 in IGD:1)
    Ipv4Address internal_client;             // never 0.0.0.0 (715)
    bool enabled = true;
    std::string description;                 // as sent: MappingPolicy normalizes it
    // IGD:1: as asked, 0 = a permanent mapping (the policy may cap it). IGD:2: 1..604800,
    // 0 and anything longer already turned into 604800 (2.3.16, 2.5.16.2).
    std::uint32_t lease_seconds = 0;
    PortMappingKey key() const { return {remote_host, external_port, protocol}; }
    // The mapping asked for, before the policy grants (and normalizes) it.
    PortMapping requested() const {
        PortMapping m;
        m.protocol = protocol;
        m.external = external_port;
        m.internal = {internal_client, internal_port};
        m.remote_host = remote_host;
        m.description = description;
        m.enabled = enabled;
        return m;
    }
};

struct PortMappingIndexArgs {  // GetGenericPortMappingEntry
    std::uint16_t index = 0;
};

struct PortRangeArgs {  // DeletePortMappingRange
    PortRange ports{0, 65535};  // NewStartPort..NewEndPort; first > last is 733
    Protocol protocol = Protocol::tcp;
    bool manage = false;  // true: all clients' mappings, if the policy allows it
};

struct ListPortMappingsArgs {  // GetListOfPortMappings
    PortRangeArgs range;
    std::uint16_t max_entries = 0;  // NewNumberOfPorts; 0: all of them (2.5.21)
};

struct ConnectionTypeArgs {  // SetConnectionType: one of ConnectionType's allowed values
    std::string connection_type;
};

struct DefaultConnectionServiceArgs {  // SetDefaultConnectionService
    std::string connection_service;
};

// AddPinhole and GetOutboundPinholeTimeout carry a PinholeRequest (the latter without a
// lease): addresses parsed ("" is nullopt, anything but an IPv6 literal is 402), every
// rule about wildcards, ranges and protocols left to PinholePolicy.
struct PinholeIdArgs {  // DeletePinhole, GetPinholePackets, CheckPinholeWorking
    std::uint16_t id = 0;
};

struct UpdatePinholeArgs {
    std::uint16_t id = 0;
    std::uint32_t lease_seconds = 0;  // as sent: the policy answers 402 outside 1..86400
};

// monostate: the action has no IN arguments.
using ActionArguments = std::variant<std::monostate, AddPortMappingArgs, PortMappingKey, PortMappingIndexArgs,
                                     PortRangeArgs, ListPortMappingsArgs, ConnectionTypeArgs,
                                     DefaultConnectionServiceArgs, PinholeRequest, PinholeIdArgs, UpdatePinholeArgs>;

struct ActionCall {
    const IgdAction* action = nullptr;  // into the service table
    ActionArguments arguments;
};

using ParsedAction = Expected<ActionCall, SoapFault>;

// Validates a request for `action_name` of `service` as the IGD of `igd_version` has it.
// 401: no such action in this version. 402: an IN argument missing, repeated or unknown,
// or not of its type (ui2 "65536", boolean "maybe"), or an address that is not a
// dotted quad. 601: not one of the allowed values (NewProtocol "ICMP", 2.5.16.2).
// 605: a string longer than max_string_argument_bytes. Then the per-action rules:
// 715, 716, 732, 733, and the IGD:2 lease rule. Arguments may come in any order.
ParsedAction parse_action_call(const IgdService& service, std::string_view action_name,
                               const SoapArguments& arguments, int igd_version);

// ---- pupnp glue ----

// The arguments in pupnp's action request document (UpnpActionRequest_get_ActionRequest:
// the action element alone, re-parsed). nullopt when it has no action element or an
// argument holds elements instead of text: answer 402.
std::optional<SoapArguments> read_soap_arguments(IXML_Document* request);

// The namespace the control point used for the action, e.g. "...:WANIPConnection:1"
// against an IGD:2 (pupnp accepts any version of the service type); "" if none.
// Answer in that namespace.
std::string request_service_type(IXML_Document* request);

struct IxmlDocumentFree {
    void operator()(IXML_Document* document) const { ixmlDocument_free(document); }
};
using IxmlDocumentPtr = std::unique_ptr<IXML_Document, IxmlDocumentFree>;

// <u:ActionResponse xmlns:u="service_type"> with the action's OUT arguments, named from
// the table, holding out_values in table order. Null when the count of values is not
// the count of OUT arguments (a dispatch bug) or ixml fails: answer 501.
IxmlDocumentPtr make_action_response(const IgdAction& action, std::string_view service_type,
                                     std::span<const std::string> out_values);

// Hand the outcome to pupnp, which writes the SOAP response or fault itself
// (soap_device.c handle_invoke_action: it frees the result document and builds the
// <UPnPError> detail from ErrCode and ErrStr, so no fault body is built here). The
// later call wins; a null response makes pupnp answer 501 Action Failed.
void set_action_result(UpnpActionRequest* request, IxmlDocumentPtr response);
void set_action_fault(UpnpActionRequest* request, const SoapFault& fault);

}  // namespace gw

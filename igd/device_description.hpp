// The documents the IGD serves over HTTP: the root device description and one SCPD per
// service, all rendered with ixml (STYLE 17) from the service table (STYLE 6), plus the
// identities dispatch and eventing need (UDNs, service types and ids, paths).
//
// Everything here runs at start-up, once per configuration: errors are exceptions
// (std::invalid_argument for bad parameters, std::runtime_error when ixml fails).
// The functions keep no state and may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "igd/service_table.hpp"
#include "nat/endpoint.hpp"

namespace gw {

inline constexpr std::string_view description_path = "/igd/rootDesc.xml";  // in igd_document_directory
inline constexpr std::string_view description_content_type = "text/xml; charset=\"utf-8\"";
inline constexpr std::string_view igd_manufacturer = "gatewayd";
inline constexpr std::string_view igd_model_name = "gatewayd";

struct DescriptionParams {
    int igd_version = default_igd_version;
    // The root device's UUID, "6ba7b810-9dad-11d1-80b4-00c04fd430c8" (a "uuid:" prefix is
    // accepted). It should survive restarts so control points recognise the gateway; the
    // embedded devices derive theirs from it (device_udn).
    std::string uuid;
    // UDA 1.0 asks for fewer than 64 characters: longer names are cut at a UTF-8
    // boundary and control characters become spaces.
    std::string friendly_name = "gatewayd";
    // The LAN HTTP server, rendered as <URLBase>http://a.b.c.d:port/</URLBase>. nullopt:
    // no URLBase, so control points resolve the paths against the description's URL.
    std::optional<Endpoint> url_base;
};

// The root device description: InternetGatewayDevice:N > WANDevice:N >
// WANConnectionDevice:N, each with its services, with paths from the table.
std::string device_description_xml(const DescriptionParams& params);

// The SCPD of one service: the actions and variables the table has for igd_version.
std::string service_scpd_xml(ServiceKind kind, int igd_version);

// "uuid:<root uuid>" for the root; embedded devices add their udn_offset to the last
// hex digit, so the three UDNs differ and stay stable.
std::string device_udn(std::string_view root_uuid, DeviceKind device);

// What the HTTP server serves: the description at description_path, then each SCPD at
// its scpd_path. Content type: description_content_type.
struct ServedDocument {
    std::string path;
    std::string content;
};
std::vector<ServedDocument> description_documents(const DescriptionParams& params);

// One per service, as the description announces it: what pupnp's action and
// subscription requests carry (DevUDN, ServiceID) and what UpnpNotify needs.
struct ServiceEndpoint {
    ServiceKind kind;
    std::string udn;
    std::string service_type;
    std::string_view service_id;
    std::string_view control_path;
    std::string_view event_path;
};
std::vector<ServiceEndpoint> service_endpoints(const DescriptionParams& params);

}  // namespace gw

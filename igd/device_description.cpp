#include "igd/device_description.hpp"

#include <ixml.h>

#include <memory>
#include <stdexcept>

namespace gw {
namespace {

constexpr std::string_view device_namespace = "urn:schemas-upnp-org:device-1-0";
constexpr std::string_view service_namespace = "urn:schemas-upnp-org:service-1-0";
constexpr std::size_t friendly_name_limit = 63;  // UDA 1.0 2.1: "Should be < 64 characters"

struct DocumentFree {
    void operator()(IXML_Document* document) const { ixmlDocument_free(document); }
};
struct DomStringFree {
    void operator()(char* text) const { ixmlFreeDOMString(text); }
};

// A document under construction. ixml owns every node appended to the document and
// frees them with it; a node that failed to append is freed here.
class XmlWriter {
public:
    XmlWriter() {
        IXML_Document* document = nullptr;
        check(ixmlDocument_createDocumentEx(&document));
        document_.reset(document);
    }

    IXML_Element* root(std::string_view name, std::string_view xmlns) {
        IXML_Element* element = append(ixml_node(document_.get()), name);
        check(ixmlElement_setAttribute(element, "xmlns", std::string(xmlns).c_str()));
        return element;
    }

    IXML_Element* child(IXML_Element* parent, std::string_view name) {
        return append(ixml_node(parent), name);
    }

    // An element holding text; ixml escapes it when printing.
    void text_child(IXML_Element* parent, std::string_view name, std::string_view text) {
        IXML_Element* element = child(parent, name);
        if (text.empty()) return;
        IXML_Node* node = nullptr;
        check(ixmlDocument_createTextNodeEx(document_.get(), std::string(text).c_str(), &node));
        adopt(ixml_node(element), node);
    }

    void attribute(IXML_Element* element, std::string_view name, std::string_view value) {
        check(ixmlElement_setAttribute(element, std::string(name).c_str(), std::string(value).c_str()));
    }

    std::string to_string() const {
        std::unique_ptr<char, DomStringFree> text(ixmlDocumenttoString(document_.get()));
        if (!text) throw std::runtime_error("ixml could not print a description document");
        return text.get();
    }

private:
    // ixml's node types begin with their IXML_Node: C inheritance, so the cast is ixml's own idiom.
    static IXML_Node* ixml_node(void* node) { return static_cast<IXML_Node*>(node); }

    static void check(int ixml_status) {
        if (ixml_status != IXML_SUCCESS)
            throw std::runtime_error("ixml failed to build a description document (error " +
                                     std::to_string(ixml_status) + ")");
    }

    IXML_Element* append(IXML_Node* parent, std::string_view name) {
        IXML_Element* element = nullptr;
        check(ixmlDocument_createElementEx(document_.get(), std::string(name).c_str(), &element));
        adopt(parent, ixml_node(element));
        return element;
    }

    static void adopt(IXML_Node* parent, IXML_Node* node) {
        int status = ixmlNode_appendChild(parent, node);
        if (status != IXML_SUCCESS) ixmlNode_free(node);
        check(status);
    }

    std::unique_ptr<IXML_Document, DocumentFree> document_;
};

void spec_version(XmlWriter& xml, IXML_Element* parent) {
    IXML_Element* version = xml.child(parent, "specVersion");
    xml.text_child(version, "major", "1");
    xml.text_child(version, "minor", "0");
}

std::string_view bare_uuid(std::string_view uuid) {
    if (uuid.starts_with("uuid:")) uuid.remove_prefix(5);
    return uuid;
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// 8-4-4-4-12 hex digits (RFC 4122 text form).
void require_uuid(std::string_view uuid) {
    bool valid = uuid.size() == 36;
    for (std::size_t i = 0; valid && i < uuid.size(); ++i)
        valid = (i == 8 || i == 13 || i == 18 || i == 23) ? uuid[i] == '-' : is_hex(uuid[i]);
    if (!valid) throw std::invalid_argument("not a UUID: \"" + std::string(uuid) + "\"");
}

void require_version(int igd_version) {
    if (!is_supported_igd_version(igd_version))
        throw std::invalid_argument("IGD version " + std::to_string(igd_version) + " is not 1 or 2");
}

std::string displayable_name(std::string_view name) {
    std::string result;
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        result += (byte < 0x20 || byte == 0x7f) ? ' ' : c;
    }
    if (result.size() > friendly_name_limit) {
        std::size_t cut = friendly_name_limit;
        while (cut > 0 && (static_cast<unsigned char>(result[cut]) & 0xc0) == 0x80) --cut;  // continuation byte
        result.resize(cut);
    }
    return result;
}

void service_entry(XmlWriter& xml, IXML_Element* list, const IgdService& service, int igd_version) {
    IXML_Element* element = xml.child(list, "service");
    xml.text_child(element, "serviceType", service_type(service, igd_version));
    xml.text_child(element, "serviceId", service.service_id);
    xml.text_child(element, "SCPDURL", service.scpd_path);
    xml.text_child(element, "controlURL", service.control_path);
    xml.text_child(element, "eventSubURL", service.event_path);
}

void device_entry(XmlWriter& xml, IXML_Element* parent, const IgdDevice& device, const DescriptionParams& params) {
    bool is_root = !device.parent;
    IXML_Element* element = xml.child(parent, "device");
    xml.text_child(element, "deviceType", device_type(device, params.igd_version));
    xml.text_child(element, "friendlyName", is_root ? displayable_name(params.friendly_name) : device.friendly_name);
    xml.text_child(element, "manufacturer", igd_manufacturer);
    if (is_root) xml.text_child(element, "modelDescription", "gatewayd Internet Gateway Device");
    xml.text_child(element, "modelName", igd_model_name);
    xml.text_child(element, "UDN", device_udn(params.uuid, device.kind));

    IXML_Element* services = nullptr;
    for (const auto& service : igd_services()) {
        if (service.device != device.kind || !service.versions.contains(params.igd_version)) continue;
        if (!services) services = xml.child(element, "serviceList");
        service_entry(xml, services, service, params.igd_version);
    }
    IXML_Element* children = nullptr;
    for (const auto& embedded : igd_devices()) {
        if (embedded.parent != device.kind) continue;
        if (!children) children = xml.child(element, "deviceList");
        device_entry(xml, children, embedded, params);
    }
}

void action_entry(XmlWriter& xml, IXML_Element* list, const IgdAction& action) {
    IXML_Element* element = xml.child(list, "action");
    xml.text_child(element, "name", action.name);
    if (action.arguments.empty()) return;
    IXML_Element* arguments = xml.child(element, "argumentList");
    for (const auto& argument : action.arguments) {
        IXML_Element* entry = xml.child(arguments, "argument");
        xml.text_child(entry, "name", argument.name);
        xml.text_child(entry, "direction", argument.direction == ArgumentDirection::in ? "in" : "out");
        xml.text_child(entry, "relatedStateVariable", argument.related_variable);
    }
}

// UDA 1.0 2.3 order: name, dataType, defaultValue, then allowedValueList or allowedValueRange.
void variable_entry(XmlWriter& xml, IXML_Element* table, const StateVariable& variable) {
    IXML_Element* element = xml.child(table, "stateVariable");
    xml.attribute(element, "sendEvents", variable.send_events ? "yes" : "no");
    xml.text_child(element, "name", variable.name);
    xml.text_child(element, "dataType", data_type_name(variable.type));
    if (!variable.default_value.empty()) xml.text_child(element, "defaultValue", variable.default_value);
    if (!variable.allowed_values.empty()) {
        IXML_Element* list = xml.child(element, "allowedValueList");
        for (auto value : variable.allowed_values) xml.text_child(list, "allowedValue", value);
    }
    if (variable.allowed_range) {
        IXML_Element* range = xml.child(element, "allowedValueRange");
        xml.text_child(range, "minimum", std::to_string(variable.allowed_range->minimum));
        xml.text_child(range, "maximum", std::to_string(variable.allowed_range->maximum));
    }
}

}  // namespace

std::string device_udn(std::string_view root_uuid, DeviceKind device) {
    std::string uuid(bare_uuid(root_uuid));
    require_uuid(uuid);
    char& last = uuid.back();
    int digit = last <= '9' ? last - '0' : (last | 0x20) - 'a' + 10;
    digit = (digit + igd_device(device).udn_offset) % 16;
    last = "0123456789abcdef"[digit];
    return "uuid:" + uuid;
}

std::string device_description_xml(const DescriptionParams& params) {
    require_version(params.igd_version);
    require_uuid(bare_uuid(params.uuid));
    XmlWriter xml;
    IXML_Element* root = xml.root("root", device_namespace);
    spec_version(xml, root);
    if (params.url_base) xml.text_child(root, "URLBase", "http://" + to_string(*params.url_base) + "/");
    device_entry(xml, root, igd_devices().front(), params);
    return xml.to_string();
}

std::string service_scpd_xml(ServiceKind kind, int igd_version) {
    require_version(igd_version);
    const IgdService& service = igd_service(kind);
    XmlWriter xml;
    IXML_Element* root = xml.root("scpd", service_namespace);
    spec_version(xml, root);
    IXML_Element* actions = xml.child(root, "actionList");
    for (const auto& action : service.actions)
        if (action.versions.contains(igd_version)) action_entry(xml, actions, action);
    IXML_Element* table = xml.child(root, "serviceStateTable");
    for (const auto& variable : service.variables)
        if (variable.versions.contains(igd_version)) variable_entry(xml, table, variable);
    return xml.to_string();
}

std::vector<ServedDocument> description_documents(const DescriptionParams& params) {
    std::vector<ServedDocument> documents;
    documents.push_back({std::string(description_path), device_description_xml(params)});
    for (const auto& service : igd_services())
        if (service.versions.contains(params.igd_version))
            documents.push_back({std::string(service.scpd_path), service_scpd_xml(service.kind, params.igd_version)});
    return documents;
}

std::vector<ServiceEndpoint> service_endpoints(const DescriptionParams& params) {
    require_version(params.igd_version);
    std::vector<ServiceEndpoint> endpoints;
    for (const auto& service : igd_services())
        if (service.versions.contains(params.igd_version))
            endpoints.push_back({service.kind, device_udn(params.uuid, service.device),
                             service_type(service, params.igd_version), service.service_id, service.control_path,
                             service.event_path});
    return endpoints;
}

}  // namespace gw

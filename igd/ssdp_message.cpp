#include "igd/ssdp_message.hpp"

#include <algorithm>
#include <charconv>

#include "igd/device_description.hpp"
#include "igd/service_table.hpp"

namespace gw {
namespace {

std::string with_uuid_prefix(std::string_view uuid) {
    return uuid.starts_with("uuid:") ? std::string(uuid) : "uuid:" + std::string(uuid);
}

// "urn:...:Name:2" -> ("urn:...:Name:", 2); nullopt when it does not end in ":<digits>".
std::optional<std::pair<std::string_view, unsigned>> split_version(std::string_view type) {
    auto colon = type.rfind(':');
    if (!type.starts_with("urn:") || colon == std::string_view::npos || colon + 1 == type.size()) return std::nullopt;
    unsigned version = 0;
    auto digits = type.substr(colon + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
    if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return std::pair{type.substr(0, colon + 1), version};
}

// The target answers `search_target`: the same text, or (UDA 1.1 1.3.2) the same device
// or service type in a version no higher than ours.
bool answers(const SsdpTarget& target, std::string_view search_target) {
    if (search_target == "ssdp:all" || search_target == target.type) return true;
    auto ours = split_version(target.type), asked = split_version(search_target);
    return ours && asked && ours->first == asked->first && asked->second >= 1 && asked->second <= ours->second;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::vector<SsdpTarget> ssdp_targets(const SsdpIdentity& identity) {
    std::vector<SsdpTarget> targets;
    const std::string root = with_uuid_prefix(identity.uuid);
    for (const IgdDevice& device : igd_devices()) {
        std::string udn = device_udn(root, device.kind);
        std::string type = device_type(device, identity.igd_version);
        if (!device.parent) targets.push_back({"upnp:rootdevice", udn + "::upnp:rootdevice"});
        targets.push_back({udn, udn});
        targets.push_back({type, udn + "::" + type});
    }
    for (const IgdService& service : igd_services()) {
        if (!service.versions.contains(identity.igd_version)) continue;
        std::string type = service_type(service, identity.igd_version);
        targets.push_back({type, device_udn(root, service.device) + "::" + type});
    }
    return targets;
}

std::string ssdp_notify(const SsdpIdentity& identity, const SsdpTarget& target, SsdpNotifyKind kind) {
    std::string m = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n";
    if (kind == SsdpNotifyKind::alive) {
        m += "CACHE-CONTROL: max-age=" + std::to_string(identity.max_age) + "\r\n";
        m += "LOCATION: " + identity.location + "\r\n";
        m += "SERVER: " + std::string(ssdp_server_header) + "\r\n";
    }
    m += "NT: " + target.type + "\r\n";
    m += std::string("NTS: ") + (kind == SsdpNotifyKind::alive ? "ssdp:alive" : "ssdp:byebye") + "\r\n";
    m += "USN: " + target.usn + "\r\n\r\n";
    return m;
}

std::optional<SsdpSearch> parse_ssdp_search(std::string_view datagram) {
    auto line_end = datagram.find('\n');
    if (line_end == std::string_view::npos) return std::nullopt;
    if (trimmed(datagram.substr(0, line_end)) != "M-SEARCH * HTTP/1.1") return std::nullopt;
    datagram.remove_prefix(line_end + 1);
    SsdpSearch search;
    bool discover = false, has_target = false, has_mx = false;
    while (!datagram.empty()) {
        line_end = datagram.find('\n');
        std::string_view line = trimmed(datagram.substr(0, line_end));
        datagram.remove_prefix(line_end == std::string_view::npos ? datagram.size() : line_end + 1);
        if (line.empty()) break;  // end of the head
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        std::string_view name = trimmed(line.substr(0, colon)), value = trimmed(line.substr(colon + 1));
        if (equal_ignoring_case(name, "MAN")) {
            discover = value == "\"ssdp:discover\"";
        } else if (equal_ignoring_case(name, "ST")) {
            if (value.empty() || value.size() > 256) return std::nullopt;
            search.search_target = std::string(value);
            has_target = true;
        } else if (equal_ignoring_case(name, "MX")) {
            std::uint64_t mx = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), mx);
            has_mx = error == std::errc{} && end == value.data() + value.size();
            // A huge MX kept a pupnp job alive for up to 68 years each (issue 14.6).
            search.mx = has_mx ? std::uint32_t(std::clamp<std::uint64_t>(mx, ssdp_mx_min, ssdp_mx_max)) : ssdp_mx_min;
            search.mx_clamped = !has_mx || mx != search.mx;
        }
    }
    if (!has_mx) search.mx_clamped = true;
    if (!discover || !has_target) return std::nullopt;
    return search;
}

std::uint32_t ssdp_matching_targets(const std::vector<SsdpTarget>& targets, std::string_view search_target) {
    std::uint32_t mask = 0;
    for (std::size_t i = 0; i < targets.size() && i < 32; ++i)
        if (answers(targets[i], search_target)) mask |= std::uint32_t(1) << i;
    // ssdp:all, and a type several devices share (none here), answer each target once.
    return mask;
}

std::string ssdp_search_answer(const SsdpIdentity& identity, const SsdpTarget& target,
                               std::string_view search_target, std::string_view date) {
    // The ST of the answer is the search's when it asked for this target or a lower
    // version of it; for ssdp:all it is the target's own type (UDA 1.1 1.3.3).
    std::string_view st = search_target == "ssdp:all" ? std::string_view(target.type) : search_target;
    std::string usn = target.usn;
    if (st != target.type) {  // a lower version: the USN names that version too
        if (auto at = usn.rfind("::"); at != std::string::npos) usn = usn.substr(0, at + 2) + std::string(st);
    }
    std::string m = "HTTP/1.1 200 OK\r\n";
    m += "CACHE-CONTROL: max-age=" + std::to_string(identity.max_age) + "\r\n";
    m += "DATE: " + std::string(date) + "\r\n";
    m += "EXT:\r\n";
    m += "LOCATION: " + identity.location + "\r\n";
    m += "SERVER: " + std::string(ssdp_server_header) + "\r\n";
    m += "ST: " + std::string(st) + "\r\n";
    m += "USN: " + usn + "\r\n\r\n";
    return m;
}

}  // namespace gw

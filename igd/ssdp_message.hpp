// SSDP's messages as the UPnP Device Architecture 1.1 (section 1) defines them, for the
// gateway's own SSDP (daemon/ssdp_server): what it announces (NOTIFY ssdp:alive and
// ssdp:byebye), how an M-SEARCH is read, which announcements answer it and the answer.
// Pure: no sockets, no clock (the date comes in as text); callable from any thread.
//
// What is announced is derived from the service table (igd/service_table.hpp), the same
// table the description is rendered from, so discovery and description never disagree:
// for the root device upnp:rootdevice, its UDN and its type; for each embedded device its
// UDN and type; for each service its type (UDA 1.1 1.1.2, 3 + 2d + k messages).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

inline constexpr std::uint16_t ssdp_port = 1900;
inline constexpr std::string_view ssdp_group = "239.255.255.250";
// UDA 1.1 1.3.3: MX is 1 to 5 seconds; a larger value is treated as 5, a missing or
// invalid one makes the search invalid (we answer it after 1 s rather than never).
inline constexpr std::uint32_t ssdp_mx_min = 1, ssdp_mx_max = 5;

// One announcement: NT in a NOTIFY, ST in a search answer, with its USN.
struct SsdpTarget {
    std::string type;  // "upnp:rootdevice", "uuid:...", "urn:schemas-upnp-org:device:...:1"
    std::string usn;   // "uuid:...::upnp:rootdevice", ...
};

struct SsdpIdentity {
    std::string uuid;        // the root device's, with or without "uuid:"
    int igd_version = 1;
    std::string location;    // the description URL on the LAN address
    std::uint32_t max_age = 1800;  // CACHE-CONTROL max-age, seconds
};

// Every announcement of the IGD, root device first, in description order.
std::vector<SsdpTarget> ssdp_targets(const SsdpIdentity& identity);

enum class SsdpNotifyKind : std::uint8_t { alive, byebye };

// The NOTIFY datagram for one target (byebye carries no LOCATION nor max-age).
std::string ssdp_notify(const SsdpIdentity& identity, const SsdpTarget& target, SsdpNotifyKind kind);

// An M-SEARCH, as far as answering it needs.
struct SsdpSearch {
    std::string search_target;  // ST
    std::uint32_t mx = ssdp_mx_min;  // clamped to 1..5
    bool mx_clamped = false;    // MX was missing, invalid or outside 1..5
};

// nullopt: not an M-SEARCH we answer (another method, no MAN "ssdp:discover", no ST,
// a malformed head). Tolerates LF-only line ends and any header case (RFC 7230 3.2).
std::optional<SsdpSearch> parse_ssdp_search(std::string_view datagram);

// Bit i set: targets[i] answers `search_target` (ssdp:all: every one; a device or service
// type of a lower version than ours: that one, UDA 1.1 1.3.2). 0: nothing answers.
std::uint32_t ssdp_matching_targets(const std::vector<SsdpTarget>& targets, std::string_view search_target);

// The answer (HTTP/1.1 200 OK) for one matching target. `search_target` is echoed as ST
// when it named a lower version of the target's type; `date` is an RFC 1123 date.
std::string ssdp_search_answer(const SsdpIdentity& identity, const SsdpTarget& target,
                               std::string_view search_target, std::string_view date);

inline constexpr std::string_view ssdp_server_header = "Linux/1 UPnP/1.1 gatewayd/1";

}  // namespace gw

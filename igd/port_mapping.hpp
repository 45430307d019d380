// A UPnP port mapping (one row of WANIPConnection's PortMapping table): an external
// port on the WAN address forwarded to a LAN endpoint, as granted by MappingPolicy.
// Every front end (UPnP SOAP, later NAT-PMP and PCP) and the lease file speak it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "nat/endpoint.hpp"
#include "nat/mapping.hpp"

namespace gw {

// Descriptions are shown in admin pages and written to logs and the lease file: they
// are cut to this many bytes and control characters are replaced (see
// normalized_description in mapping_policy.hpp).
inline constexpr std::size_t max_description_bytes = 256;

// PCP's mapping nonce (RFC 6887 §11.1): 12 random octets a client sends with every
// request about a mapping, so that nobody else can refresh or delete it (§11.2).
using PcpNonce = std::array<std::uint8_t, 12>;

struct PortMapping {
    Protocol protocol = Protocol::tcp;         // tcp or udp
    Port external;                             // on the WAN address; never 0 once granted
    Endpoint internal;
    std::optional<Ipv4Address> remote_host;    // UPnP NewRemoteHost; nullopt = wildcard ""
    std::string description;                   // NewPortMappingDescription, normalized
    bool enabled = true;                       // NewEnabled; a disabled mapping holds its port, forwards nothing
    std::optional<Instant> expires;            // engine time the lease ends; nullopt = no expiry
    Ipv4Address owner;                         // the LAN address that asked for it
    std::optional<PcpNonce> pcp_nonce;         // set when PCP granted it: only a request with it changes it

    bool operator==(const PortMapping&) const = default;
};

// What is left of the lease at `now`, in whole seconds rounded up (what
// GetSpecificPortMappingEntry reports as NewLeaseDuration and the lease file stores);
// 0 both for "no expiry" and for a lease that is over, so check `expires` first.
inline std::uint32_t remaining_lease_seconds(const PortMapping& m, Instant now) {
    if (!m.expires || *m.expires <= now) return 0;
    auto ms = (*m.expires - now).count();
    auto seconds = (ms + 999) / 1000;
    return seconds > 0xffffffffLL ? 0xffffffffU : std::uint32_t(seconds);
}

}  // namespace gw

// What one front-end request (UPnP, NAT-PMP, PCP) changed in the mapping policy, for the
// caller to carry out: open each granted mapping in the packet path and close each removed
// one, journal both, announce the new count. The front ends' protocol logic stays pure
// (it only asks MappingPolicy and reports here); the caller does the I/O.
#pragma once

#include <vector>

#include "igd/port_mapping.hpp"

namespace gw {

struct MappingChanges {
    std::vector<PortMapping> granted;  // new, or replacing the same (protocol, external port)
    std::vector<PortMapping> removed;

    bool empty() const { return granted.empty() && removed.empty(); }
};

}  // namespace gw

// The small conversions every UDP adapter of the daemon needs (SSDP, NAT-PMP/PCP, STUN):
// an Endpoint as the kernel wants it, and errno as text for a log line.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "nat/endpoint.hpp"

namespace gw {

inline sockaddr_in socket_address(Endpoint e) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(e.address.host_order());
    a.sin_port = htons(e.port.value);
    return a;
}

inline std::string error_text(int error_number) { return std::strerror(error_number); }

}  // namespace gw

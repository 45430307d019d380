// What a refused AddPortMapping or AddPinhole asked for and why it was refused, in words
// for its log line. The policies answer with a UPnP code, and one code can have several
// causes an operator fixes in different places (606: secure mode, or upnp.permissions);
// the causes are told apart here by what the request asked, in the order the policy
// checks them (MappingPolicy::check_request then check_port; PinholePolicy::check_request
// then add).
//
// The line (RefusalLog writes it, rate-limited):
//   UPnP: AddPortMapping from 192.168.50.23 refused: TCP 8080 -> 192.168.50.99:80:
//   606 Action not authorized (secure mode: a client may map only to its own address)
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "igd/mapping_policy.hpp"
#include "igd/pinhole_policy.hpp"
#include "igd/soap_arguments.hpp"

namespace gw {

// "TCP 8080 -> 192.168.50.99:80"
std::string mapping_request_text(const PortMapping& requested);
// "TCP [2001:db8:1::20]:5000 from any", "UDP [2001:db8:1::20]:5000 from [2001:db8::7]:53"
std::string pinhole_request_text(const PinholeRequest& request);

std::string mapping_refusal_reason(MappingRefusal refusal, const PortMapping& requested, Ipv4Address requester,
                                   bool secure_mode, bool at_client_limit);
std::string pinhole_refusal_reason(PinholeRefusal refusal, const PinholeRequest& request,
                                   const Ipv6Address& requester, bool secure_mode,
                                   std::span<const Ipv6Network> lan_prefixes,
                                   std::span<const Ipv6Address> gateway_addresses);

// "UPnP: <what> refused: <request>: <code> <description> (<reason>)"; without a request
// or a reason their parts are left out.
std::string refusal_line(std::string_view what, std::string_view request, const SoapFault& fault,
                         std::string_view reason);

}  // namespace gw

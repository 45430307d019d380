// pupnp 1.8.4 opens its SSDP receive sockets (0.0.0.0:1900 and [::]:1900) in UpnpInit2
// and answers every M-SEARCH they get, with no way to turn that off but compiling it
// out. The gateway answers SSDP itself (daemon/ssdp_server.hpp), so pupnp's sockets get
// a classic BPF program that drops every datagram before it is queued (SO_ATTACH_FILTER,
// locked with SO_LOCK_FILTER): pupnp still owns and polls them, and never reads one.
// Its NOTIFYs (UpnpSendAdvertisement is never called) and the ssdp:byebye of
// UpnpUnRegisterRootDevice/UpnpFinish are stopped by the iptables backstop
// (daemon/queue_rules.hpp: only gatewayd's marked SSDP sockets may send to the group).
#pragma once

#include <cstddef>
#include <span>

namespace gw {

// Finds this process's UDP sockets bound to port 1900 (any family) through /proc/self/fd
// and getsockname, except `keep`, and makes them drop all they receive. Returns how many
// it silenced; throws StartupError when one cannot be silenced.
std::size_t silence_foreign_ssdp_sockets(std::span<const int> keep = {});

}  // namespace gw

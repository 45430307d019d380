// The daemon's whole configuration as loaded from YAML, and the loader's contract.
// The schema (keys, types, defaults, documentation) lives once, in config_schema.cpp;
// the loader, the error messages and docs/configuration.md are derived from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nat/endpoint.hpp"
#include "firewall/firewall_config.hpp"
#include "igd/igd_config.hpp"
#include "igd/port_control_config.hpp"
#include "nat/nat_config.hpp"

namespace gw {

// wan.stun: the STUN server asked what address the internet sees (RFC 5389).
struct StunServerConfig {
    std::string host;  // a name or an IPv4 address
    std::uint16_t port = 3478;  // RFC 5389 section 9: the default STUN port
    bool operator==(const StunServerConfig&) const = default;
    std::string to_string() const { return host + ":" + std::to_string(port); }
};

// wan.cascade_mappings: what port mapping requests get when another NAT is upstream.
enum class CascadeMappings : std::uint8_t {
    warn,    // granted (they work between LAN hosts and the upstream NAT's network), with the warning logged
    refuse,  // refused: a control point learns at once that nobody outside can reach it
};

// wan.upstream_mappings: whether, and through which protocol, each opening gatewayd
// grants is carried through another NAT upstream (issue 19; daemon/upstream_worker.hpp).
enum class UpstreamMappingsMode : std::uint8_t {
    automatic,  // "auto": PCP, then NAT-PMP, then UPnP, and only when another NAT is upstream
    pcp,
    natpmp,
    upnp,
    off,
};

// wan.upstream_failure: what a fresh local grant gets when its upstream half cannot be had.
enum class UpstreamFailurePolicy : std::uint8_t {
    keep,    // the local mapping stays (reachable from the upstream's network only), with a warning
    refuse,  // the local grant is undone and the client gets an error
};

struct GatewayConfig {
    std::string lan_interface;                // lan.interface (required)
    std::string wan_interface;                // wan.interface (required)
    std::optional<Ipv4Address> wan_address;   // wan.address: nullopt = "auto" (read from the interface)
    std::optional<StunServerConfig> wan_stun;  // wan.stun: nullopt = no STUN
    std::optional<Endpoint> metrics_listen;    // metrics.listen: nullopt = no HTTP endpoint
    CascadeMappings cascade_mappings = CascadeMappings::warn;  // wan.cascade_mappings
    UpstreamMappingsMode upstream_mappings = UpstreamMappingsMode::automatic;  // wan.upstream_mappings
    UpstreamFailurePolicy upstream_failure = UpstreamFailurePolicy::keep;      // wan.upstream_failure
    PortRange port_range{1024, 65535};        // nat.port_range
    std::optional<PortRange> low_port_range;  // nat.low_port_range: nullopt = none (off)
    bool unreachable_when_full = true;        // nat.unreachable_when_full
    NatTimeouts timeouts;                     // nat.timeouts.{udp,tcp_established,tcp_opening,tcp_closing,icmp}
    // Which of the keys nat.timeouts.tcp_transitory also sets the file names itself: those win.
    struct TimeoutsGiven {
        bool tcp_opening = false, tcp_closing = false;
    } timeouts_given;
    std::uint32_t max_mappings = 262144;      // nat.max_mappings
    FlowLimits limits;                        // nat.max_flows_per_host, max_ports_per_host, max_embryonic_inbound
    std::uint16_t queue_number = 0;           // nfqueue.queue: the first of the workers' queues
    std::uint16_t queue_workers = 1;          // nfqueue.workers: queues queue_number .. +workers-1
    std::int64_t queue_socket_buffer_bytes = 8 << 20;  // nfqueue.socket_buffer_bytes (SO_RCVBUFFORCE)
    FirewallConfig firewall;                  // firewall.*, lan.networks
    IgdConfig upnp;                           // upnp.*: the mapping policy of every front end, and UPnP's own keys
    PortControlConfig port_control;           // natpmp.*, pcp.*: the UDP 5351 server
};

// One problem in a config file, positioned like a compiler error. The message quotes
// the file only with its control and non-UTF-8 bytes escaped (printable_text()).
struct ConfigError {
    std::string file;
    int line = 0;    // 1-based
    int column = 0;  // 1-based
    std::string message;
    bool warning = false;  // the file loads all the same

    // "file:line:column: message", or "file:line:column: warning: message"
    std::string to_string() const;
};

// A configuration is a few kilobytes; a bigger file is the wrong one (a log, an image),
// and yaml-cpp's tree of it would take memory in proportion. Refused before it is read.
inline constexpr std::size_t max_config_file_bytes = 1 << 20;
// Beyond these the operator learns only how many more there are: the first errors are
// the ones to fix, and a generated or binary file can hold hundreds of thousands.
inline constexpr std::size_t max_reported_config_errors = 50;

struct ConfigLoadResult {
    std::optional<GatewayConfig> config;  // set only when there is no error
    std::vector<ConfigError> errors;      // the first max_reported_config_errors problems, in file order
    std::size_t more_errors = 0;          // problems found after those
    std::vector<ConfigError> warnings;    // of a file that loads: what it says is likely not what was meant

    std::size_t error_count() const { return errors.size() + more_errors; }
};

// What --check-config prints and a reload reports: each error, then "… and N more
// errors" when there were more, then each warning.
std::vector<std::string> config_report_lines(const ConfigLoadResult& result);

// `source_name` is what errors call the file.
ConfigLoadResult load_config_text(std::string_view yaml_text, const std::string& source_name);
// Refuses what is not a regular file (a FIFO, /dev/zero) and a file over
// max_config_file_bytes without reading it.
ConfigLoadResult load_config_file(const std::string& path);

}  // namespace gw

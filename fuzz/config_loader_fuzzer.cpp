// libFuzzer harness for the YAML config loader and its schema checks: any text either
// loads into a config or yields positioned errors, never both, never a crash, and no
// message carries a raw control byte of the input to a terminal; a config
// that loads builds a packet engine (the cross-key checks promise the engine can take it).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/gateway_config.hpp"
#include "daemon/gateway_daemon.hpp"
#include "firewall/packet_engine.hpp"

namespace {

[[noreturn]] void invariant_broken(const char* what, const std::string& detail = "") {
    std::fprintf(stderr, "config_loader invariant broken: %s %s\n", what, detail.c_str());
    std::abort();
}

void check_loaded(const gw::GatewayConfig& config) {
    using gw::NatTimeouts;
    if (config.lan_interface.empty() || config.wan_interface.empty()) invariant_broken("interface missing");
    if (config.port_range.first > config.port_range.last) invariant_broken("port range reversed");
    if (config.timeouts.udp < NatTimeouts::udp_minimum || config.timeouts.icmp < NatTimeouts::icmp_minimum ||
        config.timeouts.tcp_established < NatTimeouts::tcp_established_minimum ||
        config.timeouts.tcp_opening < NatTimeouts::tcp_opening_minimum ||
        config.timeouts.tcp_closing < NatTimeouts::tcp_closing_minimum)
        invariant_broken("a timeout below its RFC minimum was accepted");
    if (config.upnp.per_client_limit > config.upnp.max_mappings) invariant_broken("per-client limit above max");
    for (const gw::PortForward& f : config.firewall.forwards)
        if (f.external_ports.first > f.external_ports.last) invariant_broken("forward range reversed", f.name);
    // The engine takes whatever the loader accepted (its table size capped: the
    // reservation would dominate the run, not the code under test).
    gw::GatewayConfig capped = config;
    capped.max_mappings = std::min<std::uint32_t>(capped.max_mappings, 1024);
    gw::EngineSetup setup =
        gw::engine_setup_from_config(capped, config.wan_address.value_or(gw::Ipv4Address::from_octets(203, 0, 113, 1)));
    gw::PacketEngine engine(setup);
    (void)engine.counters();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    gw::ConfigLoadResult result = gw::load_config_text(text, "fuzz.yaml");
    if (result.config.has_value() == !result.errors.empty())
        invariant_broken("a load must give a config or errors, not both or neither");
    if (result.errors.size() > gw::max_reported_config_errors) invariant_broken("more errors kept than reported");
    if (result.config && !result.warnings.empty() && result.warnings.front().message.empty())
        invariant_broken("a warning without a message");
    for (const std::string& line : gw::config_report_lines(result)) {
        for (unsigned char c : line) {
            if (c < 0x20 || c == 0x7f) invariant_broken("a raw control byte in a message", line);
        }
    }
    for (const gw::ConfigError& error : result.errors) {
        if (error.message.empty()) invariant_broken("an error without a message");
        if (error.line < 0 || error.column < 0) invariant_broken("negative position", error.to_string());
        if (!error.to_string().starts_with("fuzz.yaml:")) invariant_broken("error not named after its file");
    }
    if (result.config) check_loaded(*result.config);
    return 0;
}

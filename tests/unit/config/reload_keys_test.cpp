// Which keys a reload applies in place (config/reload_keys.hpp): only keys of the schema, and
// none of those set up once at start.
#include <catch2/catch.hpp>

#include "config/config_reference.hpp"
#include "config/config_schema.hpp"
#include "config/reload_keys.hpp"

namespace gw {

TEST_CASE("every key a reload applies in place is a key of the config schema") {
    for (std::string_view entry : keys_applied_in_place()) {
        INFO(entry);
        bool names_a_key = false;
        for (const SchemaKey& key : config_schema())
            if (entry.ends_with('.') ? key.path.starts_with(entry) : key.path == entry) names_a_key = true;
        CHECK(names_a_key);
    }
}

TEST_CASE("the keys set up at start need a restart: sockets, table sizes, the lease file and pupnp's description") {
    for (std::string_view key : {"lan.interface", "wan.address", "nat.port_range", "nat.max_flows_per_host",
                                 "nfqueue.workers", "metrics.listen", "firewall.ipv6.max_flows", "upnp.http_port",
                                 "upnp.lease_file", "upnp.lease_sync", "upnp.pinholes.max_pinholes", "natpmp.enabled"})
        CHECK_FALSE(applies_in_place(key));
    for (std::string_view key : {"nat.timeouts.icmp", "firewall.policy.inbound", "firewall.ipv6.inbound_echo_request",
                                 "upnp.max_lease", "upnp.permissions"})
        CHECK(applies_in_place(key));
}

TEST_CASE("the reference names every key a reload applies in place") {
    const std::string reference = config_reference_markdown();
    for (std::string_view entry : keys_applied_in_place()) {
        INFO(entry);
        std::string shown = "`" + std::string(entry) + (entry.ends_with('.') ? "*`" : "`");
        CHECK(reference.find(shown) != std::string::npos);
    }
}

}  // namespace gw

// The IGD counts every refused action by the UPnP error it answered, and actions from
// outside the LAN apart, for gatewayctl status.
#include <catch2/catch.hpp>

#include "igd/upnp_refusal_counters.hpp"

namespace gw {

TEST_CASE("refusals are counted per UPnP error and listed with code and name, outside_lan last") {
    UpnpRefusalCounters counters;
    CHECK(counters.nonzero().empty());
    counters.count(UpnpError::no_port_maps_available);
    counters.count(UpnpError::no_port_maps_available);
    counters.count(UpnpError::invalid_args);
    counters.count(UpnpError::action_not_authorized);
    counters.count_outside_lan();
    CHECK(counters.of(UpnpError::no_port_maps_available) == 2);
    CHECK(counters.of(UpnpError::conflict_in_mapping_entry) == 0);
    using Row = std::pair<std::string, std::uint64_t>;
    CHECK(counters.nonzero() == std::vector<Row>{{"402_invalid_args", 1},
                                                 {"606_action_not_authorized", 1},
                                                 {"728_no_port_maps_available", 2},
                                                 {"outside_lan", 1}});
}

TEST_CASE("every UPnP error has its own counter and a distinct name") {
    UpnpRefusalCounters counters;
    for (auto error : all_upnp_errors) counters.count(error);
    auto rows = counters.nonzero();
    REQUIRE(rows.size() == all_upnp_errors.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].second == 1);
        CHECK(rows[i].first == std::to_string(int(all_upnp_errors[i])) + "_" +
                                   std::string(upnp_error_name(all_upnp_errors[i])));
        for (std::size_t j = 0; j < i; ++j) CHECK(rows[i].first != rows[j].first);
    }
}

}  // namespace gw

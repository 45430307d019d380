// The front-end supervisor (issue 13): UPnP and NAT-PMP/PCP start once the LAN is ready,
// a failed start is retried with a growing backoff, and a new LAN address restarts them.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "daemon/front_end_supervisor.hpp"

namespace gw {
namespace {

using std::chrono::seconds;

const Ipv4Address lan_a = Ipv4Address::from_octets(192, 168, 50, 1);
const Ipv4Address lan_b = Ipv4Address::from_octets(192, 168, 60, 1);

struct FakeFrontEnd {
    int starts = 0, stops = 0, failures_left = 0;
    std::vector<Ipv4Address> started_on;
    SupervisedFrontEnd as_supervised() {
        return {"fake",
                [this](Ipv4Address lan) {
                    ++starts;
                    if (failures_left > 0) {
                        --failures_left;
                        throw std::runtime_error("UPNP_E_SOCKET_BIND");
                    }
                    started_on.push_back(lan);
                },
                [this] { ++stops; }};
    }
};

LanReadiness ready_on(Ipv4Address a) { return {a, true, ""}; }
LanReadiness tentative(Ipv4Address a) { return {a, false, "lan0's IPv6 address is still tentative (DAD)"}; }

}  // namespace

TEST_CASE("a front end waits while the LAN is not ready and starts on the first check after it is") {
    LanReadiness lan = tentative(lan_a);
    FrontEndSupervisor supervisor([&] { return lan; });
    FakeFrontEnd upnp;
    supervisor.add(upnp.as_supervised());
    supervisor.check(Instant{0});
    supervisor.check(Instant{seconds(1)});
    CHECK(upnp.starts == 0);
    CHECK_FALSE(supervisor.running("fake"));
    lan = ready_on(lan_a);
    supervisor.check(Instant{seconds(2)});
    CHECK(upnp.starts == 1);
    CHECK(supervisor.running("fake"));
    supervisor.check(Instant{seconds(3)});
    CHECK(upnp.starts == 1);  // running: not started again
}

TEST_CASE("a failed start is undone and retried after 1, 2, 4 ... seconds, never more than 30") {
    FrontEndSupervisor supervisor([] { return ready_on(lan_a); });
    FakeFrontEnd upnp;
    upnp.failures_left = 7;
    supervisor.add(upnp.as_supervised());
    Instant now{0};
    supervisor.check(now);
    CHECK(upnp.starts == 1);
    CHECK(upnp.stops == 1);  // the half start undone
    supervisor.check(now + seconds(1) - std::chrono::milliseconds(1));
    CHECK(upnp.starts == 1);  // still backing off
    const int waits[] = {1, 2, 4, 8, 16, 30, 30};
    for (int wait : waits) {
        now += seconds(wait);
        supervisor.check(now);
    }
    CHECK(upnp.starts == 8);
    CHECK(supervisor.running("fake"));
    CHECK(supervisor.failed_starts() == 7);
}

TEST_CASE("a new LAN address restarts a running front end on it; a tentative address alone does not") {
    LanReadiness lan = ready_on(lan_a);
    FrontEndSupervisor supervisor([&] { return lan; });
    FakeFrontEnd upnp;
    supervisor.add(upnp.as_supervised());
    supervisor.check(Instant{0});
    lan = tentative(lan_a);  // a new IPv6 address under DAD: the running server keeps its sockets
    supervisor.check(Instant{seconds(1)});
    CHECK(upnp.stops == 0);
    lan = ready_on(lan_b);
    supervisor.check(Instant{seconds(2)});
    CHECK(upnp.stops == 1);
    REQUIRE(upnp.started_on.size() == 2);
    CHECK(upnp.started_on[1] == lan_b);
    CHECK(supervisor.running("fake"));
}

}  // namespace gw

#include <catch2/catch.hpp>

#include "daemon/queue_rules.hpp"

using gw::queue_rules_install_script;
using gw::queue_rules_removal_script;

TEST_CASE("the queue rules steer WAN arrivals before routing and LAN-to-WAN traffic after it") {
    std::string script = queue_rules_install_script({"lan0", "wan0", 7, "203.0.113.1"});
    CHECK(script.find("-I PREROUTING 1 -i wan0 -j GATEWAYD_INBOUND\n") != std::string::npos);
    CHECK(script.find("-I FORWARD 1 -i lan0 -o wan0 -j GATEWAYD_OUTBOUND\n") != std::string::npos);
    CHECK(script.find("-I INPUT 1 -i lan0 -j GATEWAYD_INPUT\n") != std::string::npos);
    CHECK(script.find("-I PREROUTING 1 -i lan0 -d 203.0.113.1/32 -j GATEWAYD_HAIRPIN\n") != std::string::npos);
    CHECK(script.find("-I OUTPUT 1 -o wan0 -j GATEWAYD_LOCAL\n") != std::string::npos);
    CHECK(script.find("-A GATEWAYD_INBOUND -j NFQUEUE --queue-num 7\n") != std::string::npos);
    // Fail-closed: without a listener the kernel must drop, not pass.
    CHECK(script.find("--queue-bypass") == std::string::npos);
    CHECK(script.rfind("*mangle\n", 0) == 0);
    CHECK(script.find("COMMIT\n") != std::string::npos);
}

TEST_CASE("rules left behind by a crashed instance are all found for removal, and nobody else's") {
    std::string saved =
        "*mangle\n"
        ":PREROUTING ACCEPT [0:0]\n"
        ":FORWARD ACCEPT [0:0]\n"
        ":GATEWAYD_INBOUND - [0:0]\n"
        ":GATEWAYD_OUTBOUND - [0:0]\n"
        ":OTHER - [0:0]\n"
        "-A PREROUTING -i wan0 -j GATEWAYD_INBOUND\n"
        "-A PREROUTING -i wan0 -j GATEWAYD_INBOUND\n"
        "-A PREROUTING -i eth9 -j OTHER\n"
        "-A FORWARD -i lan0 -o wan0 -j GATEWAYD_OUTBOUND\n"
        "-A GATEWAYD_INBOUND -j NFQUEUE --queue-num 0\n"
        "COMMIT\n";
    std::string script = queue_rules_removal_script(saved);
    CHECK(script ==
          "*mangle\n"
          "-D PREROUTING -i wan0 -j GATEWAYD_INBOUND\n"
          "-D PREROUTING -i wan0 -j GATEWAYD_INBOUND\n"
          "-D FORWARD -i lan0 -o wan0 -j GATEWAYD_OUTBOUND\n"
          "-F GATEWAYD_INBOUND\n"
          "-F GATEWAYD_OUTBOUND\n"
          "-X GATEWAYD_INBOUND\n"
          "-X GATEWAYD_OUTBOUND\n"
          "COMMIT\n");
}

TEST_CASE("with no rules of ours present there is nothing to remove") {
    CHECK(queue_rules_removal_script("*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j OTHER\nCOMMIT\n").empty());
}

TEST_CASE("several workers spread every chain over their consecutive queues with --queue-balance", "[queue_rules]") {
    std::string script = queue_rules_install_script({"lan0", "wan0", 7, "203.0.113.1", 2});
    for (const char* chain : {"GATEWAYD_INBOUND", "GATEWAYD_OUTBOUND", "GATEWAYD_INPUT", "GATEWAYD_LOCAL",
                              "GATEWAYD_HAIRPIN"})
        CHECK(script.find(std::string("-A ") + chain + " -j NFQUEUE --queue-balance 7:8\n") != std::string::npos);
    CHECK(script.find("--queue-num") == std::string::npos);
    // Fail-closed as with one queue: no bypass, and no --fail-open anywhere.
    CHECK(script.find("--queue-bypass") == std::string::npos);
}

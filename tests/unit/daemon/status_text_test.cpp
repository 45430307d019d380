#include <catch2/catch.hpp>

#include <string>

#include "daemon/control_json.hpp"
#include "daemon/status_text.hpp"

namespace {

std::string text_of(const std::string& json) {
    auto status = gw::parse_json(json);
    REQUIRE(status);
    return gw::status_text(*status);
}

const std::string status_json = R"({"ok":true,"version":"0.1.0","pid":4242,"config_path":"/etc/gatewayd/gateway.yaml",
  "wan_address":"203.0.113.1","wan":{"class":"public","cascade":"no"},"wan_interface":"wan0","lan_interface":"lan0",
  "uptime_seconds":7392,"filtering":"endpoint-independent","flows":7,"nat_mappings":3,"upnp_mappings":1,
  "timed_forwards":0,"rules":2,
  "counters":{"packets_out":120,"bytes_out":15000,"packets_in":98,"bytes_in":12000,"packets_local":40,
              "flows_created":9,"drops_total":12,"drops":{"denied_by_policy":10,"lan_source_unresolved":2}},
  "upnp_refusals":{"from_wan":0,"http_bad_host":3,"soap_606":0},
  "ssdp":{"searches":0,"answers_sent":0},
  "front_ends":{"upnp":{"state":"running","reason":""},"port_control":{"state":"waiting","reason":"no LAN address"},"failed_starts":0},
  "warnings":["WAN address 203.0.113.1 is shared"]})";

}  // namespace

TEST_CASE("the person's status starts with the version, PID, uptime and config file") {
    std::string text = text_of(status_json);
    CHECK(text.rfind("gatewayd 0.1.0, pid 4242, up 2h 03m 12s, config /etc/gatewayd/gateway.yaml\n", 0) == 0);
    CHECK_THAT(text, Catch::Contains("WAN         wan0 203.0.113.1 (public)\n"));
    CHECK_THAT(text, Catch::Contains("holding     7 flows, 3 NAT mappings, 1 port mappings, 0 timed forwards, 2 rules\n"));
}

TEST_CASE("the person's status shows non-zero counters only, and the warnings") {
    std::string text = text_of(status_json);
    CHECK_THAT(text, Catch::Contains("traffic     out 120 packets (15.0 kB), in 98 packets (12.0 kB), local 40 packets\n"));
    CHECK_THAT(text, Catch::Contains("drops       12: denied_by_policy 10, lan_source_unresolved 2\n"));
    CHECK_THAT(text, Catch::Contains("upnp_refusals http_bad_host 3\n"));
    CHECK_THAT(text, !Catch::Contains("from_wan"));
    CHECK_THAT(text, !Catch::Contains("soap_606"));
    CHECK_THAT(text, !Catch::Contains("ssdp"));  // nothing but zeros there
    CHECK_THAT(text, Catch::Contains("front ends  upnp running, port_control waiting (no LAN address)\n"));
    CHECK_THAT(text, Catch::Contains("warning     WAN address 203.0.113.1 is shared\n"));
}

TEST_CASE("a quiet gateway's status says there are no drops and no warnings") {
    std::string text = text_of(R"({"ok":true,"counters":{"drops_total":0,"drops":{}},"warnings":[]})");
    CHECK_THAT(text, Catch::Contains("drops       none\n"));
    CHECK_THAT(text, Catch::Contains("warnings    none\n"));
}

TEST_CASE("the person's status condenses the kernel's reassembly into one line, once it saw a fragment") {
    std::string text = text_of(R"({"ok":true,"ip_reassembly":{"fragments":30,"reassembled":9,"failed":2,"timed_out":1,
        "memory_bytes":1500,"memory_limit_bytes":4194304,"timeout_seconds":30},"warnings":[]})");
    CHECK_THAT(text, Catch::Contains("reassembly  9 datagrams from 30 fragments, 2 failed (1 timed out), 1.5 kB held\n"));
    std::string quiet = text_of(R"({"ok":true,"ip_reassembly":{"fragments":0,"reassembled":0},"warnings":[]})");
    CHECK_THAT(quiet, !Catch::Contains("reassembly"));
}

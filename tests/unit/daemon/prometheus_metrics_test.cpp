#include <catch2/catch.hpp>

#include <string>

#include "daemon/control_json.hpp"
#include "daemon/prometheus_metrics.hpp"

namespace {

std::string metrics_of(const std::string& status_json) {
    auto status = gw::parse_json(status_json);
    REQUIRE(status);
    return gw::prometheus_metrics(*status);
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("status gauges and counters become Prometheus samples, counters ending in _total") {
    std::string text = metrics_of(R"({"ok":true,"wan_address":"203.0.113.1","uptime_seconds":12,"flows":3,
        "counters":{"packets_out":10,"packets_in":7,"bytes_out":1500,"drops_total":5,
                    "drops":{"denied_by_rule":4,"lan_source_wrong_mac":1}}})");
    CHECK(has_line(text, "gatewayd_up 1"));
    CHECK(has_line(text, "gatewayd_uptime_seconds 12"));
    CHECK(has_line(text, "gatewayd_flows 3"));
    CHECK(has_line(text, "# TYPE gatewayd_packets_total counter"));
    CHECK(has_line(text, R"(gatewayd_packets_total{direction="out"} 10)"));
    CHECK(has_line(text, R"(gatewayd_packets_total{direction="in"} 7)"));
    CHECK(has_line(text, R"(gatewayd_bytes_total{direction="out"} 1500)"));
    CHECK(has_line(text, R"(gatewayd_drops_total{reason="denied_by_rule"} 4)"));
    CHECK(has_line(text, R"(gatewayd_info{wan_address="203.0.113.1"} 1)"));
    CHECK(text.find("drops_total 5") == std::string::npos);  // the sum is the families' business
}

TEST_CASE("every sample of a family follows its one HELP and TYPE") {
    std::string text = metrics_of(R"({"counters":{"packets_out":1,"bytes_out":2,"packets_in":3}})");
    auto type = text.find("# TYPE gatewayd_packets_total counter");
    REQUIRE(type != std::string::npos);
    CHECK(text.find("# TYPE gatewayd_packets_total", type + 1) == std::string::npos);
    auto out = text.find(R"(gatewayd_packets_total{direction="out"})");
    auto in = text.find(R"(gatewayd_packets_total{direction="in"})");
    auto bytes = text.find("# TYPE gatewayd_bytes_total");
    CHECK((type < out && out < in && (bytes < type || bytes > in)));
}

TEST_CASE("label values are escaped, so no interface or rule name can break the exposition") {
    std::string text = metrics_of(R"({"wan_interface":"we\"ird\\name\nx"})");
    CHECK(has_line(text, R"(gatewayd_info{wan_interface="we\"ird\\name\nx"} 1)"));
}

TEST_CASE("what status lacks is left out rather than reported as zero") {
    std::string text = metrics_of(R"({"ok":true})");
    CHECK(text.find("gatewayd_flows") == std::string::npos);
    CHECK(text.find("gatewayd_packets_total") == std::string::npos);
}

TEST_CASE("queue figures carry the queue number as a label") {
    std::string text = metrics_of(R"({"queues":[{"queue":0,"received":9,"waiting":2},{"queue":1,"received":4,"waiting":0}]})");
    CHECK(has_line(text, R"(gatewayd_queue_received_total{queue="0"} 9)"));
    CHECK(has_line(text, R"(gatewayd_queue_received_total{queue="1"} 4)"));
    CHECK(has_line(text, R"(gatewayd_queue_waiting{queue="0"} 2)"));
}

TEST_CASE("microseconds in status are seconds in Prometheus, its base unit") {
    std::string text = metrics_of(R"({"queues":[{"queue":0,"engine_us":2500000}]})");
    CHECK(has_line(text, R"(gatewayd_queue_engine_seconds_total{queue="0"} 2.5)"));
}

TEST_CASE("each rule's packets and bytes are counters labelled with its name, direction and action") {
    auto status = gw::parse_json(R"({"ok":true})");
    auto rules = gw::parse_json(R"({"ok":true,"rules":[{"name":"no-smtp-out","direction":"outbound","action":"drop",
        "packets":3,"bytes":180,"rate_limited":0}],"policies":[{"direction":"inbound","action":"drop","packets":9,"bytes":540}]})");
    REQUIRE(status);
    REQUIRE(rules);
    std::string text = gw::prometheus_metrics(*status, &*rules);
    CHECK(has_line(text, R"(gatewayd_rule_packets_total{rule="no-smtp-out",direction="outbound",action="drop"} 3)"));
    CHECK(has_line(text, R"(gatewayd_rule_bytes_total{rule="no-smtp-out",direction="outbound",action="drop"} 180)"));
    CHECK(has_line(text, R"(gatewayd_policy_bytes_total{direction="inbound",action="drop"} 540)"));
}

TEST_CASE("the kernel's reassembly counters are counters, its memory and bounds gauges") {
    std::string text = metrics_of(R"({"ip_reassembly":{"fragments":30,"reassembled":9,"failed":2,"timed_out":1,
        "memory_bytes":1500,"memory_limit_bytes":4194304,"timeout_seconds":30}})");
    CHECK(has_line(text, "gatewayd_ip_reassembly_fragments_total 30"));
    CHECK(has_line(text, "gatewayd_ip_reassembly_reassembled_total 9"));
    CHECK(has_line(text, "gatewayd_ip_reassembly_failed_total 2"));
    CHECK(has_line(text, "gatewayd_ip_reassembly_timed_out_total 1"));
    CHECK(has_line(text, "gatewayd_ip_reassembly_memory_bytes 1500"));
    CHECK(has_line(text, "gatewayd_ip_reassembly_memory_limit_bytes 4194304"));
    CHECK(has_line(text, "gatewayd_ip_reassembly_timeout_seconds 30"));
}

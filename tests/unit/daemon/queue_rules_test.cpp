#include <catch2/catch.hpp>

#include <algorithm>

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

TEST_CASE("the kernel's ICMP errors to the WAN address itself are queued, and nothing else the gateway sends itself") {
    std::string script = queue_rules_install_script({"lan0", "wan0", 7, "203.0.113.1"});
    for (std::string type : {"destination-unreachable", "time-exceeded", "parameter-problem"})
        CHECK(script.find("-I OUTPUT 1 -o lo -d 203.0.113.1/32 -p icmp --icmp-type " + type + " -j GATEWAYD_LOCAL\n") !=
              std::string::npos);
    CHECK(script.find("-o lo -j") == std::string::npos);
    CHECK(script.find("-o lo -d 203.0.113.1/32 -j") == std::string::npos);
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

TEST_CASE("stale rules are replaced by ours in one transaction, never leaving the gateway open") {
    std::string stale = "*mangle\n:PREROUTING ACCEPT [0:0]\n:GATEWAYD_INBOUND - [0:0]\n"
                        "-A PREROUTING -i wan0 -j GATEWAYD_INBOUND\n-A GATEWAYD_INBOUND -j NFQUEUE --queue-num 7\nCOMMIT\n";
    gw::QueueRuleSet rules{"lan0", "wan0", 7, "203.0.113.1"};
    std::string script = gw::queue_rules_replacement_script(stale, rules);
    auto count = [&](std::string_view what) {
        std::size_t n = 0;
        for (auto at = script.find(what); at != std::string::npos; at = script.find(what, at + 1)) ++n;
        return n;
    };
    CHECK(count("*mangle\n") == 1);
    CHECK(count("COMMIT\n") == 1);
    CHECK(script.find("-D PREROUTING -i wan0 -j GATEWAYD_INBOUND") < script.find(":GATEWAYD_INBOUND"));
    CHECK(script.find("-X GATEWAYD_INBOUND") < script.find("-I PREROUTING 1 -i wan0"));
    CHECK(gw::queue_rules_replacement_script("*mangle\nCOMMIT\n", rules) == gw::queue_rules_install_script(rules));
}

TEST_CASE("a handover stop swaps the queue rules for a hold on the gateway's own resets to the WAN",
          "[queue_rules]") {
    const std::string installed =
        "*mangle\n:GATEWAYD_INBOUND - [0:0]\n-A PREROUTING -i wan0 -j GATEWAYD_INBOUND\n"
        "-A GATEWAYD_INBOUND -j NFQUEUE --queue-num 0\nCOMMIT\n";
    std::string script = gw::hold_connections_script(installed, "wan0");
    CHECK(script.find("-D PREROUTING -i wan0 -j GATEWAYD_INBOUND") != std::string::npos);
    CHECK(script.find("-X GATEWAYD_INBOUND") != std::string::npos);
    CHECK(script.find("-I OUTPUT 1 -o wan0 -p tcp --tcp-flags RST RST -j GATEWAYD_HOLD") != std::string::npos);
    CHECK(script.find("NFQUEUE") == std::string::npos);  // nothing queued: the LAN still reaches the gateway

    // The next start removes the hold with the rest of gatewayd's chains.
    const std::string held =
        "*mangle\n:GATEWAYD_HOLD - [0:0]\n-A OUTPUT -o wan0 -p tcp -m tcp --tcp-flags RST RST -j GATEWAYD_HOLD\n"
        "-A GATEWAYD_HOLD -j DROP\nCOMMIT\n";
    std::string removal = gw::queue_rules_removal_script(held);
    CHECK(removal.find("-D OUTPUT -o wan0 -p tcp -m tcp --tcp-flags RST RST -j GATEWAYD_HOLD") != std::string::npos);
    CHECK(removal.find("-X GATEWAYD_HOLD") != std::string::npos);
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

TEST_CASE("the IPv6 queue rules judge both directions where IPv6 is routed, fail-closed", "[queue_rules]") {
    std::string script = gw::ipv6_queue_rules_install_script({"lan0", "wan0", 7, "203.0.113.1"});
    CHECK(script.rfind("*mangle\n", 0) == 0);
    CHECK(script.find("-I FORWARD 1 -i lan0 -o wan0 -j GATEWAYD_V6_OUTBOUND\n") != std::string::npos);
    CHECK(script.find("-I FORWARD 1 -i wan0 -o lan0 -j GATEWAYD_V6_INBOUND\n") != std::string::npos);
    CHECK(script.find("-A GATEWAYD_V6_INBOUND -j NFQUEUE --queue-num 7\n") != std::string::npos);
    CHECK(script.find("-A GATEWAYD_V6_OUTBOUND -j NFQUEUE --queue-num 7\n") != std::string::npos);
    CHECK(script.find("PREROUTING") == std::string::npos);  // no NAT: nothing before routing
    CHECK(script.find("--queue-bypass") == std::string::npos);
    std::string two = gw::ipv6_queue_rules_install_script({"lan0", "wan0", 7, "203.0.113.1", 2});
    CHECK(two.find("-A GATEWAYD_V6_INBOUND -j NFQUEUE --queue-balance 7:8\n") != std::string::npos);
}

TEST_CASE("over IPv6, UPnP's HTTP and SSDP answer the LAN interface only, with or without IPv6 forwarding",
          "[queue_rules]") {
    gw::QueueRuleSet rules{"lan0", "wan0", 7, "203.0.113.1"};
    rules.ipv6_forwarding = false;
    rules.lan_only_upnp_http_port = 49152;
    std::string script = gw::ipv6_queue_rules_install_script(rules);
    CHECK(script.find("-A GATEWAYD_V6_INPUT ! -i lan0 -p tcp --dport 49152 -j DROP\n") != std::string::npos);
    CHECK(script.find("-A GATEWAYD_V6_INPUT ! -i lan0 -p udp --dport 1900 -j DROP\n") != std::string::npos);
    // The shield comes before the queue: no input rule can open UPnP to the WAN.
    CHECK(script.find("--dport 1900 -j DROP") < script.find("-A GATEWAYD_V6_INPUT -j NFQUEUE"));
    CHECK(script.find("FORWARD") == std::string::npos);  // forwarding is not ours here
}

TEST_CASE("IPv6 to and from the gateway itself is queued on every interface but lo, with or without forwarding",
          "[queue_rules]") {
    for (bool forwarding : {false, true}) {
        gw::QueueRuleSet rules{"lan0", "wan0", 7, "203.0.113.1"};
        rules.ipv6_forwarding = forwarding;
        std::string script = gw::ipv6_queue_rules_install_script(rules);
        CHECK(script.find("-I INPUT 1 ! -i lo -j GATEWAYD_V6_INPUT\n") != std::string::npos);
        CHECK(script.find("-I OUTPUT 1 ! -o lo -j GATEWAYD_V6_LOCAL\n") != std::string::npos);
        CHECK(script.find("-A GATEWAYD_V6_INPUT -j NFQUEUE --queue-num 7\n") != std::string::npos);
        CHECK(script.find("-A GATEWAYD_V6_LOCAL -j NFQUEUE --queue-num 7\n") != std::string::npos);
        // No UPnP: nothing is dropped on its way in before the engine (what is dropped on its
        // way out is the control plane's backstop towards the WAN).
        CHECK(script.find("-A GATEWAYD_V6_INPUT ! -i") == std::string::npos);
        CHECK(script.find("-A GATEWAYD_V6_CONTROL_OUT -o wan0 -p udp --dport 1900 -j DROP\n") != std::string::npos);
    }
}

TEST_CASE("stale IPv6 rules of a crashed instance are replaced in the same transaction as ours go in",
          "[queue_rules]") {
    const std::string saved =
        "*mangle\n:PREROUTING ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:GATEWAYD_V6_INBOUND - [0:0]\n"
        ":GATEWAYD_V6_OUTBOUND - [0:0]\n-A FORWARD -i wan0 -o lan0 -j GATEWAYD_V6_INBOUND\n"
        "-A FORWARD -i lan0 -o wan0 -j GATEWAYD_V6_OUTBOUND\n-A GATEWAYD_V6_INBOUND -j NFQUEUE --queue-num 7\n"
        "-A FORWARD -j ACCEPT\nCOMMIT\n";
    gw::QueueRuleSet rules{"lan0", "wan0", 7, "203.0.113.1"};
    std::string script = gw::ipv6_queue_rules_replacement_script(saved, rules);
    CHECK(script.find("-D FORWARD -i wan0 -o lan0 -j GATEWAYD_V6_INBOUND\n") != std::string::npos);
    CHECK(script.find("-X GATEWAYD_V6_OUTBOUND\n") != std::string::npos);
    CHECK(script.find("-D FORWARD -j ACCEPT") == std::string::npos);  // not ours
    CHECK(script.find("-I FORWARD 1 -i lan0 -o wan0 -j GATEWAYD_V6_OUTBOUND\n") > script.find("-X GATEWAYD_V6_OUTBOUND\n"));
    CHECK(std::count(script.begin(), script.end(), '*') == 1);  // one table, one COMMIT: one transaction
}

TEST_CASE("no SSDP or NAT-PMP/PCP datagram of the gateway leaves by the WAN, before the queue sees it",
          "[queue_rules]") {
    std::string script = queue_rules_install_script({"lan0", "wan0", 7, "203.0.113.1"});
    for (const char* rule : {"-A GATEWAYD_CONTROL_OUT -o wan0 -p udp --dport 1900 -j DROP\n",
                             "-A GATEWAYD_CONTROL_OUT -o wan0 -p udp --sport 1900 -j DROP\n",
                             "-A GATEWAYD_CONTROL_OUT -o wan0 -p udp --sport 5351 -j DROP\n",
                             "-A GATEWAYD_CONTROL_OUT -o wan0 -p udp --dport 5350 -j DROP\n",
                             "-A GATEWAYD_CONTROL_OUT -o wan0 -d 239.255.255.250/32 -j DROP\n",
                             "-A GATEWAYD_CONTROL_OUT -o wan0 -d 224.0.0.1/32 -j DROP\n"})
        CHECK(script.find(rule) != std::string::npos);
    // Inserted last at position 1: ahead of the queue's OUTPUT jumps.
    CHECK(script.find("-I OUTPUT 1 -j GATEWAYD_CONTROL_OUT\n") > script.find("-I OUTPUT 1 -o wan0 -j GATEWAYD_LOCAL\n"));
    CHECK(script.find("--mark") == std::string::npos);  // without UPnP, other SSDP software may speak
}

TEST_CASE("with UPnP on, only gatewayd's marked SSDP sockets may send to the SSDP group, IPv6 included",
          "[queue_rules]") {
    gw::QueueRuleSet rules{"lan0", "wan0", 7, "203.0.113.1"};
    rules.ssdp_from_gatewayd_only = true;
    rules.lan_only_upnp_http_port = 49152;
    CHECK(queue_rules_install_script(rules).find(
              "-A GATEWAYD_CONTROL_OUT -d 239.255.255.250/32 -p udp --dport 1900 -m mark ! --mark 0x47570001 -j DROP\n") !=
          std::string::npos);
    std::string v6 = gw::ipv6_queue_rules_install_script(rules);
    CHECK(v6.find("-A GATEWAYD_V6_CONTROL_OUT -d ff00::/8 -p udp --dport 1900 -m mark ! --mark 0x47570001 -j DROP\n") !=
          std::string::npos);
    CHECK(v6.find("-A GATEWAYD_V6_CONTROL_OUT -o wan0 -p udp --sport 1900 -j DROP\n") != std::string::npos);
    CHECK(v6.find("-I OUTPUT 1 -j GATEWAYD_V6_CONTROL_OUT\n") != std::string::npos);
}

TEST_CASE("the control-plane backstop is removed with the other GATEWAYD chains", "[queue_rules]") {
    std::string saved =
        "*mangle\n:OUTPUT ACCEPT [0:0]\n:GATEWAYD_CONTROL_OUT - [0:0]\n"
        "-A OUTPUT -j GATEWAYD_CONTROL_OUT\n"
        "-A GATEWAYD_CONTROL_OUT -o wan0 -p udp -m udp --dport 1900 -j DROP\nCOMMIT\n";
    std::string removal = queue_rules_removal_script(saved);
    CHECK(removal.find("-D OUTPUT -j GATEWAYD_CONTROL_OUT\n") != std::string::npos);
    CHECK(removal.find("-X GATEWAYD_CONTROL_OUT\n") != std::string::npos);
}

TEST_CASE("pupnp's own HTTP port, behind the front end, is dropped on every interface but lo, IPv4 and IPv6",
          "[queue_rules]") {
    gw::QueueRuleSet rules{"lan0", "wan0", 7, "203.0.113.1"};
    rules.loopback_only_tcp_port = 49153;
    for (const std::string& script :
         {gw::queue_rules_install_script(rules), gw::ipv6_queue_rules_install_script(rules)}) {
        CHECK(script.find("-A GATEWAYD_LOOPBACK_ONLY -p tcp --dport 49153 -j DROP\n") != std::string::npos);
        // Inserted last at position 1: ahead of the queue, whose accept would end the chain.
        auto jump = script.find("-I INPUT 1 ! -i lo -j GATEWAYD_LOOPBACK_ONLY\n");
        REQUIRE(jump != std::string::npos);
        CHECK(script.find("-I INPUT 1", jump + 1) == std::string::npos);
    }
    rules.loopback_only_tcp_port.reset();
    CHECK(gw::queue_rules_install_script(rules).find("GATEWAYD_LOOPBACK_ONLY") == std::string::npos);
}

TEST_CASE("the queue rules switch on the kernel's IPv4 reassembly from a chain no packet enters") {
    std::string script = queue_rules_install_script({"lan0", "wan0", 7, "203.0.113.1"});
    CHECK(script.find(":GATEWAYD_DEFRAG - [0:0]\n") != std::string::npos);
    CHECK(script.find("-A GATEWAYD_DEFRAG -m socket --transparent -j RETURN\n") != std::string::npos);
    CHECK(script.find("-j GATEWAYD_DEFRAG") == std::string::npos);  // no jump: the rule never runs
    // Removed with the others, from what iptables-save prints.
    std::string removal = queue_rules_removal_script("*mangle\n:GATEWAYD_DEFRAG - [0:0]\n"
                                                     "-A GATEWAYD_DEFRAG -m socket --transparent -j RETURN\nCOMMIT\n");
    CHECK(removal.find("-X GATEWAYD_DEFRAG\n") != std::string::npos);
}

TEST_CASE("an M-SEARCH from a port other than 1900 may leave by the WAN, other SSDP stays dropped", "[queue_rules]") {
    gw::QueueRuleSet rules{"lan0", "wan0", 7, "203.0.113.1"};
    rules.ssdp_from_gatewayd_only = true;
    std::string script = queue_rules_install_script(rules);
    const std::string search =
        "-A GATEWAYD_CONTROL_OUT -o wan0 -d 239.255.255.250/32 -p udp ! --sport 1900 --dport 1900 -m u32 --u32 "
        "\"0>>22&0x3C@8=0x4d2d5345&&0>>22&0x3C@12=0x41524348\" -j RETURN\n";
    auto at = script.find(search);
    REQUIRE(at != std::string::npos);
    // After the drop of what our SSDP server sends (from 1900), before every other drop of SSDP.
    CHECK(script.find("-A GATEWAYD_CONTROL_OUT -o wan0 -p udp --sport 1900 -j DROP\n") < at);
    CHECK(script.find("-A GATEWAYD_CONTROL_OUT -o wan0 -p udp --dport 1900 -j DROP\n") > at);
    CHECK(script.find("-A GATEWAYD_CONTROL_OUT -o wan0 -d 239.255.255.250/32 -j DROP\n") > at);
    CHECK(script.find("--mark 0x47570001 -j DROP\n") > at);
    CHECK(gw::ipv6_queue_rules_install_script(rules).find("RETURN") == std::string::npos);  // no IPv6 control point
}

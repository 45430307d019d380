#include "queue_rules.hpp"

#include <sstream>
#include <vector>

#include "command_runner.hpp"

namespace gw {
namespace {

constexpr std::string_view chain_prefix = "GATEWAYD_";
constexpr std::string_view inbound_chain = "GATEWAYD_INBOUND";
constexpr std::string_view outbound_chain = "GATEWAYD_OUTBOUND";
constexpr std::string_view input_chain = "GATEWAYD_INPUT";
constexpr std::string_view local_chain = "GATEWAYD_LOCAL";
constexpr std::string_view hairpin_chain = "GATEWAYD_HAIRPIN";
constexpr std::string_view hold_chain = "GATEWAYD_HOLD";
constexpr std::string_view ipv6_outbound_chain = "GATEWAYD_V6_OUTBOUND";
constexpr std::string_view ipv6_inbound_chain = "GATEWAYD_V6_INBOUND";
constexpr std::string_view ipv6_input_chain = "GATEWAYD_V6_INPUT";
constexpr std::string_view ipv6_local_chain = "GATEWAYD_V6_LOCAL";
constexpr std::string_view control_out_chain = "GATEWAYD_CONTROL_OUT";
constexpr std::string_view defrag_chain = "GATEWAYD_DEFRAG";
constexpr std::string_view ipv6_control_out_chain = "GATEWAYD_V6_CONTROL_OUT";

// "M-SEARCH" at the start of the UDP payload: the IP header's length (IHL * 4) plus 8.
constexpr std::string_view ssdp_search_u32 = "0>>22&0x3C@8=0x4d2d5345&&0>>22&0x3C@12=0x41524348";

// The control plane's datagrams that must never leave by the WAN (issue 13), and with
// UPnP on the SSDP that is not gatewayd's own (pupnp's, issue 14.6). OUTPUT sees only the
// gateway's own packets, never forwarded ones, so no LAN host's traffic is touched.
void control_out_rules(std::ostringstream& s, std::string_view chain, const QueueRuleSet& r, bool ipv6) {
    s << ':' << chain << " - [0:0]\n";
    const std::string wan = "-A " + std::string(chain) + " -o " + r.wan_interface;
    s << wan << " -p udp --sport 1900 -j DROP\n";
    // The one SSDP message that may leave by the WAN: the M-SEARCH of the control point
    // that looks for the NAT upstream's IGD (issue 19, daemon/upstream_upnp_client.hpp),
    // from a port other than our SSDP server's 1900; u32 reads the first 8 payload bytes.
    if (!ipv6)
        s << wan << " -d 239.255.255.250/32 -p udp ! --sport 1900 --dport 1900 -m u32 --u32 \"" << ssdp_search_u32
          << "\" -j RETURN\n";
    s << wan << " -p udp --dport 1900 -j DROP\n";
    s << wan << " -p udp --sport 5351 -j DROP\n" << wan << " -p udp --dport 5350 -j DROP\n";
    s << wan << (ipv6 ? " -d ff02::c/128" : " -d 239.255.255.250/32") << " -j DROP\n";
    if (!ipv6) s << wan << " -d 224.0.0.1/32 -j DROP\n";
    if (r.ssdp_from_gatewayd_only) {
        s << "-A " << chain << (ipv6 ? " -d ff00::/8" : " -d 239.255.255.250/32")
          << " -p udp --dport 1900 -m mark ! --mark 0x" << std::hex << ssdp_socket_mark << std::dec << " -j DROP\n";
    }
    s << "-I OUTPUT 1 -j " << chain << "\n";
}
constexpr std::string_view loopback_only_chain = "GATEWAYD_LOOPBACK_ONLY";

// Fragments in any order (RFC 4787 REQ-14, issue 18.3): the kernel reassembles IPv4 in the
// gateway's namespace (nf_defrag_ipv4, PREROUTING and OUTPUT at priority -400, ahead of
// every queue rule), so the engine judges whole datagrams whatever order their fragments
// came in, the first packet of a new flow included; the kernel fragments the verdict again
// at output, no piece larger than the largest that arrived (IPCB frag_max_size). Bounded by
// the namespace's net.ipv4.ipfrag_high_thresh and ipfrag_time, counted in /proc/net/snmp.
// What switches it on is the checkentry of the socket match (revision 1 and later:
// --transparent asks for one), in a chain nothing jumps to: the rule never runs for a
// packet, no connection is tracked, and the defrag hooks go when the chain does (match
// destroy). `-t raw -j CT --notrack` would do too, at the cost of a rule per packet and
// conntrack's hooks.
void defrag_rules(std::ostringstream& s) {
    s << ':' << defrag_chain << " - [0:0]\n";
    s << "-A " << defrag_chain << " -m socket --transparent -j RETURN\n";
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string restore(const std::string& script, std::string tool = "iptables-restore") {
    // -w: wait for the xtables lock instead of failing when another tool holds it.
    auto result = run_command({tool, "-w", "--noflush"}, script);
    if (result.exit_code == 0) return {};
    return tool + " failed (exit " + std::to_string(result.exit_code) + "): " + result.output;
}

std::string queue_target(const QueueRuleSet& r) {
    return r.queue_count > 1 ? " -j NFQUEUE --queue-balance " + std::to_string(r.queue_number) + ":" +
                                   std::to_string(r.queue_number + r.queue_count - 1) + "\n"
                             : " -j NFQUEUE --queue-num " + std::to_string(r.queue_number) + "\n";
}

// First in INPUT: ahead of the queue, whose accept would skip the rest of the chain.
void keep_to_loopback(std::ostringstream& s, const QueueRuleSet& r) {
    if (!r.loopback_only_tcp_port) return;
    s << ':' << loopback_only_chain << " - [0:0]\n";
    s << "-A " << loopback_only_chain << " -p tcp --dport " << *r.loopback_only_tcp_port << " -j DROP\n";
    s << "-I INPUT 1 ! -i lo -j " << loopback_only_chain << "\n";
}

}  // namespace

std::string queue_rules_install_script(const QueueRuleSet& r) {
    std::ostringstream s;
    std::string queue = queue_target(r);
    s << "*mangle\n";
    for (auto chain : {inbound_chain, outbound_chain, input_chain, local_chain, hairpin_chain})
        s << ':' << chain << " - [0:0]\n" << "-A " << chain << queue;
    s << "-I PREROUTING 1 -i " << r.wan_interface << " -j " << inbound_chain << "\n";
    s << "-I PREROUTING 1 -i " << r.lan_interface << " -d " << r.wan_address << "/32 -j " << hairpin_chain << "\n";
    s << "-I FORWARD 1 -i " << r.lan_interface << " -o " << r.wan_interface << " -j " << outbound_chain << "\n";
    // The gateway's own traffic: LAN arrivals are judged by the input rules (WAN
    // arrivals already were, at PREROUTING); what it sends is tracked so replies pass.
    s << "-I INPUT 1 -i " << r.lan_interface << " -j " << input_chain << "\n";
    s << "-I OUTPUT 1 -o " << r.lan_interface << " -j " << local_chain << "\n";
    s << "-I OUTPUT 1 -o " << r.wan_interface << " -j " << local_chain << "\n";
    // The kernel's ICMP errors about a LAN host's datagram it holds translated to the WAN
    // address (hairpinned with TTL 1, or failed after FORWARD) go to that address, over lo:
    // queued so that the engine readdresses them to the host (engine_local_icmp_errors.cpp).
    // Errors only: the rest of the gateway's traffic to itself is none of the engine's.
    for (std::string_view type : {"destination-unreachable", "time-exceeded", "parameter-problem"})
        s << "-I OUTPUT 1 -o lo -d " << r.wan_address << "/32 -p icmp --icmp-type " << type << " -j " << local_chain
          << "\n";
    keep_to_loopback(s, r);
    defrag_rules(s);
    control_out_rules(s, control_out_chain, r, false);  // first in OUTPUT: before the queue
    s << "COMMIT\n";
    return s.str();
}

std::string queue_rules_removal_script(const std::string& saved) {
    std::vector<std::string> deletes, chains;
    std::istringstream lines(saved);
    for (std::string line; std::getline(lines, line);) {
        if (starts_with(line, ":") && starts_with(std::string_view(line).substr(1), chain_prefix)) {
            chains.push_back(line.substr(1, line.find(' ') - 1));
        } else if (starts_with(line, "-A ") && line.find(" -j " + std::string(chain_prefix)) != std::string::npos) {
            // Jumps from our own chains go away with them.
            if (!starts_with(std::string_view(line).substr(3), chain_prefix)) deletes.push_back("-D" + line.substr(2));
        }
    }
    if (deletes.empty() && chains.empty()) return {};
    std::string script = "*mangle\n";
    for (const auto& d : deletes) script += d + "\n";
    for (const auto& c : chains) script += "-F " + c + "\n";
    for (const auto& c : chains) script += "-X " + c + "\n";
    return script + "COMMIT\n";
}

std::string ipv6_queue_rules_install_script(const QueueRuleSet& r) {
    std::ostringstream s;
    std::string queue = queue_target(r);
    s << "*mangle\n";
    if (r.ipv6_forwarding) {
        for (auto chain : {ipv6_outbound_chain, ipv6_inbound_chain})
            s << ':' << chain << " - [0:0]\n" << "-A " << chain << queue;
        // No NAT for IPv6: both directions are judged where they are routed.
        s << "-I FORWARD 1 -i " << r.lan_interface << " -o " << r.wan_interface << " -j " << ipv6_outbound_chain << "\n";
        s << "-I FORWARD 1 -i " << r.wan_interface << " -o " << r.lan_interface << " -j " << ipv6_inbound_chain << "\n";
    }
    // The gateway's own IPv6 (issue 13), judged by the engine as IPv4's is: what reaches it
    // on any interface but lo, and what it sends, so that replies to it pass.
    s << ':' << ipv6_input_chain << " - [0:0]\n";
    if (r.lan_only_upnp_http_port) {
        // UPnP answers the LAN only, whatever the input rules say: its HTTP (description,
        // SOAP, SUBSCRIBE) and SSDP; pupnp's IPv6 server listens on the LAN's link-local address,
        // which another link can still address with its zone.
        s << "-A " << ipv6_input_chain << " ! -i " << r.lan_interface << " -p tcp --dport "
          << *r.lan_only_upnp_http_port << " -j DROP\n";
        s << "-A " << ipv6_input_chain << " ! -i " << r.lan_interface << " -p udp --dport 1900 -j DROP\n";
    }
    s << "-A " << ipv6_input_chain << queue;
    s << ':' << ipv6_local_chain << " - [0:0]\n" << "-A " << ipv6_local_chain << queue;
    s << "-I INPUT 1 ! -i lo -j " << ipv6_input_chain << "\n";
    s << "-I OUTPUT 1 ! -o lo -j " << ipv6_local_chain << "\n";
    keep_to_loopback(s, r);
    control_out_rules(s, ipv6_control_out_chain, r, true);  // first in OUTPUT: before the queue
    s << "COMMIT\n";
    return s.str();
}

std::string ipv6_queue_rules_replacement_script(const std::string& saved, const QueueRuleSet& rules) {
    std::string removal = queue_rules_removal_script(saved);
    std::string install = ipv6_queue_rules_install_script(rules);
    if (removal.empty()) return install;
    constexpr std::string_view commit = "COMMIT\n", table = "*mangle\n";
    return removal.substr(0, removal.size() - commit.size()) + install.substr(table.size());
}

std::string install_ipv6_queue_rules(const QueueRuleSet& rules) {
    auto saved = run_command({"ip6tables-save", "-t", "mangle"});
    if (saved.exit_code != 0) return "ip6tables-save failed: " + saved.output;
    return restore(ipv6_queue_rules_replacement_script(saved.output, rules), "ip6tables-restore");
}

std::string remove_ipv6_queue_rules() {
    auto saved = run_command({"ip6tables-save", "-t", "mangle"});
    if (saved.exit_code != 0) return "ip6tables-save failed: " + saved.output;
    std::string script = queue_rules_removal_script(saved.output);
    return script.empty() ? std::string{} : restore(script, "ip6tables-restore");
}

std::string queue_rules_replacement_script(const std::string& saved, const QueueRuleSet& rules) {
    std::string removal = queue_rules_removal_script(saved);
    std::string install = queue_rules_install_script(rules);
    if (removal.empty()) return install;
    constexpr std::string_view commit = "COMMIT\n", table = "*mangle\n";
    return removal.substr(0, removal.size() - commit.size()) + install.substr(table.size());
}

std::string hold_connections_script(const std::string& saved, const std::string& wan_interface) {
    std::ostringstream hold;
    hold << ':' << hold_chain << " - [0:0]\n-A " << hold_chain << " -j DROP\n";
    hold << "-I OUTPUT 1 -o " << wan_interface << " -p tcp --tcp-flags RST RST -j " << hold_chain << "\n";
    hold << "COMMIT\n";
    std::string removal = queue_rules_removal_script(saved);
    constexpr std::string_view commit = "COMMIT\n";
    if (removal.empty()) return "*mangle\n" + hold.str();
    return removal.substr(0, removal.size() - commit.size()) + hold.str();
}

std::string hold_handed_over_connections(const std::string& wan_interface) {
    auto saved = run_command({"iptables-save", "-t", "mangle"});
    if (saved.exit_code != 0) return "iptables-save failed: " + saved.output;
    return restore(hold_connections_script(saved.output, wan_interface));
}

std::string install_queue_rules(const QueueRuleSet& rules) {
    auto saved = run_command({"iptables-save", "-t", "mangle"});
    if (saved.exit_code != 0) return "iptables-save failed: " + saved.output;
    return restore(queue_rules_replacement_script(saved.output, rules));
}

std::string remove_queue_rules() {
    auto saved = run_command({"iptables-save", "-t", "mangle"});
    if (saved.exit_code != 0) return "iptables-save failed: " + saved.output;
    std::string script = queue_rules_removal_script(saved.output);
    return script.empty() ? std::string{} : restore(script);
}

}  // namespace gw

// The iptables rules that steer packets into gatewayd's queue. They live in the
// mangle table, in chains of our own (GATEWAYD_*), in the network namespace the
// daemon runs in, and are installed and removed atomically with iptables-restore.
//
// Why these hooks: replies from the WAN must be rewritten before the routing
// decision (PREROUTING), or the kernel delivers them to the gateway itself; LAN
// packets are rewritten after it (FORWARD), where a new source address cannot trip
// the kernel's martian-source check. INPUT from the LAN and OUTPUT carry the
// gateway's own traffic: judged by the input rules, and tracked so replies pass.
//
// No --queue-bypass: with nobody bound to the queue the kernel drops, so a dead
// daemon forwards nothing untranslated (fail-closed).
//
// Chain GATEWAYD_DEFRAG, which nothing jumps to, holds one socket match whose only
// purpose is to switch on the kernel's IPv4 reassembly in the namespace (queue_rules.cpp):
// the queue then gets whole datagrams, fragments arriving in any order. It stays while the
// other chains stay (a SIGKILLed daemon's included) and goes with them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gw {

struct QueueRuleSet {
    std::string lan_interface;
    std::string wan_interface;
    std::uint16_t queue_number = 0;
    std::string wan_address;  // dotted quad: LAN packets to it are hairpinned before routing
    // Several: --queue-balance queue_number:queue_number+count-1, one queue per worker.
    // The kernel picks by a hash of the addresses and protocol (not the ports), so a
    // connection's packets keep one queue per direction and stay in order.
    std::uint16_t queue_count = 1;
    // IPv6 (ip6tables): forwarding judged by the daemon (lan.ipv6_networks); the gateway's
    // own IPv6 always; its UPnP ports kept from every interface but the LAN's.
    bool ipv6_forwarding = true;
    std::optional<std::uint16_t> lan_only_upnp_http_port{};
    // UPnP on: only gatewayd's own SSDP sockets (SO_MARK ssdp_socket_mark) may send to
    // the SSDP group, so pupnp's NOTIFYs and ssdp:byebye go nowhere (igd/pupnp_ssdp_silencer.hpp).
    bool ssdp_from_gatewayd_only = false;
    // pupnp's own HTTP server, behind the IGD's front end (igd/http_front_end.hpp): chain
    // GATEWAYD_LOOPBACK_ONLY drops TCP to it arriving on any interface but lo, IPv4 and
    // IPv6, so only local sockets (the front end) ever reach pupnp.
    std::optional<std::uint16_t> loopback_only_tcp_port{};
};

// The mark of the SSDP server's sockets (daemon/ssdp_server.hpp), "GW" + 1.
inline constexpr std::uint32_t ssdp_socket_mark = 0x47570001;

// Chain GATEWAYD_CONTROL_OUT (mangle OUTPUT, before the queue), a backstop whatever the
// routing table says: no SSDP (UDP 1900 either way, 239.255.255.250) and no NAT-PMP/PCP
// answer or announcement (UDP from 5351, to 5350, 224.0.0.1) the gateway sends leaves by
// the WAN interface; with ssdp_from_gatewayd_only, unmarked SSDP to the group is dropped
// on every interface.
// Both return an empty string on success, else what iptables said.
std::string install_queue_rules(const QueueRuleSet& rules);
// Removes every GATEWAYD_* chain and every jump to one, whoever installed it (a
// previous instance that crashed included).
std::string remove_queue_rules();

// The iptables-restore scripts, exposed for tests.
std::string queue_rules_install_script(const QueueRuleSet& rules);
std::string queue_rules_removal_script(const std::string& iptables_save_output);
// Stale rules (a crashed instance's, or those a handover stop kept) out and ours in, in
// one transaction: between two, the WAN address would be the gateway's own for a moment
// and its stack would answer handed-over connections with RSTs.
std::string queue_rules_replacement_script(const std::string& iptables_save_output, const QueueRuleSet& rules);

// A stop that hands its flows to the next start: the queue rules go, forwarding is off,
// and the only packets still stopped are the TCP resets the gateway's own stack would
// send out of the WAN interface when a handed-over connection's next segment reaches the
// WAN address (no socket there). The LAN keeps reaching the gateway itself (ssh, DNS).
// The next start removes the hold with the other GATEWAYD_* chains, in one transaction.
std::string hold_connections_script(const std::string& iptables_save_output, const std::string& wan_interface);
std::string hold_handed_over_connections(const std::string& wan_interface);

// IPv6 forwarding (issue 8; only when lan.ipv6_networks is set): ip6tables rules in the
// mangle table's FORWARD hook, chains GATEWAYD_V6_OUTBOUND (-i lan -o wan) and
// GATEWAYD_V6_INBOUND (-i wan -o lan), to the same queues. No NAT, so FORWARD sees both
// directions. The gateway's own IPv6 (issue 13, whether or not IPv6 is forwarded): chain
// GATEWAYD_V6_INPUT (INPUT ! -i lo) queues what reaches it, judged by the input rules and
// policy, and GATEWAYD_V6_LOCAL (OUTPUT ! -o lo) what it sends, tracked so that replies
// pass; with UPnP on, GATEWAYD_V6_INPUT first drops IPv6 to the UPnP HTTP port and SSDP
// from every interface but the LAN's. Installed in one
// ip6tables-restore transaction that also removes stale GATEWAYD_* chains; removed at
// exit. Fail-closed like IPv4: no --queue-bypass.
std::string install_ipv6_queue_rules(const QueueRuleSet& rules);
std::string remove_ipv6_queue_rules();
std::string ipv6_queue_rules_install_script(const QueueRuleSet& rules);
std::string ipv6_queue_rules_replacement_script(const std::string& ip6tables_save_output, const QueueRuleSet& rules);

}  // namespace gw

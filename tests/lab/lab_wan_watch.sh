#!/usr/bin/env bash
# The WAN watcher: for the whole of every lab, dumpcap on the gateway's WAN peer (the WAN
# host, or the ISP's NAT with --upstream-nat) records what the gateway sends there (frames
# whose source MAC is the gateway's wan0: what the WAN host itself sends, hostile tests'
# packets to LAN addresses included, is not the gateway's doing). lab_down reads it, before
# the files go: a packet of the gateway's control plane leaving by the WAN fails the test
# as a sanitizer report does, with the packets printed:
#   - SSDP: UDP 1900 either way, 239.255.255.250 (or ff02::c), except an M-SEARCH to the group
#     from a port other than 1900: the gateway's own control point looking for the upstream's IGD
#     (wan.upstream_mappings, issue 19), which our SSDP server never sends (it answers and
#     announces from 1900);
#   - the IGD's HTTP and GENA: TCP from the UPnP HTTP port carrying a UPnP server header or
#     an event ("UPnP/", "upnp:event"), a SYN-ACK from that port (the port alone would flag
#     a translated connection that happens to use it), or a GENA event (NTS upnp:propchange)
#     whatever its ports. Requests *to* an HTTP port are the gateway's control point talking
#     to the upstream's IGD (its User-Agent says "UPnP/1.1"), not our IGD serving;
#   - NAT-PMP/PCP answers and announcements: UDP from 5351, to 5350, 224.0.0.1 (requests to
#     the upstream's 5351 from another port are the gateway's client, allowed);
#   - any IPv4 packet whose own header carries a LAN address (LAB_LAN_NET), or an ICMP
#     error quoting a LAN address, source or destination (the gateway's own errors about an
#     inbound datagram it translated, issue 18.2): a LAN address that left untranslated.
# LAB_WAN_WATCH=off turns it off (the benchmarks: a capture beside a throughput measurement
# would change the figure). Sourced by lab.sh (source that, not this); needs lab.sh's state.

: "${LAB_WAN_WATCH_PID:=}" "${LAB_WAN_WATCH_FILE:=}"
LAB_WAN_LEAK_REPORTED=''
LAB_WAN_WATCH_MARKER=gwlab-wan-watch-end

# lab_wan_watch_filter: the tshark display filter of a control-plane packet (see above).
lab_wan_watch_filter() {
    local http=${LAB_UPNP_HTTP_PORT:-49152}
    # The one SSDP message the gateway may send out of its WAN: the M-SEARCH of its control
    # point looking for the upstream NAT's IGD (issue 19), never from our SSDP server's 1900.
    local ssdp_search='(ip.dst == 239.255.255.250 && udp.dstport == 1900 && !(udp.srcport == 1900) && http.request.method == "M-SEARCH")'
    printf '%s' "((udp.port == 1900 || ip.dst == 239.255.255.250 || ipv6.dst == ff02::c) && !$ssdp_search)" \
        " || udp.srcport == 5351 || udp.dstport == 5350 || ip.dst == 224.0.0.1" \
        " || ip.addr#1 == $LAB_LAN_NET || (icmp && (ip.src#2 == $LAB_LAN_NET || ip.dst#2 == $LAB_LAN_NET))" \
        " || (tcp.srcport == $http && (tcp.payload contains \"UPnP/\" || tcp.payload contains \"upnp:event\"))" \
        " || (tcp && tcp.payload contains \"upnp:propchange\")" \
        " || (tcp.srcport == $http && tcp.flags.syn == 1 && tcp.flags.ack == 1)"
}

_lab_wan_peer_role() { if [[ -n $LAB_NS_ISP ]]; then echo isp; else echo wan; fi; }

# Started by lab_up once the links are up, before any daemon starts.
_lab_wan_watch_start() {
    [[ ${LAB_WAN_WATCH:-on} != off ]] || return 0
    command -v dumpcap >/dev/null || _lab_die "missing tool: dumpcap (package tshark)"
    local mac
    mac=$(ip -n "$LAB_NS_GW" -br link show dev "$LAB_GW_WAN_IF" | awk '{print $3}')
    [[ -n $mac ]] || _lab_die "cannot read the MAC address of the gateway's $LAB_GW_WAN_IF"
    LAB_WAN_WATCH_FILE=$LAB_TMP/wan-watch.pcap
    # 256 bytes a packet are enough for every header and an HTTP head's start; floods stay small.
    lab_bg "$(_lab_wan_peer_role)" wan-watch dumpcap -q -P -s 256 -i "$LAB_HOST_IF" -f "ether src $mac" \
        -w "$LAB_WAN_WATCH_FILE"
    LAB_WAN_WATCH_PID=$LAB_BG_PID
    lab_poll 10 _lab_wan_watch_capturing ||
        _lab_die "the WAN watcher (dumpcap) did not start: $(cat "$LAB_TMP/wan-watch.log")"
}

_lab_wan_watch_capturing() { [[ -s $LAB_WAN_WATCH_FILE ]]; }

# dumpcap writes in batches and loses the last one on SIGTERM: a marker frame from the
# gateway's wan0 (a raw frame, whatever iptables holds) is waited for first.
_lab_wan_watch_send_marker() {
    ip netns exec "$LAB_NS_GW" "$LAB_PY" - "$LAB_GW_WAN_IF" "$LAB_WAN_WATCH_MARKER" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
mac = s.getsockname()[4]
s.send(b"\xff" * 6 + mac + b"\x88\xb5" + sys.argv[2].encode().ljust(46, b"\0"))
PY
}

_lab_wan_watch_has_marker() { grep -aqF "$LAB_WAN_WATCH_MARKER" "$LAB_WAN_WATCH_FILE"; }

# Called by lab_down after the daemon stopped (its ssdp:byebye included) and before the
# namespaces go: stops the capture and reports what leaked.
_lab_wan_watch_check() {
    [[ -n $LAB_WAN_WATCH_PID ]] || return 0
    if [[ -e /run/netns/$LAB_NS_GW ]] && _lab_wan_watch_send_marker; then
        lab_poll 3 _lab_wan_watch_has_marker || true
    fi
    lab_stop_pid "$LAB_WAN_WATCH_PID" 2
    LAB_WAN_WATCH_PID=''
    [[ -s $LAB_WAN_WATCH_FILE ]] || return 0
    local leaks
    leaks=$(tshark -n -r "$LAB_WAN_WATCH_FILE" -Y "$(lab_wan_watch_filter)" 2>/dev/null | head -n 40 || true)
    [[ -n $leaks ]] || return 0
    # shellcheck disable=SC2034 # read by lab.sh's exit trap
    LAB_WAN_LEAK_REPORTED=1
    _lab_log "the gateway sent control-plane packets (or LAN addresses) out of its WAN interface:"
    printf '    %s\n' "${leaks//$'\n'/$'\n    '}" >&2
}

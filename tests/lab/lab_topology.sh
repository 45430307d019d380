#!/usr/bin/env bash
# The lab's topology: its namespaces, the veth links and the LAN switch between them, their
# addresses and routes, and lab_describe to show them. Sourced by lab.sh (source that, not this);
# needs lab.sh's constants and state. Everything is set through `ip -n`/`ip netns exec`, never in
# the root namespace.
# shellcheck disable=SC2153 # the LAB_NS_* names are lab.sh's state, assigned by lab_up

_lab_create_namespaces() {
    local ns
    for ns in $LAB_NAMESPACES; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # IPv6 off before any link exists, so captures hold no router solicitations or MLD reports.
        if ip netns exec "$ns" test -d /proc/sys/net/ipv6; then
            ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        fi
    done
    # The gateway starts as a plain host: forwarding is the NAT's job to turn on (and off again).
    # rp_filter off because the daemon rewrites addresses behind the kernel's back.
    lab_gw sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# _lab_veth NS-A IF-A NS-B IF-B: a veth pair between two namespaces, both ends up, both recorded in
# LAB_LINKS for _lab_links_up.
_lab_veth() {
    ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
    LAB_LINKS+=" $1/$2 $3/$4"
}

_lab_wire() {
    if [[ -n $LAB_NS_ISP ]]; then
        _lab_veth "$LAB_NS_GW" "$LAB_GW_WAN_IF" "$LAB_NS_ISP" "$LAB_HOST_IF"
        _lab_veth "$LAB_NS_ISP" "$LAB_ISP_PUBLIC_IF" "$LAB_NS_WAN" "$LAB_HOST_IF"
    else
        _lab_veth "$LAB_NS_GW" "$LAB_GW_WAN_IF" "$LAB_NS_WAN" "$LAB_HOST_IF"
    fi
    if ((LAB_LAN_HOSTS == 1)); then
        _lab_veth "$LAB_NS_GW" "$LAB_GW_LAN_IF" "$LAB_NS_LAN" "$LAB_HOST_IF"
    else
        _lab_wire_switch
    fi
    ip -n "$LAB_NS_GW" addr add "$LAB_GW_LAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_LAN_IF"
    ip -n "$LAB_NS_GW" addr add "$LAB_GW_WAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_WAN_IF"
    ip -n "$LAB_NS_WAN" addr add "$LAB_WAN_IP/$LAB_PREFIX_LEN" dev "$LAB_HOST_IF"
    if [[ -n $LAB_NS_ISP ]]; then
        _lab_wire_isp
    else
        # A real router's routing table: everything not on a link goes to the ISP. Without it
        # a packet that should never leave by the WAN (pupnp's SSDP) fails with ENETUNREACH
        # instead, and the lab would hide it (issue 13).
        ip -n "$LAB_NS_GW" route add default via "$LAB_WAN_IP"
    fi
    lab_gw sysctl -qw "net.ipv4.conf.$LAB_GW_LAN_IF.rp_filter=0" "net.ipv4.conf.$LAB_GW_WAN_IF.rp_filter=0"
    local k ns
    for ((k = 1; k <= LAB_LAN_HOSTS; k++)); do
        ns=$(_lab_ns_of "lan$k")
        ip -n "$ns" addr add "$(lab_lan_ip "$k")/$LAB_PREFIX_LEN" dev "$LAB_HOST_IF"
        ip -n "$ns" route add default via "$LAB_GW_LAN_IP"
    done
    # No route on the WAN host towards the LAN: the WAN host must only ever be able to see the
    # gateway's address, as on the Internet.
}

# lab_up --ipv6: IPv6 back on in every namespace of the lab, DAD off so that addresses work at
# once, addresses and routes on the lab's own veths (lab.sh's LAB_*6_* constants).
_lab_wire_ipv6() {
    local ns link k nodad=nodad
    if [[ $LAB_IPV6_DAD == true ]]; then nodad=''; else _lab_ipv6_dad_off; fi
    for ns in $LAB_NAMESPACES; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
    done
    for link in $LAB_LINKS; do ip netns exec "${link%%/*}" sysctl -qw "net.ipv6.conf.${link#*/}.disable_ipv6=0"; done
    # shellcheck disable=SC2086 # $nodad: one word or none
    ip -n "$LAB_NS_GW" addr add "$LAB_GW_LAN6_IP/64" dev "$LAB_GW_LAN_IF" $nodad
    # shellcheck disable=SC2086
    ip -n "$LAB_NS_GW" addr add "$LAB_GW_WAN6_IP/64" dev "$LAB_GW_WAN_IF" $nodad
    # shellcheck disable=SC2086
    ip -n "$LAB_NS_WAN" addr add "$LAB_WAN6_IP/64" dev "$LAB_HOST_IF" $nodad
    ip -n "$LAB_NS_WAN" -6 route add "$LAB_LAN6_NET" via "$LAB_GW_WAN6_IP"
    for ((k = 1; k <= LAB_LAN_HOSTS; k++)); do
        ns=$(_lab_ns_of "lan$k")
        # shellcheck disable=SC2086
        ip -n "$ns" addr add "2001:db8:1::$((k * 10))/64" dev "$LAB_HOST_IF" $nodad
        ip -n "$ns" -6 route add default via "$LAB_GW_LAN6_IP"
    done
}

# DAD off everywhere before IPv6 goes on: enabling IPv6 makes the link-local addresses at once,
# and a tentative one cannot be bound. Every lab but lab_up --dad's.
_lab_ipv6_dad_off() {
    local ns link
    for ns in $LAB_NAMESPACES; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    done
    for link in $LAB_LINKS; do ip netns exec "${link%%/*}" sysctl -qw "net.ipv6.conf.${link#*/}.accept_dad=0"; done
}

# The LAN as a switch: a bridge in a namespace of its own, so the gateway's lan0 stays one plain
# veth as with a single LAN host (and the gateway's firewall never sees bridged frames).
_lab_wire_switch() {
    local k
    ip -n "$LAB_NS_SWITCH" link add "$LAB_SWITCH_BRIDGE" type bridge stp_state 0 forward_delay 0
    ip -n "$LAB_NS_SWITCH" link set "$LAB_SWITCH_BRIDGE" up
    _lab_veth "$LAB_NS_GW" "$LAB_GW_LAN_IF" "$LAB_NS_SWITCH" gw
    ip -n "$LAB_NS_SWITCH" link set gw master "$LAB_SWITCH_BRIDGE"
    for ((k = 1; k <= LAB_LAN_HOSTS; k++)); do
        _lab_veth "$(_lab_ns_of "lan$k")" "$LAB_HOST_IF" "$LAB_NS_SWITCH" "lan$k"
        ip -n "$LAB_NS_SWITCH" link set "lan$k" master "$LAB_SWITCH_BRIDGE"
    done
}

# The first WAN host becomes the ISP's router: the second WAN host's subnet hangs off it, and the
# gateway reaches that subnet through it by its default route.
_lab_wire_wan2() {
    _lab_veth "$LAB_NS_WAN" "$LAB_WAN_ROUTER_IF" "$LAB_NS_WAN2" "$LAB_HOST_IF"
    ip -n "$LAB_NS_WAN" addr add "$LAB_WAN_ROUTER_IP/$LAB_PREFIX_LEN" dev "$LAB_WAN_ROUTER_IF"
    ip -n "$LAB_NS_WAN2" addr add "$LAB_WAN2_IP/$LAB_PREFIX_LEN" dev "$LAB_HOST_IF"
    ip -n "$LAB_NS_WAN2" route add default via "$LAB_WAN_ROUTER_IP"
    lab_wan sysctl -qw net.ipv4.ip_forward=1
}

# --upstream-nat: the ISP's carrier-grade NAT, the kernel's MASQUERADE in a namespace of its own,
# between the gateway (shared address space) and the WAN host (which sees only the ISP's address).
_lab_wire_isp() {
    ip -n "$LAB_NS_ISP" addr add "$LAB_ISP_IP/$LAB_PREFIX_LEN" dev "$LAB_HOST_IF"
    ip -n "$LAB_NS_ISP" addr add "$LAB_ISP_PUBLIC_IP/$LAB_PREFIX_LEN" dev "$LAB_ISP_PUBLIC_IF"
    lab_in isp sysctl -qw net.ipv4.ip_forward=1
    lab_in isp iptables -t nat -A POSTROUTING -o "$LAB_ISP_PUBLIC_IF" -j MASQUERADE
    ip -n "$LAB_NS_GW" route add default via "$LAB_ISP_IP"
}

# --stun: stund on the WAN host, with a second address for its CHANGE-REQUEST answers (RFC 3489
# 11.2.4), before the NAT starts, so the gateway's first query finds it. lab_down stops it by PID.
_lab_stun_start() {
    ip -n "$LAB_NS_WAN" addr add "$LAB_STUN_ALTERNATE_IP/$LAB_PREFIX_LEN" dev "$LAB_HOST_IF"
    lab_bg wan stund stund -v -h "$LAB_STUN_IP" -a "$LAB_STUN_ALTERNATE_IP" -p "$LAB_STUN_PORT"
    LAB_STUN_PID=$LAB_BG_PID
    lab_wait_listen wan udp "$LAB_STUN_PORT"
}

# A veth end gets its qdisc only on the carrier-on event, handled asynchronously by the kernel;
# until then it drops what it is given, so wait for every end to report UP (and every bridge port
# to forward).
_lab_links_up() {
    local link
    for link in $LAB_LINKS; do
        _lab_link_up "${link%%/*}" "${link#*/}" || return 1
    done
    [[ -z $LAB_NS_SWITCH ]] || _lab_bridge_forwarding
}

_lab_link_up() {
    [[ $(ip -n "$1" -br link show dev "$2") == *" UP "* ]]
}

_lab_bridge_forwarding() {
    local k
    _lab_bridge_port_forwarding gw || return 1
    for ((k = 1; k <= LAB_LAN_HOSTS; k++)); do
        _lab_bridge_port_forwarding "lan$k" || return 1
    done
}

_lab_bridge_port_forwarding() {
    [[ $(bridge -n "$LAB_NS_SWITCH" link show dev "$1") == *"state forwarding"* ]]
}

lab_describe() {
    local k gw_route=$LAB_WAN_IP
    [[ -z $LAB_NS_ISP ]] || gw_route=$LAB_ISP_IP
    echo "lab $LAB_ID (nat: $LAB_NAT_MODE)"
    echo "  LAN host    $LAB_NS_LAN  $LAB_HOST_IF $LAB_LAN_IP/$LAB_PREFIX_LEN, default via $LAB_GW_LAN_IP"
    for ((k = 2; k <= ${LAB_LAN_HOSTS:-1}; k++)); do
        echo "  LAN host $k  $(_lab_ns_of "lan$k")  $LAB_HOST_IF $(lab_lan_ip "$k")/$LAB_PREFIX_LEN, default via $LAB_GW_LAN_IP"
    done
    if [[ -n $LAB_NS_SWITCH ]]; then
        echo "  LAN switch  $LAB_NS_SWITCH  bridge $LAB_SWITCH_BRIDGE, ports gw, lan1..lan$LAB_LAN_HOSTS"
    fi
    echo "  gateway     $LAB_NS_GW   $LAB_GW_LAN_IF $LAB_GW_LAN_IP/$LAB_PREFIX_LEN, $LAB_GW_WAN_IF $LAB_GW_WAN_IP/$LAB_PREFIX_LEN, default via $gw_route"
    if [[ -n $LAB_NS_ISP ]]; then
        if [[ -n ${LAB_TWO_NATS_UPSTREAM:-} ]]; then
            echo "  ISP NAT     $LAB_NS_ISP  $LAB_HOST_IF $LAB_ISP_IP/$LAB_PREFIX_LEN, $LAB_ISP_PUBLIC_IF $LAB_TWO_NATS_PUBLIC_IP (+$LAB_ISP_PUBLIC_IP/$LAB_PREFIX_LEN) ($LAB_TWO_NATS_UPSTREAM, pid ${LAB_ISP_PID:-none}, $LAB_ISP_URL)"
        else
            echo "  ISP NAT     $LAB_NS_ISP  $LAB_HOST_IF $LAB_ISP_IP/$LAB_PREFIX_LEN, $LAB_ISP_PUBLIC_IF $LAB_ISP_PUBLIC_IP/$LAB_PREFIX_LEN (MASQUERADE)"
        fi
    fi
    if [[ -n $LAB_STUN_PID ]]; then
        echo "  STUN        stund pid $LAB_STUN_PID on $LAB_STUN_IP:$LAB_STUN_PORT (alternate $LAB_STUN_ALTERNATE_IP)"
    fi
    echo "  WAN host    $LAB_NS_WAN  $LAB_HOST_IF $LAB_WAN_IP/$LAB_PREFIX_LEN${LAB_NS_WAN2:+, $LAB_WAN_ROUTER_IF $LAB_WAN_ROUTER_IP/$LAB_PREFIX_LEN (router)}"
    if [[ -n $LAB_NS_WAN2 ]]; then
        echo "  WAN host 2  $LAB_NS_WAN2  $LAB_HOST_IF $LAB_WAN2_IP/$LAB_PREFIX_LEN, default via $LAB_WAN_ROUTER_IP"
    fi
    echo "  files       $LAB_TMP"
    if [[ -n $LAB_DAEMON_PID ]]; then
        echo "  gatewayd    pid $LAB_DAEMON_PID, log $LAB_DAEMON_LOG, config $LAB_TMP/gatewayd.yaml"
    fi
}

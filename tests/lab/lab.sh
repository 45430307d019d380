#!/usr/bin/env bash
# The gatewayd lab: three network namespaces joined by two veth pairs.
#
#   LAN host                   gateway (runs the NAT)                     WAN host
#   eth0 192.168.50.10 ─── lan0 192.168.50.1 │ wan0 203.0.113.1 ─── eth0 203.0.113.2
#   default via .50.1          default via 203.0.113.2 (a real router)    no route back to the LAN
#
# The WAN side is watched for the whole test (lab_wan_watch.sh): a control-plane packet of the
# gateway (SSDP, the IGD's HTTP/GENA, NAT-PMP/PCP) or a LAN address leaving by its WAN fails
# the test as a sanitizer report does.
#
# With --lan-hosts N (2 to 9) the LAN is a switch (a bridge in a namespace of its own) with N hosts,
# 192.168.50.10, .20, ... .N0, roles lan (= lan1), lan2, ... lanN; the gateway's side is unchanged.
# With --wan2 a second WAN host sits in another subnet behind the first, which becomes the ISP
# router (forwarding on) and the gateway's default route:
#
#   gateway wan0 203.0.113.1 ─── eth0 203.0.113.2  WAN host (router)  eth1 198.51.100.1 ─── eth0 198.51.100.2  WAN host 2
#   default via 203.0.113.2                                                                 default via 198.51.100.1
#
# With --upstream-nat another NAT sits between the gateway and the WAN host: an ISP namespace doing
# the kernel's MASQUERADE, as a carrier-grade NAT does. The gateway's WAN address is then shared
# (CGNAT) space, and the WAN host sees the ISP's public address, never the gateway's:
#
#   gateway wan0 100.64.0.2 ─── eth0 100.64.0.1  ISP (MASQUERADE)  eth1 203.0.113.1 ─── eth0 203.0.113.2  WAN host
#   default via 100.64.0.1
#
# lab_two_nats_up (lab_two_nats.sh) builds on --upstream-nat: the ISP box runs miniupnpd or a
# second gatewayd as the upstream NAT with its own port-control service (issue 19).
#
# With --stun the WAN host runs a STUN server (stund, RFC 3489/5389 Binding, with a second address
# 203.0.113.3 for its CHANGE-REQUEST answers) on 203.0.113.2:3478, started before the NAT.
#
# Source it from a script that runs under `set -euo pipefail`:
#     source tests/lab/lab.sh
#     lab_up --nat gatewayd      # or kernel (iptables MASQUERADE, the reference) or none (routing
#                                # off); without --nat: $LAB_NAT, else gatewayd
#            [--wan2] [--upstream-nat] [--stun] [--lan-hosts N] [--config FILE] [--ipv6 [--dad]]
#                                # FILE: gatewayd's config instead of the lab's minimal one; copied
#                                # into $LAB_TMP, so `--config <(my_config)` works
#     lab_lan curl ...           # run a command in a namespace: lab_lan / lab_gw / lab_wan / lab_wan2,
#                                # or lab_in ROLE (lan, lan2.., gw, wan, wan2, switch)
#     lab_daemon_stop            # also lab_daemon_start [--config FILE], lab_daemon_kill9 (lab_daemon.sh)
# Addresses are in LAB_LAN_IP, LAB_GW_LAN_IP, LAB_GW_WAN_IP, LAB_WAN_IP, LAB_WAN2_IP, LAB_WAN_ROUTER_IP,
# and with --upstream-nat LAB_ISP_IP and LAB_ISP_PUBLIC_IP (LAB_GW_WAN_IP is then 100.64.0.2);
# `lab_lan_ip K` prints LAN host K's. lab_checks.sh has the probes, the capture, the sniffers, the
# decision-log checks and the ok/FAIL/SKIP reporting that tests use.
# lab_up installs EXIT/INT/TERM traps that call lab_down, so a script failing midway still removes
# everything; a script that needs its own cleanup should put its files in $LAB_TMP and start its
# processes in the namespaces (lab_bg), which lab_down removes and kills.
#
# With --ipv6 the lab's own veths also get IPv6 (IPv6 stays off in every namespace otherwise, so
# that captures hold no router solicitations): LAN 2001:db8:1::/64 (host ::10, .. ::N0; gateway
# ::1), WAN 2001:db8:ff::/64 (gateway ::1, WAN host ::2), DAD off (nodad), the WAN host routing the
# LAN prefix to the gateway as an ISP routes a delegated prefix. No NAT for IPv6: forwarding is
# turned on by gatewayd when lan.ipv6_networks is set (LAB_LAN6_NET), by lab_up under --nat kernel|none.
# With --dad as well, DAD stays on as on a real router at boot: gatewayd starts while the addresses
# are still tentative (lab_topology.sh, _lab_ipv6_dad_off).
#
# Or run it:
#     tests/lab/lab.sh up [--nat MODE]     bring the lab up, describe it, tear it down on Enter
#     tests/lab/lab.sh shell [--nat MODE]  the same with an interactive shell that has the lab_* functions
#     tests/lab/lab.sh two-nats miniupnpd|gatewayd   the two-NAT lab (lab_two_nats.sh) with a shell
#     tests/lab/lab.sh gc                  remove labs whose script died by SIGKILL (traps cannot run)
#
# Nothing here touches the root namespace: veth pairs are created directly inside the namespaces
# and every address, route, sysctl and iptables rule is set through `ip -n`/`ip netns exec`.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd)
GATEWAYD=${GATEWAYD:-$LAB_REPO/build/daemon/gatewayd}
GATEWAYCTL=${GATEWAYCTL:-$(dirname "$GATEWAYD")/gatewayctl}
LAB_PY=${LAB_PY:-python3}
LAB_NET_PY=$LAB_DIR/labnet.py
LAB_READY_TIMEOUT=${LAB_READY_TIMEOUT:-10}
LAB_STOP_TIMEOUT=${LAB_STOP_TIMEOUT:-10}

# shellcheck source=SCRIPTDIR/lab_daemon.sh
source "$LAB_DIR/lab_daemon.sh"
# shellcheck source=SCRIPTDIR/lab_checks.sh
source "$LAB_DIR/lab_checks.sh"
# shellcheck source=SCRIPTDIR/lab_topology.sh
source "$LAB_DIR/lab_topology.sh"
# shellcheck source=SCRIPTDIR/lab_upnp.sh
source "$LAB_DIR/lab_upnp.sh"
# shellcheck source=SCRIPTDIR/lab_wan_watch.sh
source "$LAB_DIR/lab_wan_watch.sh"
# shellcheck source=SCRIPTDIR/lab_two_nats.sh
source "$LAB_DIR/lab_two_nats.sh"

# RFC 1918 inside, RFC 5737 TEST-NET-3 outside: neither can leak anywhere that routes them.
# (Some of these are only read by the scripts that source this file.)
# shellcheck disable=SC2034
LAB_LAN_NET=192.168.50.0/24
LAB_LAN_IP=192.168.50.10
LAB_GW_LAN_IP=192.168.50.1
LAB_GW_WAN_IP=203.0.113.1
LAB_WAN_IP=203.0.113.2
LAB_PREFIX_LEN=24
LAB_HOST_IF=eth0 # the one interface of the LAN host and of the WAN host
LAB_GW_LAN_IF=lan0
LAB_GW_WAN_IF=wan0
# --wan2: RFC 5737 TEST-NET-2, a second "Internet" subnet behind the first WAN host.
# shellcheck disable=SC2034
LAB_WAN2_NET=198.51.100.0/24
LAB_WAN2_IP=198.51.100.2
LAB_WAN_ROUTER_IP=198.51.100.1 # the first WAN host's address towards the second
LAB_WAN_ROUTER_IF=eth1
# --upstream-nat: RFC 6598 shared space between the gateway and the ISP's NAT, whose public side
# takes the address the gateway has without it.
LAB_GW_WAN_IP_DIRECT=$LAB_GW_WAN_IP
LAB_GW_WAN_IP_BEHIND_ISP=100.64.0.2
LAB_ISP_IP=100.64.0.1
LAB_ISP_PUBLIC_IP=203.0.113.1
LAB_ISP_PUBLIC_IF=eth1
# shellcheck disable=SC2034
LAB_STUN_IP=$LAB_WAN_IP
LAB_STUN_ALTERNATE_IP=203.0.113.3
# shellcheck disable=SC2034
LAB_STUN_PORT=3478
LAB_LAN_HOSTS_MAX=9
# --ipv6: RFC 3849 documentation prefixes.
# shellcheck disable=SC2034
LAB_LAN6_NET=2001:db8:1::/64
# shellcheck disable=SC2034
LAB_LAN6_IP=2001:db8:1::10
LAB_GW_LAN6_IP=2001:db8:1::1
LAB_GW_WAN6_IP=2001:db8:ff::1
LAB_WAN6_IP=2001:db8:ff::2
LAB_SWITCH_BRIDGE=br0

# State of the lab; all empty while it is down. `:=` keeps the state if this file is sourced again.
# LAB_NAMESPACES lists every namespace of the lab and LAB_LINKS every veth end ("namespace/interface"),
# space-separated; LAB_NS_WAN2 and LAB_NS_SWITCH stay empty without --wan2 / --lan-hosts.
: "${LAB_ID:=}" "${LAB_NS_LAN:=}" "${LAB_NS_GW:=}" "${LAB_NS_WAN:=}" "${LAB_TMP:=}" "${LAB_NAT_MODE:=}"
: "${LAB_NS_ISP:=}" "${LAB_STUN_PID:=}"
: "${LAB_NS_WAN2:=}" "${LAB_NS_SWITCH:=}" "${LAB_LAN_HOSTS:=}" "${LAB_NAMESPACES:=}" "${LAB_LINKS:=}"
: "${LAB_DAEMON_PID:=}" "${LAB_DAEMON_LOG:=}" "${LAB_DAEMON_RC:=}" "${LAB_DAEMON_STARTS:=0}" "${LAB_BG_PID:=}"
: "${LAB_CAPTURE_PID:=}" "${LAB_CAPTURE_FILE:=}" "${LAB_IPV6_DAD:=}"

# ---------------------------------------------------------------------------------------------
# Running things in the namespaces

lab_lan() { ip netns exec "$LAB_NS_LAN" "$@"; }
lab_gw() { ip netns exec "$LAB_NS_GW" "$@"; }
lab_wan() { ip netns exec "$LAB_NS_WAN" "$@"; }
lab_wan2() { lab_in wan2 "$@"; }

# lab_in ROLE CMD...: run CMD in ROLE's namespace (any role _lab_ns_of knows).
lab_in() {
    local ns
    ns=$(_lab_ns_of "$1")
    shift
    ip netns exec "$ns" "$@"
}

# lab_lan_ip K: the address of LAN host K (1 is LAB_LAN_IP).
lab_lan_ip() { echo "192.168.50.$(($1 * 10))"; }

# _lab_ns_of ROLE: the namespace name of a role: lan (= lan1), lan2..lanN, gw, wan, wan2, switch.
_lab_ns_of() {
    case $1 in
    lan | lan1) echo "$LAB_NS_LAN" ;;
    lan[2-9])
        ((${1#lan} <= ${LAB_LAN_HOSTS:-1})) ||
            _lab_die "no role '$1': the lab has ${LAB_LAN_HOSTS:-1} LAN host(s) (lab_up --lan-hosts N)"
        echo "gwl-$1-$LAB_ID"
        ;;
    gw) echo "$LAB_NS_GW" ;;
    wan) echo "$LAB_NS_WAN" ;;
    isp)
        [[ -n $LAB_NS_ISP ]] || _lab_die "no role 'isp': the lab was brought up without --upstream-nat"
        echo "$LAB_NS_ISP"
        ;;
    wan2)
        [[ -n $LAB_NS_WAN2 ]] || _lab_die "no role 'wan2': the lab was brought up without --wan2"
        echo "$LAB_NS_WAN2"
        ;;
    switch)
        [[ -n $LAB_NS_SWITCH ]] || _lab_die "no role 'switch': the lab has one LAN host and no switch"
        echo "$LAB_NS_SWITCH"
        ;;
    *) _lab_die "unknown lab role '$1' (lan, lan2..lan9, gw, wan, wan2, isp or switch)" ;;
    esac
}

# lab_bg ROLE NAME CMD...: start CMD in the background in ROLE's namespace, output to $LAB_TMP/NAME.log.
# Sets LAB_BG_PID (the command itself: `ip netns exec` execs it). lab_down kills it if still running.
lab_bg() {
    local ns log
    ns=$(_lab_ns_of "$1")
    log=$LAB_TMP/$2.log
    shift 2
    ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
    LAB_BG_PID=$!
}

# lab_py ROLE ARGS...: run labnet.py (the lab's peers and probes) in ROLE's namespace.
lab_py() {
    local ns
    ns=$(_lab_ns_of "$1")
    shift
    ip netns exec "$ns" "$LAB_PY" "$LAB_NET_PY" "$@"
}

# lab_json KEY.KEY...: print one value of the JSON document on stdin (iperf3 -J output).
lab_json() { "$LAB_PY" "$LAB_NET_PY" json-get "$@"; }

# lab_wait_listen ROLE tcp|udp PORT [SECONDS]: wait until a socket listens there, so a probe sent
# right after cannot race the server's start-up.
lab_wait_listen() {
    local ns flag=-Hltn
    ns=$(_lab_ns_of "$1")
    [[ $2 == udp ]] && flag=-Hlun
    lab_poll "${4:-5}" _lab_has_listener "$ns" "$flag" "$3" ||
        _lab_die "nothing listens on $2/$3 in the $1 namespace after ${4:-5}s"
}

_lab_has_listener() {
    [[ -n $(ip netns exec "$1" ss "$2" "sport = :$3") ]]
}

# lab_wait_log FILE TEXT [SECONDS]: wait until FILE contains TEXT.
lab_wait_log() {
    lab_poll "${3:-5}" grep -sqF -- "$2" "$1"
}

# lab_stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS; reaps it if it is our child.
lab_stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    if ! lab_poll "${2:-3}" _lab_pid_gone "$1"; then
        kill -KILL "$1" 2>/dev/null || true
        lab_poll 2 _lab_pid_gone "$1" || true
    fi
    wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Bringing the lab up and down

# lab_up [--nat gatewayd|kernel|none] [--wan2] [--upstream-nat] [--stun] [--lan-hosts N] [--config FILE]; without --nat,
# $LAB_NAT or else gatewayd. --config FILE replaces the lab's minimal gatewayd config (see the top).
lab_up() {
    local mode=${LAB_NAT:-gatewayd} wan2=false lan_hosts=1 config='' ipv6=false upstream_nat=false stun=false
    while (($#)); do
        case $1 in
        --nat) mode=${2:?--nat needs gatewayd, kernel or none}; shift 2 ;;
        --nat=*) mode=${1#--nat=}; shift ;;
        --wan2) wan2=true; shift ;;
        --upstream-nat) upstream_nat=true; shift ;;
        --stun) stun=true; shift ;;
        --lan-hosts) lan_hosts=${2:?--lan-hosts needs a number}; shift 2 ;;
        --lan-hosts=*) lan_hosts=${1#--lan-hosts=}; shift ;;
        --config) config=${2:?--config needs a file}; shift 2 ;;
        --config=*) config=${1#--config=}; shift ;;
        --ipv6) ipv6=true; shift ;;
        --dad) LAB_IPV6_DAD=true; shift ;;
        *) _lab_die "lab_up: unknown argument '$1'" ;;
        esac
    done
    case $mode in gatewayd | kernel | none) ;; *) _lab_die "lab_up: --nat must be gatewayd, kernel or none, not '$mode'" ;; esac
    [[ $lan_hosts =~ ^[1-9]$ ]] || _lab_die "lab_up: --lan-hosts must be 1 to $LAB_LAN_HOSTS_MAX, not '$lan_hosts'"
    [[ -z $config || -r $config ]] || _lab_die "lab_up: cannot read the config file '$config'"
    [[ -z $LAB_ID ]] || _lab_die "lab_up: lab $LAB_ID is already up"
    [[ $wan2 == false || $upstream_nat == false ]] || _lab_die "lab_up: --wan2 and --upstream-nat do not go together"
    _lab_require_tools
    if [[ $stun == true ]]; then command -v stund >/dev/null || _lab_die "missing tool: stund (package stun-server)"; fi
    if ((lan_hosts > 1)); then command -v bridge >/dev/null || _lab_die "missing tool: bridge (iproute2)"; fi
    if [[ $mode == gatewayd ]]; then _lab_require_gatewayd; fi

    LAB_ID=$$-$(printf '%04x' "$RANDOM")
    LAB_NS_LAN=gwl-lan-$LAB_ID
    LAB_NS_GW=gwl-gw-$LAB_ID
    LAB_NS_WAN=gwl-wan-$LAB_ID
    LAB_NAMESPACES="$LAB_NS_LAN $LAB_NS_GW $LAB_NS_WAN"
    LAB_NS_WAN2='' LAB_NS_SWITCH='' LAB_LINKS='' LAB_NS_ISP='' LAB_STUN_PID=''
    LAB_GW_WAN_IP=$LAB_GW_WAN_IP_DIRECT
    LAB_LAN_HOSTS=$lan_hosts
    local k
    for ((k = 2; k <= lan_hosts; k++)); do LAB_NAMESPACES+=" gwl-lan$k-$LAB_ID"; done
    if ((lan_hosts > 1)); then
        LAB_NS_SWITCH=gwl-sw-$LAB_ID
        LAB_NAMESPACES+=" $LAB_NS_SWITCH"
    fi
    if [[ $wan2 == true ]]; then
        LAB_NS_WAN2=gwl-wan2-$LAB_ID
        LAB_NAMESPACES+=" $LAB_NS_WAN2"
    fi
    if [[ $upstream_nat == true ]]; then
        LAB_NS_ISP=gwl-isp-$LAB_ID
        LAB_NAMESPACES+=" $LAB_NS_ISP"
        LAB_GW_WAN_IP=$LAB_GW_WAN_IP_BEHIND_ISP
    fi
    LAB_NAT_MODE=$mode
    _lab_install_traps
    LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gwlab.$LAB_ID.XXXXXX")

    _lab_create_namespaces
    _lab_wire
    if [[ -n $LAB_NS_WAN2 ]]; then _lab_wire_wan2; fi
    if [[ $ipv6 == true ]]; then _lab_wire_ipv6; fi
    lab_poll 5 _lab_links_up || _lab_die "the lab's links did not come up within 5s"
    _lab_wan_watch_start
    if [[ $stun == true ]]; then _lab_stun_start; fi
    if [[ -n $config ]]; then
        _lab_use_gatewayd_config "$config"
    else
        _lab_write_gatewayd_config
    fi
    case $mode in
    kernel) _lab_nat_kernel ;;
    gatewayd) lab_daemon_start ;;
    none) ;;
    esac
    if [[ $ipv6 == true && $mode != gatewayd ]]; then lab_gw sysctl -qw net.ipv6.conf.all.forwarding=1; fi
}

# lab_down: safe to call any number of times, from a trap or by hand.
lab_down() {
    [[ -n $LAB_ID ]] || return 0
    # SIGTERM first and wait: the daemon's own teardown is the behaviour under test, not collateral.
    lab_daemon_stop || true
    if [[ -n $LAB_STUN_PID ]]; then lab_stop_pid "$LAB_STUN_PID" 2; fi
    _lab_wan_watch_check || true
    local ns
    # Unquoted on purpose: one namespace name per word.
    for ns in $LAB_NAMESPACES; do
        _lab_kill_ns_processes "$ns" || true
        # A namespace is only really gone once no process holds it, hence the kill above.
        ip netns del "$ns" 2>/dev/null || true
    done
    _lab_check_sanitizer_reports
    if [[ -n $LAB_TMP && -d $LAB_TMP ]]; then rm -rf -- "$LAB_TMP"; fi
    LAB_ID='' LAB_NS_LAN='' LAB_NS_GW='' LAB_NS_WAN='' LAB_TMP='' LAB_NAT_MODE=''
    LAB_NS_WAN2='' LAB_NS_SWITCH='' LAB_LAN_HOSTS='' LAB_NAMESPACES='' LAB_LINKS='' LAB_NS_ISP='' LAB_STUN_PID=''
    LAB_GW_WAN_IP=$LAB_GW_WAN_IP_DIRECT LAB_IPV6_DAD=''
    LAB_DAEMON_PID='' LAB_DAEMON_LOG='' LAB_BG_PID='' LAB_CAPTURE_PID='' LAB_CAPTURE_FILE=''
    LAB_WAN_WATCH_PID='' LAB_WAN_WATCH_FILE=''
    LAB_UPNP_IGD='' LAB_UPNP_URL='' LAB_UPNP_LEASE_FILE='' LAB_UPNP_EXTERNAL_IP='' LAB_UPNP_PID='' LAB_UPNP_LOG=''
    LAB_TWO_NATS_UPSTREAM='' LAB_ISP_PID='' LAB_ISP_LOG='' LAB_ISP_STARTS=0 LAB_ISP_URL=''
}

_lab_install_traps() {
    trap _lab_on_exit EXIT
    trap '_lab_on_signal 130' INT
    trap '_lab_on_signal 143' TERM
}

_lab_on_exit() {
    local rc=$?
    set +e # cleanup must run to the end whatever fails in it
    lab_down
    # A sanitizer report from the daemon, or a control-plane packet (or a LAN address) the
    # gateway sent out of its WAN (lab_wan_watch.sh), fails the test even when every check passed.
    if [[ -n $LAB_SANITIZER_REPORTED$LAB_WAN_LEAK_REPORTED && ( $rc -eq 0 || $rc -eq 77 ) ]]; then rc=1; fi
    exit "$rc"
}

# A sanitized gatewayd (tools/run-tests.sh's build-sanitize) writes AddressSanitizer,
# LeakSanitizer and UBSan reports to its stderr, i.e. its log: read them before the
# logs are removed, show them, and remember to fail.
LAB_SANITIZER_REPORTED=''
_lab_check_sanitizer_reports() {
    [[ -n $LAB_TMP && -d $LAB_TMP ]] || return 0
    local log
    for log in "$LAB_TMP"/gatewayd.*.log; do
        [[ -f $log ]] || continue
        if grep -Eq '==[0-9]+==ERROR: |: runtime error: ' "$log"; then
            LAB_SANITIZER_REPORTED=1
            _lab_log "sanitizer report in $(basename "$log"):"
            grep -E -A30 '==[0-9]+==ERROR: |: runtime error: ' "$log" | head -60 | sed 's/^/    /' >&2
        fi
    done
}

# `exit` inside a signal trap runs the EXIT trap, which does the cleanup.
_lab_on_signal() {
    trap - INT TERM
    exit "$1"
}

_lab_require_tools() {
    [[ $EUID -eq 0 ]] || _lab_die "the lab needs root (network namespaces, iptables, sysctl)"
    local tool
    for tool in ip iptables iptables-save ss sysctl "$LAB_PY"; do
        command -v "$tool" >/dev/null || _lab_die "missing tool: $tool"
    done
}

# The reference NAT: what a Linux home router does with iptables.
_lab_nat_kernel() {
    lab_gw iptables -t nat -A POSTROUTING -o "$LAB_GW_WAN_IF" -j MASQUERADE
    # Without these the kernel would forward unsolicited WAN packets addressed to 192.168.50.10 to
    # the LAN host; every home router filters them, and the tests hold gatewayd to the same.
    lab_gw iptables -A FORWARD -i "$LAB_GW_WAN_IF" -o "$LAB_GW_LAN_IF" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    lab_gw iptables -A FORWARD -i "$LAB_GW_WAN_IF" -j DROP
    lab_gw sysctl -qw net.ipv4.ip_forward=1
}

# _lab_use_gatewayd_config FILE: the config the next lab_daemon_start uses; a copy, so that FILE may
# be a pipe (`<(my_config)`) and the config stays beside the daemon's logs.
# A config that does not name upnp.lease_file gets one in $LAB_TMP: its directory is the daemon's
# state directory (lease file, control state, flow-table handover), which labs running at the
# same time must not share, and which must not be the host's /var/lib/gatewayd.
_lab_use_gatewayd_config() {
    cat -- "$1" >"$LAB_TMP/gatewayd.yaml" || _lab_die "cannot read the config file '$1'"
    grep -q 'lease_file:' "$LAB_TMP/gatewayd.yaml" && return 0
    if grep -Eq '^upnp:[[:space:]]*$' "$LAB_TMP/gatewayd.yaml"; then
        sed -i -E "s|^upnp:[[:space:]]*\$|upnp:\n  lease_file: $LAB_TMP/gatewayd.leases|" "$LAB_TMP/gatewayd.yaml"
    else
        printf 'upnp:\n  lease_file: %s\n' "$LAB_TMP/gatewayd.leases" >>"$LAB_TMP/gatewayd.yaml"
    fi
}

# Written in every mode, so a lab brought up with --nat none can still lab_daemon_start.
_lab_write_gatewayd_config() {
    cat >"$LAB_TMP/gatewayd.yaml" <<EOF
lan:
  interface: $LAB_GW_LAN_IF
wan:
  interface: $LAB_GW_WAN_IF
  address: auto
nat:
  port_range: 1024-65535
upnp:
  lease_file: $LAB_TMP/gatewayd.leases
EOF
}

_lab_kill_ns_processes() {
    [[ -e /run/netns/$1 ]] || return 0
    _lab_ns_empty "$1" && return 0
    # shellcheck disable=SC2046 # one PID per word is what kill wants
    kill -TERM $(ip netns pids "$1") 2>/dev/null || true
    lab_poll 3 _lab_ns_empty "$1" && return 0
    # shellcheck disable=SC2046
    kill -KILL $(ip netns pids "$1") 2>/dev/null || true
    lab_poll 2 _lab_ns_empty "$1"
}

_lab_ns_empty() {
    [[ -z $(ip netns pids "$1" 2>/dev/null) ]]
}

# ---------------------------------------------------------------------------------------------
# Small helpers

_lab_log() { printf 'lab: %s\n' "$*" >&2; }
_lab_die() {
    _lab_log "$*"
    exit 1
}

# lab_poll SECONDS CMD...: run CMD every 50 ms until it succeeds (0) or SECONDS (whole) pass (1).
lab_poll() {
    local tries=$(($1 * 20))
    shift
    while ((tries-- > 0)); do
        if "$@"; then return 0; fi
        sleep 0.05
    done
    "$@"
}

# A zombie still answers kill -0, so look at its state: an exited child is gone even before reaping.
_lab_pid_gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ ${stat%% *} == Z ]]
}

# ---------------------------------------------------------------------------------------------
# Direct use by humans

_lab_shell() {
    local rc=$LAB_TMP/shellrc
    {
        printf 'source %q\n' "$LAB_DIR/lab.sh"
        declare -p LAB_ID LAB_NS_LAN LAB_NS_GW LAB_NS_WAN LAB_TMP LAB_NAT_MODE LAB_DAEMON_PID LAB_DAEMON_LOG LAB_DAEMON_STARTS
        declare -p LAB_NS_WAN2 LAB_NS_SWITCH LAB_LAN_HOSTS LAB_NAMESPACES LAB_LINKS LAB_NS_ISP LAB_STUN_PID LAB_GW_WAN_IP
        declare -p LAB_UPNP_IGD LAB_UPNP_URL LAB_UPNP_LEASE_FILE LAB_UPNP_EXTERNAL_IP
        declare -p LAB_TWO_NATS_UPSTREAM LAB_ISP_PID LAB_ISP_LOG LAB_ISP_STARTS LAB_ISP_URL
        printf 'PS1=%q\n' "[lab $LAB_NAT_MODE] \\w\\$ "
        echo 'echo "lab_lan|lab_gw|lab_wan|lab_wan2 CMD..., lab_in ROLE CMD..., lab_py ROLE ..., lab_daemon_stop|start|kill9; exit tears the lab down"'
    } >"$rc"
    bash --rcfile "$rc" -i || true
}

# Labs whose script was SIGKILLed keep their namespaces and their $LAB_TMP; both names carry the
# script's PID (gwl-ROLE-PID-XXXX, gwlab.PID-XXXX.XXXXXX).
_lab_gc() {
    local path ns pid
    for path in /run/netns/gwl-*; do
        [[ -e $path ]] || continue
        ns=${path##*/}
        pid=${ns#gwl-*-}
        pid=${pid%%-*}
        if kill -0 "$pid" 2>/dev/null; then continue; fi
        _lab_log "removing $ns (its script, pid $pid, is gone)"
        _lab_kill_ns_processes "$ns" || true
        ip netns del "$ns" || true
    done
    for path in "${TMPDIR:-/tmp}"/gwlab.*; do
        [[ -d $path ]] || continue
        pid=${path##*/gwlab.}
        pid=${pid%%-*}
        [[ $pid =~ ^[0-9]+$ ]] || continue
        if kill -0 "$pid" 2>/dev/null; then continue; fi
        _lab_log "removing $path (its script, pid $pid, is gone)"
        rm -rf -- "$path"
    done
}

_lab_main() {
    set -euo pipefail
    local command=${1:-}
    (($#)) && shift
    case $command in
    up)
        lab_up "$@"
        lab_describe
        read -r -p "lab is up; press Enter to tear it down " _ || true
        ;;
    shell)
        lab_up "$@"
        lab_describe
        _lab_shell
        ;;
    two-nats)
        lab_two_nats_up --upstream "${1:-miniupnpd}"
        lab_describe
        _lab_shell
        ;;
    gc) _lab_gc ;;
    *)
        echo "usage: $0 up|shell [--nat gatewayd|kernel|none] [--wan2] [--upstream-nat] [--stun] [--lan-hosts N] [--config FILE]  |  $0 two-nats miniupnpd|gatewayd  |  $0 gc" >&2
        exit 2
        ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then _lab_main "$@"; fi

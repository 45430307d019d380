#!/usr/bin/env bash
# Two NATs in the lab (issue 19): gatewayd behind an ISP box that does NAT too and runs a port-control
# service of its own, so that a mapping gatewayd grants can be carried upstream.
#
#   LAN host                 gateway (gatewayd)                     ISP box (NAT + port control)                 internet host
#   eth0 192.168.50.10 ─── lan0 192.168.50.1 │ wan0 100.64.0.2 ─── eth0 100.64.0.1 │ eth1 45.76.113.1 (+203.0.113.1) ─── eth0 203.0.113.2
#                          default via 100.64.0.1                 the gateway's WAN link is its inside              route to 45.76.113.1 on-link
#
# The gateway's WAN address is shared (CGNAT) space, so its WAN monitor reports a cascade
# (wan.upstream_mappings: auto then looks upstream). The ISP box is lab_up --upstream-nat's ISP
# namespace with its kernel MASQUERADE replaced by one of two upstreams:
#   miniupnpd  Debian's miniupnpd (miniupnpd-iptables 2.3.1) with the kernel's NAT through
#              iptables-legacy, as lab_upnp.sh's reference (lab_miniupnpd_network, shared with it);
#              UPnP IGD only (its NAT-PMP/PCP off), listening on eth0, permissions allowing the
#              gateway's WAN address.
#   gatewayd   a second gatewayd: LAN = eth0 (the gateway's WAN link), WAN = eth1, UPnP, NAT-PMP
#              and PCP on; its own config, log ($LAB_TMP/gatewayd.isp.N.log), lease file and control
#              socket (lab_isp_ctl).
# The upstream's public address is $LAB_TWO_NATS_PUBLIC_IP (45.76.113.1): miniupnpd refuses to map on a
# reserved address such as 203.0.113.1, and both upstreams use the same one so the tests read alike.
# It is the ISP box's first address on eth1 (203.0.113.1/24 stays behind it for the link's route),
# the source of everything the ISP box translates, and the internet host reaches it on-link.
#
#     lab_two_nats_up --upstream miniupnpd|gatewayd [--wan-key KEY=VALUE]... [--isp-key SECTION.KEY=VALUE]...
#         brings the lab up with the ISP box running, then the gateway's gatewayd with
#         lab_two_nats_config's config (every front end on) and the --wan-key settings
#         (upstream_failure=refuse...); --isp-key adds settings to the upstream gatewayd's config
#         (e.g. upnp.max_lease=60).
#     lab_two_nats_config [WAN-KEY=VALUE]...   that config, for a lab_daemon_start --config <(...) later
#     lab_isp_stop / lab_isp_start   stop (SIGTERM) and start the upstream service again
#     lab_isp_ctl ARGS...            gatewayctl against the upstream gatewayd
#     lab_isp_mappings               the upstream's mappings, one "PROTO EXT-PORT INT-ADDR:INT-PORT"
#                                    line each: `upnpc -l` from the gateway namespace (gatewayd's IGD
#                                    lists its NAT-PMP and PCP mappings too)
#     lab_isp_expect_mapped / lab_isp_expect_unmapped PROTO PORT WHAT [SECONDS]
#                                    the upstream holds (LAB_ISP_PORT: its external port) or no longer
#                                    holds a mapping to the gateway's WAN address:PORT
#     lab_isp_upnpc ARGS...          upnpc in the gateway namespace against the upstream's IGD
#     lab_natpmpc ROLE ARGS...       natpmpc in ROLE's namespace: from lan to the gateway, from gw to the ISP box
#     lab_two_nats_listen ROLE PORT...  lab_upnp_listen on several ports at once
#     lab_upstream_field KEY / lab_upstream_expect_using PCP|NAT-PMP|"UPnP IGD" WHAT
#                                    the gateway's status: its "upstream" object, the upstream it uses
#     lab_two_nats_probe_arrives ROLE PROTO EXT-PORT INT-PORT [SECONDS]
#                                    lab_upnp_probe_arrives, but sent to the upstream's public address
# Sourced by lab.sh (source that, not this); needs lab.sh's and lab_upnp.sh's state.
# shellcheck disable=SC2153,SC2034 # the LAB_* names are lab.sh's and lab_upnp.sh's state, read there

LAB_TWO_NATS_PUBLIC_IP=$LAB_UPNP_REFERENCE_EXTERNAL_IP
LAB_ISP_HTTP_PORT=$LAB_UPNP_HTTP_PORT # the upstream IGD's port, the same as the gateway's own (another namespace)

: "${LAB_ISP_PORT:=}" "${LAB_TWO_NATS_UPSTREAM:=}" "${LAB_ISP_PID:=}" "${LAB_ISP_LOG:=}" "${LAB_ISP_STARTS:=0}" "${LAB_ISP_URL:=}"

lab_two_nats_up() {
    local upstream='' wan_keys=() isp_keys=()
    while (($#)); do
        case $1 in
        --upstream) upstream=${2:?--upstream needs miniupnpd or gatewayd}; shift 2 ;;
        --wan-key) wan_keys+=("${2:?--wan-key needs KEY=VALUE}"); shift 2 ;;
        --isp-key) isp_keys+=("${2:?--isp-key needs SECTION.KEY=VALUE}"); shift 2 ;;
        *) _lab_die "lab_two_nats_up: unknown argument '$1'" ;;
        esac
    done
    case $upstream in
    miniupnpd)
        [[ -x $LAB_MINIUPNPD ]] || lab_skip "no miniupnpd at $LAB_MINIUPNPD (package miniupnpd-iptables)"
        command -v iptables-legacy >/dev/null || lab_skip "missing tool: iptables-legacy"
        ;;
    gatewayd) ;;
    *) _lab_die "lab_two_nats_up: --upstream must be miniupnpd or gatewayd, not '$upstream'" ;;
    esac
    local tool
    for tool in upnpc natpmpc; do command -v "$tool" >/dev/null || lab_skip "missing tool: $tool (tools/install-deps.sh)"; done
    _lab_require_gatewayd
    lab_up --nat none --upstream-nat
    LAB_NAT_MODE=gatewayd
    LAB_TWO_NATS_UPSTREAM=$upstream LAB_ISP_STARTS=0 LAB_ISP_PID='' LAB_ISP_LOG=''
    LAB_ISP_URL=http://$LAB_ISP_IP:$LAB_ISP_HTTP_PORT/rootDesc.xml
    # lab_upnp.sh's state, so its helpers (lab_upnpc, lab_upnp_py, probes) work on the LAN side; the
    # gateway's root description is known, which spares each test an SSDP discovery (4 s).
    LAB_UPNP_IGD=gatewayd LAB_UPNP_URL=http://$LAB_GW_LAN_IP:$LAB_UPNP_HTTP_PORT/igd/rootDesc.xml LAB_UPNP_STARTS=0
    LAB_UPNP_LEASE_FILE=$LAB_TMP/upnp.leases
    LAB_UPNP_EXTERNAL_IP=$LAB_TWO_NATS_PUBLIC_IP
    # The ISP's kernel MASQUERADE goes, its table too: the upstream does the NAT (miniupnpd's
    # in iptables-legacy's table, gatewayd its own).
    lab_in isp iptables -t nat -F POSTROUTING
    lab_in isp nft delete table ip nat 2>/dev/null || true
    _lab_two_nats_public_address
    if [[ $upstream == miniupnpd ]]; then
        lab_miniupnpd_network isp "$LAB_HOST_IF" "$LAB_ISP_PUBLIC_IF" "$LAB_ISP_IP/$LAB_PREFIX_LEN" "$LAB_TWO_NATS_PUBLIC_IP"
        _lab_two_nats_miniupnpd_config >"$LAB_TMP/miniupnpd.isp.conf"
    else
        LAB_ISP_URL=http://$LAB_ISP_IP:$LAB_ISP_HTTP_PORT/igd/rootDesc.xml
        lab_in isp sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
            "net.ipv4.conf.$LAB_HOST_IF.rp_filter=0" "net.ipv4.conf.$LAB_ISP_PUBLIC_IF.rp_filter=0"
        _lab_two_nats_gatewayd_config "${isp_keys[@]}" >"$LAB_TMP/gatewayd.isp.yaml"
    fi
    lab_isp_start
    lab_two_nats_config "${wan_keys[@]}" >"$LAB_TMP/gatewayd.two-nats.yaml"
    lab_daemon_start --config "$LAB_TMP/gatewayd.two-nats.yaml"
}

# The upstream's public address first on eth1, so that miniupnpd reads it (SIOCGIFADDR; the
# upstream gatewayd is told it: wan.address), and the source of the ISP box's own packets; the
# lab's 203.0.113.1/24 after it keeps the link's route. The internet host reaches it on-link, as
# any address of its ISP.
_lab_two_nats_public_address() {
    ip -n "$LAB_NS_ISP" addr del "$LAB_ISP_PUBLIC_IP/$LAB_PREFIX_LEN" dev "$LAB_ISP_PUBLIC_IF"
    ip -n "$LAB_NS_ISP" addr add "$LAB_TWO_NATS_PUBLIC_IP/32" dev "$LAB_ISP_PUBLIC_IF"
    ip -n "$LAB_NS_ISP" addr add "$LAB_ISP_PUBLIC_IP/$LAB_PREFIX_LEN" dev "$LAB_ISP_PUBLIC_IF"
    ip -n "$LAB_NS_ISP" route replace "${LAB_WAN_IP%.*}.0/$LAB_PREFIX_LEN" dev "$LAB_ISP_PUBLIC_IF" src "$LAB_TWO_NATS_PUBLIC_IP"
    ip -n "$LAB_NS_WAN" route add "$LAB_TWO_NATS_PUBLIC_IP/32" dev "$LAB_HOST_IF"
}

# miniupnpd on the ISP box: UPnP IGD on its inside, allowing the gateway's WAN address (the
# gateway maps ports to itself) and nothing else.
_lab_two_nats_miniupnpd_config() {
    cat <<EOF
ext_ifname=$LAB_ISP_PUBLIC_IF
listening_ip=$LAB_HOST_IF
http_port=$LAB_ISP_HTTP_PORT
enable_natpmp=no
enable_upnp=yes
secure_mode=yes
system_uptime=yes
notify_interval=60
clean_ruleset_interval=600
lease_file=$LAB_TMP/miniupnpd.isp.leases
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07c
allow 1024-65535 $LAB_GW_WAN_IP/32 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
}

# The upstream gatewayd: its LAN is the gateway's WAN link, every front end on. SECTION.KEY=VALUE
# arguments add settings (one section level, as upnp.max_lease=60).
_lab_two_nats_gatewayd_config() {
    local setting section sections=(lan wan upnp natpmp pcp)
    declare -A extra=()
    for setting in "$@"; do
        section=${setting%%.*}
        extra[$section]+="  ${setting#*.}"$'\n'
        extra[$section]=${extra[$section]/=/: }
    done
    local -A body=(
        [lan]="  interface: $LAB_HOST_IF"$'\n'"  networks: [${LAB_ISP_IP%.*}.0/$LAB_PREFIX_LEN]"$'\n'
        [wan]="  interface: $LAB_ISP_PUBLIC_IF"$'\n'"  address: $LAB_TWO_NATS_PUBLIC_IP"$'\n'
        [upnp]="  enabled: true"$'\n'"  http_port: $LAB_ISP_HTTP_PORT"$'\n'"  lease_file: $LAB_TMP/gatewayd.isp.leases"$'\n'"  permissions: [\"allow 1024-65535 $LAB_GW_WAN_IP/32 1024-65535\"]"$'\n'
        [natpmp]="  enabled: true"$'\n'
        [pcp]="  enabled: true"$'\n'
    )
    for section in "${sections[@]}"; do
        printf '%s:\n%s%s' "$section" "${body[$section]}" "${extra[$section]:-}"
    done
}

lab_isp_start() {
    [[ -z $LAB_ISP_PID ]] || _lab_die "the upstream $LAB_TWO_NATS_UPSTREAM is already running (pid $LAB_ISP_PID)"
    LAB_ISP_STARTS=$((LAB_ISP_STARTS + 1))
    if [[ $LAB_TWO_NATS_UPSTREAM == miniupnpd ]]; then
        lab_bg isp "miniupnpd.isp.$LAB_ISP_STARTS" "$LAB_MINIUPNPD" -d -f "$LAB_TMP/miniupnpd.isp.conf" -P "$LAB_TMP/miniupnpd.isp.pid"
        LAB_ISP_PID=$LAB_BG_PID LAB_ISP_LOG=$LAB_TMP/miniupnpd.isp.$LAB_ISP_STARTS.log
        lab_wait_listen isp tcp "$LAB_ISP_HTTP_PORT" || _lab_die "miniupnpd did not start listening: $(cat "$LAB_ISP_LOG")"
        return 0
    fi
    # Named gatewayd.*.log so that lab_down reads it for sanitizer reports like the gateway's.
    LAB_ISP_LOG=$LAB_TMP/gatewayd.isp.$LAB_ISP_STARTS.log
    ip netns exec "$LAB_NS_ISP" "$GATEWAYD" --config "$LAB_TMP/gatewayd.isp.yaml" --control-socket "$LAB_TMP/control.isp.sock" \
        </dev/null >"$LAB_ISP_LOG" 2>&1 &
    LAB_ISP_PID=$!
    lab_poll "$LAB_READY_TIMEOUT" _lab_isp_ready_or_dead || true
    grep -sq 'gatewayd: ready' "$LAB_ISP_LOG" && return 0
    lab_stop_pid "$LAB_ISP_PID"
    LAB_ISP_PID=''
    _lab_log "the upstream gatewayd did not start; its log:"
    sed 's/^/    /' "$LAB_ISP_LOG" >&2
    _lab_die "the upstream gatewayd failed to start"
}

_lab_isp_ready_or_dead() { grep -sq 'gatewayd: ready' "$LAB_ISP_LOG" || _lab_pid_gone "$LAB_ISP_PID"; }

lab_isp_stop() {
    [[ -n $LAB_ISP_PID ]] || return 0
    lab_stop_pid "$LAB_ISP_PID" "$LAB_STOP_TIMEOUT"
    LAB_ISP_PID=''
}

lab_isp_ctl() {
    [[ -x $GATEWAYCTL ]] || _lab_die "no gatewayctl binary at $GATEWAYCTL"
    "$GATEWAYCTL" --socket "$LAB_TMP/control.isp.sock" "$@"
}

lab_isp_upnpc() { lab_gw upnpc -u "$LAB_ISP_URL" "$@"; }

lab_natpmpc() {
    local role=$1 server=$LAB_GW_LAN_IP
    shift
    [[ $role != gw ]] || server=$LAB_ISP_IP
    lab_in "$role" natpmpc -g "$server" "$@" 2>&1
}

# lab_isp_mappings: what the upstream holds, "TCP 3389 100.64.0.2:3389" a line, from its own
# listing (upnpc -l walks GetGenericPortMappingEntry; gatewayd's IGD lists its NAT-PMP and PCP
# mappings as well).
lab_isp_mappings() {
    lab_isp_upnpc -l 2>&1 | sed -nE 's/^ *[0-9]+ +(TCP|UDP) +([0-9]+)->([0-9.]+:[0-9]+) .*/\1 \2 \3/p'
}

# lab_isp_external_port PROTO PORT: the upstream's external port for its mapping to the gateway's
# WAN address:PORT (nothing when it holds none).
lab_isp_external_port() {
    lab_isp_mappings | awk -v p="$1" -v to="$LAB_GW_WAN_IP:$2" '$1 == p && $3 == to { print $2; exit }'
}

_lab_isp_mapped() { [[ -n $(lab_isp_external_port "$1" "$2") ]]; }
_lab_isp_unmapped() { [[ -z $(lab_isp_external_port "$1" "$2") ]]; }

# lab_isp_expect_mapped PROTO PORT WHAT [SECONDS]: within SECONDS (default 5: the gateway's upstream
# worker asks in the background) the upstream holds PROTO towards the gateway's WAN address:PORT;
# sets LAB_ISP_PORT to its external port. lab_isp_expect_unmapped PROTO PORT WHAT [SECONDS]: it
# holds none any more.
lab_isp_expect_mapped() {
    lab_poll "${4:-5}" _lab_isp_mapped "$1" "$2" ||
        lab_fail "$3: the upstream ($LAB_TWO_NATS_UPSTREAM) holds no $1 mapping to $LAB_GW_WAN_IP:$2 after ${4:-5} s; it lists:"$'\n'"$(lab_isp_mappings)"$'\n'"$(lab_isp_log_tail)"
    LAB_ISP_PORT=$(lab_isp_external_port "$1" "$2")
}

lab_isp_expect_unmapped() {
    lab_poll "${4:-5}" _lab_isp_unmapped "$1" "$2" ||
        lab_fail "$3: the upstream ($LAB_TWO_NATS_UPSTREAM) still holds $1 to $LAB_GW_WAN_IP:$2 after ${4:-5} s:"$'\n'"$(lab_isp_mappings)"
}

lab_isp_log_tail() {
    [[ -n $LAB_ISP_LOG && -s $LAB_ISP_LOG ]] || return 0
    echo "--- upstream $LAB_TWO_NATS_UPSTREAM log, last 20 lines"
    tail -n 20 "$LAB_ISP_LOG" | sed 's/^/    /'
}

# lab_two_nats_probe_arrives ROLE PROTO EXT-PORT INT-PORT [SECONDS]: the internet host sends one
# tagged probe to the upstream's public address:EXT-PORT; true if ROLE's listener on INT-PORT
# (lab_upnp_listen) logs it from the internet host's own address within SECONDS (default 3).
lab_two_nats_probe_arrives() {
    local role=$1 proto=$2 port=$3 log=$LAB_TMP/arrivals.$1.$4 seconds=${5:-3}
    LAB_UPNP_PROBES=$((LAB_UPNP_PROBES + 1))
    LAB_UPNP_PROBE_TEXT=probe2-$proto-$port-$LAB_UPNP_PROBES
    if [[ $proto == tcp ]]; then
        lab_py wan tcp-send --timeout "$seconds" "$LAB_TWO_NATS_PUBLIC_IP" "$port" "$LAB_UPNP_PROBE_TEXT" 2>/dev/null || return 1
    else
        lab_py wan udp-send "$LAB_TWO_NATS_PUBLIC_IP" "$port" "$LAB_UPNP_PROBE_TEXT"
    fi
    lab_poll "$seconds" grep -sqE "^$proto ${LAB_WAN_IP//./\\.}:[0-9]+ $LAB_UPNP_PROBE_TEXT\$" "$log"
}

# lab_two_nats_expect_open / _closed ROLE PROTO EXT-PORT INT-PORT WHAT: through both NATs, or not.
lab_two_nats_expect_open() {
    lab_two_nats_probe_arrives "$1" "$2" "$3" "$4" ||
        lab_fail "$5: $2 from the internet host to $LAB_TWO_NATS_PUBLIC_IP:$3 did not reach $1's listener on port $4 through both NATs; it logged:"$'\n'"$(cat "$LAB_TMP/arrivals.$1.$4" 2>/dev/null)"$'\n'"$(lab_isp_log_tail)"
}

lab_two_nats_expect_closed() {
    if lab_two_nats_probe_arrives "$1" "$2" "$3" "$4" 2; then
        lab_fail "$5: $2 from the internet host to $LAB_TWO_NATS_PUBLIC_IP:$3 still reached $1's listener on port $4"
    fi
}

# lab_two_nats_config [WAN-KEY=VALUE]...: the gateway's config for the two-NAT tests: every front end
# on (as lab_port_control_config), the lease file in $LAB_UPNP_LEASE_FILE, and more wan.KEY settings
# (upstream_mappings=pcp, upstream_failure=refuse...).
lab_two_nats_config() {
    local setting wan="interface: $LAB_GW_WAN_IF, address: auto"
    for setting in "$@"; do wan+=", ${setting%%=*}: ${setting#*=}"; done
    cat <<CONFIG
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {$wan}
upnp:
  enabled: true
  http_port: $LAB_UPNP_HTTP_PORT
  lease_file: $LAB_UPNP_LEASE_FILE
  permissions: ["allow 1024-65535 $LAB_LAN_NET 1024-65535"]
natpmp: {enabled: true}
pcp: {enabled: true}
CONFIG
}

# lab_two_nats_listen ROLE PORT...: lab_upnp_listen's listeners on each PORT, started together and
# then waited for (one after the other costs half a second each).
lab_two_nats_listen() {
    local role=$1 port
    shift
    for port in "$@"; do
        lab_bg "$role" "listener.$role.$port" "$LAB_PY" "$LAB_NET_PY" listen-log --port "$port" --log "$LAB_TMP/arrivals.$role.$port"
    done
    for port in "$@"; do
        lab_wait_listen "$role" tcp "$port"
        lab_wait_listen "$role" udp "$port"
    done
}

# lab_upstream_field KEY.KEY...: one member of the gateway's `gatewayctl --json status` "upstream"
# object (null when absent).
lab_upstream_field() {
    lab_ctl --json status | "$LAB_PY" -c 'import json, sys
v = json.load(sys.stdin).get("upstream")
for k in sys.argv[1].split("."): v = v.get(k) if isinstance(v, dict) else None
print("null" if v is None else v)' "$1"
}

_lab_upstream_using() {
    [[ $(lab_upstream_field state) == using && $(lab_upstream_field detail) == "$1 at "* ]]
}

# lab_upstream_expect_using TITLE WHAT: within 10 s the gateway's status says it uses the upstream's
# TITLE (PCP, NAT-PMP, UPnP IGD) and its external address is the upstream's public address; the
# condensed status has the same on its "upstream" line. Sets LAB_UPSTREAM_LINE to that line.
lab_upstream_expect_using() {
    lab_poll 10 _lab_upstream_using "$1" ||
        lab_fail "$2: gatewayctl status does not say it uses the upstream's $1: upstream=$(lab_ctl --json status | "$LAB_PY" -c 'import json, sys; print(json.load(sys.stdin).get("upstream"))')"
    [[ $(lab_upstream_field external_address) == "$LAB_TWO_NATS_PUBLIC_IP" ]] ||
        lab_fail "$2: status upstream.external_address is $(lab_upstream_field external_address), not $LAB_TWO_NATS_PUBLIC_IP"
    LAB_UPSTREAM_LINE=$(lab_ctl status | grep -E '^upstream ' || true)
    [[ $LAB_UPSTREAM_LINE == *"$1 at "*"$LAB_TWO_NATS_PUBLIC_IP"* ]] ||
        lab_fail "$2: gatewayctl status has no upstream line naming $1 and $LAB_TWO_NATS_PUBLIC_IP:"$'\n'"$(lab_ctl status)"
}

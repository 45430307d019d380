#!/usr/bin/env bash
# The UPnP Internet Gateway Device in the lab, and the clients that use it from LAN hosts.
# Sourced by lab.sh (source that, not this); needs lab.sh's state.
#
#     lab_upnp_up [--igd-version 1|2] [--max-lease S] [--insecure] [--lan-hosts N] [--wan2] [--ipv6-lan]
#                 [--upstream-nat] [--stun]   (lab_up's)
#                 [--upnp-key KEY=VALUE]...   (more upnp.KEY settings for gatewayd; the reference ignores them)
#                 [--wan-key KEY=VALUE]...    (more wan.KEY settings for gatewayd, e.g. stun=203.0.113.2:3478)
#         --ipv6-lan: the lab's IPv6 (lab_up --ipv6), gatewayd's lan.ipv6_networks, and each LAN host
#         also on a SLAAC-like address (lab_upnp_ipv6_lan), for pinholes.
#         LAB_NAT=gatewayd (default): gatewayd with an upnp: section, leases in $LAB_UPNP_LEASE_FILE.
#         LAB_NAT=kernel: the reference, to check the tests themselves: the kernel's NAT with Debian's
#         miniupnpd (package miniupnpd-iptables) and iptables-legacy, all inside the gateway
#         namespace. miniupnpd refuses to map on a reserved WAN address such as 203.0.113.1, so its
#         wan0 gets $LAB_UPNP_REFERENCE_EXTERNAL_IP first; WAN hosts still reach it at 203.0.113.1.
#     lab_upnp_discover ROLE   SSDP from ROLE with upnpc -l; sets LAB_UPNP_URL (root description)
#     lab_upnpc ROLE ARGS...   upnpc (miniupnpc's client) in ROLE's namespace, -u $LAB_UPNP_URL once known
#     lab_upnp_py ROLE ARGS... labupnp.py (python3-miniupnpc) in ROLE's namespace, --url likewise
#     lab_upnp_stop / lab_upnp_start   stop (SIGTERM) and start the IGD again, same lease file
# LAB_UPNP_EXTERNAL_IP is the address the IGD reports (GetExternalIPAddress); WAN hosts send to
# LAB_GW_WAN_IP in both modes.

LAB_UPNP_PY=${LAB_UPNP_PY:-/usr/bin/python3} # Debian's python3, where python3-miniupnpc installs
LAB_UPNP_CLIENT_PY=$LAB_DIR/labupnp.py
LAB_UPNP_HTTP_PORT=${LAB_UPNP_HTTP_PORT:-49152} # upnp.http_port (pupnp 1.8 needs >= 49152; and miniupnpd's http_port)
# shellcheck disable=SC2034 # read by the scripts that source lab.sh
LAB_UPNP_SSDP_GROUP=239.255.255.250
# A public-looking address, on the namespaced veth only: nothing outside the lab routes to it.
LAB_UPNP_REFERENCE_EXTERNAL_IP=45.76.113.1
LAB_MINIUPNPD=${LAB_MINIUPNPD:-/usr/sbin/miniupnpd}

: "${LAB_UPNP_IGD:=}" "${LAB_UPNP_URL:=}" "${LAB_UPNP_LEASE_FILE:=}" "${LAB_UPNP_EXTERNAL_IP:=}"
: "${LAB_UPNP_PID:=}" "${LAB_UPNP_STARTS:=0}" "${LAB_UPNP_LOG:=}"

# lab_port_control_config: a gatewayd config with every front end on (UPnP, NAT-PMP, PCP), the
# LAN networks given (the LAN may get its address after start) and the WAN address followed
# (auto): for tests where the links or addresses change under a running daemon.
lab_port_control_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
upnp:
  enabled: true
  http_port: $LAB_UPNP_HTTP_PORT
  permissions: ["allow 1024-65535 $LAB_LAN_NET 1024-65535"]
natpmp: {enabled: true}
pcp: {enabled: true}
EOF
}

lab_upnp_up() {
    local version=1 max_lease=604800 secure=true lab_args=() ipv6_lan=false
    LAB_UPNP_EXTRA_KEYS=() LAB_UPNP_WAN_KEYS=()
    while (($#)); do
        case $1 in
        --igd-version) version=${2:?--igd-version needs 1 or 2}; shift 2 ;;
        --max-lease) max_lease=${2:?--max-lease needs seconds}; shift 2 ;;
        --insecure) secure=false; shift ;;
        --lan-hosts) lab_args+=("$1" "${2:?--lan-hosts needs a number}"); shift 2 ;;
        --wan2 | --upstream-nat | --stun) lab_args+=("$1"); shift ;;
        --ipv6-lan) ipv6_lan=true; lab_args+=(--ipv6); shift ;;
        --wan-key) LAB_UPNP_WAN_KEYS+=("${2:?--wan-key needs KEY=VALUE}"); shift 2 ;;
        --upnp-key) LAB_UPNP_EXTRA_KEYS+=("${2:?--upnp-key needs KEY=VALUE}"); shift 2 ;;
        *) _lab_die "lab_upnp_up: unknown argument '$1'" ;;
        esac
    done
    [[ $version == 1 || $version == 2 ]] || _lab_die "lab_upnp_up: --igd-version must be 1 or 2, not '$version'"
    local mode=${LAB_NAT:-gatewayd}
    case $mode in
    gatewayd) LAB_UPNP_IGD=gatewayd ;;
    kernel) LAB_UPNP_IGD=miniupnpd ;;
    *) _lab_die "lab_upnp_up: the IGD needs LAB_NAT=gatewayd or kernel (miniupnpd), not '$mode'" ;;
    esac
    _lab_upnp_require_tools
    LAB_UPNP_IPV6=$ipv6_lan
    lab_up --nat none "${lab_args[@]}"
    # shellcheck disable=SC2034 # lab.sh's state: what lab_describe shows
    LAB_NAT_MODE=$mode
    LAB_UPNP_URL='' LAB_UPNP_STARTS=0
    LAB_UPNP_LEASE_FILE=$LAB_TMP/upnp.leases
    if [[ $ipv6_lan == true ]]; then lab_upnp_ipv6_lan; fi
    if [[ $LAB_UPNP_IGD == gatewayd ]]; then
        LAB_UPNP_EXTERNAL_IP=$LAB_GW_WAN_IP
        _lab_upnp_gatewayd_config "$version" "$max_lease" "$secure" >"$LAB_TMP/upnp-gatewayd.yaml"
        lab_daemon_start --config "$LAB_TMP/upnp-gatewayd.yaml"
    else
        LAB_UPNP_EXTERNAL_IP=$LAB_UPNP_REFERENCE_EXTERNAL_IP
        _lab_upnp_reference_network
        _lab_upnp_miniupnpd_config "$version" "$secure" >"$LAB_TMP/miniupnpd.conf"
        lab_upnp_start
    fi
}

# The permissions of the tests: LAN clients may map 1024-65535 to ports 1024-65535 of LAN hosts.
_lab_upnp_permissions() {
    echo "allow 1024-65535 $LAB_LAN_NET 1024-65535"
    echo "deny 0-65535 0.0.0.0/0 0-65535"
}

_lab_upnp_gatewayd_config() {
    local permission permissions=()
    while IFS= read -r permission; do permissions+=("\"$permission\""); done < <(_lab_upnp_permissions)
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]$([[ $LAB_UPNP_IPV6 != true ]] || echo ", ipv6_networks: [$LAB_LAN6_NET]")}
wan: {interface: $LAB_GW_WAN_IF, address: auto$(for setting in "${LAB_UPNP_WAN_KEYS[@]}"; do printf ', %s: "%s"' "${setting%%=*}" "${setting#*=}"; done)}
upnp:
  enabled: true
  igd_version: $1
  http_port: $LAB_UPNP_HTTP_PORT
  secure_mode: $3
  max_lease: $2
  lease_file: $LAB_UPNP_LEASE_FILE
  permissions: [$(IFS=,; echo "${permissions[*]}")]
EOF
    local setting
    for setting in "${LAB_UPNP_EXTRA_KEYS[@]}"; do echo "  ${setting%%=*}: ${setting#*=}"; done
}

# ---------------------------------------------------------------------------------------------
# IPv6 on the LAN (IGD:2 pinholes)

# The LAN's IPv6 prefix is the lab's (lab_up --ipv6: LAB_LAN6_NET, the gateway at LAB_GW_LAN6_IP).
# Each LAN host also takes the prefix with its link-local interface identifier, as SLAAC would
# give it: pupnp 1.8 serves IPv6 on the gateway's link-local address only, so a host asks from
# its link-local address, and secure mode matches the interface identifier.
: "${LAB_UPNP_IPV6:=false}"

# lab_upnp_link_local ROLE: ROLE's link-local address on its LAN interface (gw: lan0).
lab_upnp_link_local() {
    local ifname=$LAB_HOST_IF
    [[ $1 != gw ]] || ifname=$LAB_GW_LAN_IF
    lab_in "$1" ip -6 addr show dev "$ifname" scope link | awk '/inet6/ { sub(/\/.*/, "", $2); print $2; exit }'
}

# lab_upnp_lan_ip6 K: LAN host K's address in the LAN prefix.
lab_upnp_lan_ip6() {
    local link_local
    link_local=$(lab_upnp_link_local "lan$1")
    # RFC 5952 text (what gatewayd prints): no "::" for a single zero group.
    /usr/bin/python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' \
        "${LAB_LAN6_NET%%::/*}::${link_local#fe80::}"
}

# lab_upnp_ipv6_lan: each LAN host's SLAAC-like address (lab_upnp_lan_ip6), beside the lab's.
lab_upnp_ipv6_lan() {
    local k
    for ((k = 1; k <= LAB_LAN_HOSTS; k++)); do
        ip -n "$(_lab_ns_of "lan$k")" addr add "$(lab_upnp_lan_ip6 "$k")/64" dev "$LAB_HOST_IF" nodad
    done
}

# lab_upnp_url6: the root description at the gateway's link-local address, for LAN hosts (zone
# %25 = '%' in a URL: their LAN interface).
lab_upnp_url6() {
    echo "http://[$(lab_upnp_link_local gw)%25$LAB_HOST_IF]:$LAB_UPNP_HTTP_PORT/igd/rootDesc.xml"
}

# ---------------------------------------------------------------------------------------------
# Starting and stopping the IGD (gatewayd itself, or the reference miniupnpd)

lab_upnp_start() {
    if [[ $LAB_UPNP_IGD == gatewayd ]]; then
        lab_daemon_start
        return
    fi
    [[ -z $LAB_UPNP_PID ]] || _lab_die "miniupnpd is already running (pid $LAB_UPNP_PID)"
    LAB_UPNP_STARTS=$((LAB_UPNP_STARTS + 1))
    lab_bg gw "miniupnpd.$LAB_UPNP_STARTS" "$LAB_MINIUPNPD" -d -f "$LAB_TMP/miniupnpd.conf" -P "$LAB_TMP/miniupnpd.pid"
    LAB_UPNP_PID=$LAB_BG_PID
    LAB_UPNP_LOG=$LAB_TMP/miniupnpd.$LAB_UPNP_STARTS.log
    lab_wait_listen gw tcp "$LAB_UPNP_HTTP_PORT" ||
        _lab_die "miniupnpd did not start listening: $(cat "$LAB_UPNP_LOG")"
}

lab_upnp_stop() {
    if [[ $LAB_UPNP_IGD == gatewayd ]]; then
        lab_daemon_stop
        return
    fi
    [[ -n $LAB_UPNP_PID ]] || return 0
    lab_stop_pid "$LAB_UPNP_PID" "$LAB_STOP_TIMEOUT"
    LAB_UPNP_PID=''
}

# lab_upnp_log: the IGD's log of this start (for failure messages).
lab_upnp_log() {
    if [[ $LAB_UPNP_IGD == gatewayd ]]; then cat "$LAB_DAEMON_LOG"; else cat "$LAB_UPNP_LOG"; fi
}

# The reference's gateway: the reference address first, so that it is the one miniupnpd reads
# (SIOCGIFADDR); the lab's WAN address after it, so WAN hosts and the route towards them are unchanged.
_lab_upnp_reference_network() {
    ip -n "$LAB_NS_GW" addr del "$LAB_GW_WAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_WAN_IF"
    ip -n "$LAB_NS_GW" addr add "$LAB_UPNP_REFERENCE_EXTERNAL_IP/32" dev "$LAB_GW_WAN_IF"
    ip -n "$LAB_NS_GW" addr add "$LAB_GW_WAN_IP/$LAB_PREFIX_LEN" dev "$LAB_GW_WAN_IF"
    lab_miniupnpd_network gw "$LAB_GW_LAN_IF" "$LAB_GW_WAN_IF" "$LAB_LAN_NET" "$LAB_GW_WAN_IP"
}

# lab_miniupnpd_network ROLE INSIDE-IF OUTSIDE-IF INSIDE-NET SNAT-ADDRESS: ROLE's namespace becomes a
# home router for miniupnpd: a home router's iptables (as _lab_nat_kernel, the inside's sources
# translated to SNAT-ADDRESS) plus the chains miniupnpd fills (what Debian's iptables_init.sh
# creates), all iptables-legacy because miniupnpd-iptables writes through libiptc; both kinds of
# table in one namespace would each have to accept a packet. Used by the reference IGD (the
# gateway namespace) and by the two-NAT lab's ISP box (lab_two_nats.sh).
lab_miniupnpd_network() {
    local role=$1 inside=$2 outside=$3 inside_net=$4 snat=$5
    local ipt=(ip netns exec "$(_lab_ns_of "$role")" iptables-legacy)
    "${ipt[@]}" -t nat -N MINIUPNPD
    "${ipt[@]}" -t nat -A PREROUTING -i "$outside" -j MINIUPNPD
    "${ipt[@]}" -t nat -N MINIUPNPD-POSTROUTING
    "${ipt[@]}" -t nat -A POSTROUTING -o "$outside" -j MINIUPNPD-POSTROUTING
    "${ipt[@]}" -t nat -A POSTROUTING -o "$outside" -s "$inside_net" -j SNAT --to-source "$snat"
    "${ipt[@]}" -t filter -N MINIUPNPD
    "${ipt[@]}" -A FORWARD -i "$outside" -o "$inside" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    "${ipt[@]}" -A FORWARD -i "$outside" ! -o "$outside" -j MINIUPNPD
    "${ipt[@]}" -A FORWARD -i "$outside" -j DROP
    # What gatewayd's input policy does: the IGD answers the inside only.
    "${ipt[@]}" -A INPUT -i "$outside" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    "${ipt[@]}" -A INPUT -i "$outside" -j DROP
    lab_in "$role" sysctl -qw net.ipv4.ip_forward=1
}

_lab_upnp_miniupnpd_config() {
    cat <<EOF
ext_ifname=$LAB_GW_WAN_IF
listening_ip=$LAB_GW_LAN_IF
http_port=$LAB_UPNP_HTTP_PORT
enable_natpmp=no
enable_upnp=yes
secure_mode=$([[ $2 == true ]] && echo yes || echo no)
force_igd_desc_v1=$([[ $1 == 1 ]] && echo yes || echo no)
system_uptime=yes
notify_interval=60
clean_ruleset_interval=600
lease_file=$LAB_UPNP_LEASE_FILE
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
EOF
    _lab_upnp_permissions
}

# ---------------------------------------------------------------------------------------------
# Clients on LAN hosts

# lab_upnpc ROLE ARGS...: upnpc in ROLE's namespace; once LAB_UPNP_URL is known it skips discovery.
lab_upnpc() {
    local role=$1
    shift
    if [[ -n $LAB_UPNP_URL ]]; then
        lab_in "$role" upnpc -u "$LAB_UPNP_URL" "$@"
    else
        lab_in "$role" upnpc "$@"
    fi
}

# lab_upnp_py ROLE ARGS...: labupnp.py (python3-miniupnpc) in ROLE's namespace.
lab_upnp_py() {
    local role=$1
    shift
    if [[ -n $LAB_UPNP_URL ]]; then
        lab_in "$role" "$LAB_UPNP_PY" "$LAB_UPNP_CLIENT_PY" --url "$LAB_UPNP_URL" "$@"
    else
        lab_in "$role" "$LAB_UPNP_PY" "$LAB_UPNP_CLIENT_PY" "$@"
    fi
}

# lab_upnp_py_discover ROLE: python3-miniupnpc's own SSDP discovery (never --url), as an
# application embedding the library does; prints labupnp.py discover's key=value lines.
lab_upnp_py_discover() {
    lab_in "$1" "$LAB_UPNP_PY" "$LAB_UPNP_CLIENT_PY" discover
}

# lab_upnp_discover ROLE: SSDP discovery with `upnpc -i -l` (retried for 5 s: the IGD may still be
# joining the multicast group); sets LAB_UPNP_URL to the root description it found, and
# LAB_UPNP_DISCOVERY to upnpc's output. -i because miniupnpc calls an IGD whose external address
# is reserved (the lab's 203.0.113.1 is TEST-NET-3) "not connected?" and stops there without it.
lab_upnp_discover() {
    local tries=5
    LAB_UPNP_URL=''
    while ((tries-- > 0)); do
        LAB_UPNP_DISCOVERY=$(lab_in "$1" upnpc -i -l 2>&1) || true
        LAB_UPNP_URL=$(awk '/^ *desc: / { print $2; exit }' <<<"$LAB_UPNP_DISCOVERY")
        [[ -z $LAB_UPNP_URL ]] || return 0
        sleep 1
    done
    return 1
}

# lab_upnp_root_desc ROLE: the root description document, fetched from ROLE.
lab_upnp_root_desc() {
    lab_in "$1" curl -sS --max-time 3 "$LAB_UPNP_URL"
}

# lab_upnp_service_url ROLE SERVICE controlURL|eventSubURL: that URL of SERVICE (e.g.
# WANIPConnection, any version) as an absolute URL, read from the root description from ROLE.
lab_upnp_service_url() {
    local path
    path=$(lab_upnp_root_desc "$1" | tr -d '\r\n' |
        grep -o "<serviceType>urn:schemas-upnp-org:service:$2:[0-9]</serviceType>.*" |
        grep -o "<$3>[^<]*</$3>" | head -n 1 | sed -e 's/<[^>]*>//g')
    [[ -n $path ]] || return 1
    if [[ $path == http* ]]; then echo "$path"; else echo "$(_lab_upnp_url_base)/${path#/}"; fi
}

_lab_upnp_url_base() {
    local rest=${LAB_UPNP_URL#*://}
    echo "${LAB_UPNP_URL%%://*}://${rest%%/*}"
}

_lab_upnp_require_tools() {
    local tool
    for tool in upnpc curl "$LAB_UPNP_PY"; do
        command -v "$tool" >/dev/null || lab_skip "missing tool: $tool (tools/install-deps.sh installs it)"
    done
    "$LAB_UPNP_PY" -c 'import miniupnpc' 2>/dev/null ||
        lab_skip "$LAB_UPNP_PY cannot import miniupnpc (package python3-miniupnpc)"
    if [[ ${LAB_NAT:-gatewayd} == kernel ]]; then
        [[ -x $LAB_MINIUPNPD ]] || lab_skip "no miniupnpd at $LAB_MINIUPNPD (package miniupnpd-iptables)"
        command -v iptables-legacy >/dev/null || lab_skip "missing tool: iptables-legacy"
    fi
}

# ---------------------------------------------------------------------------------------------
# Is a mapping open? Probes from the WAN host to the gateway's WAN address, seen by a listener on
# a LAN host.

# lab_upnp_listen ROLE PORT: a listen-log server (UDP and TCP) on ROLE's PORT, arrivals logged in
# $LAB_TMP/arrivals.ROLE.PORT.
lab_upnp_listen() {
    lab_bg "$1" "listener.$1.$2" "$LAB_PY" "$LAB_NET_PY" listen-log --port "$2" --log "$LAB_TMP/arrivals.$1.$2"
    lab_wait_listen "$1" tcp "$2"
    lab_wait_listen "$1" udp "$2"
}

LAB_UPNP_PROBES=0

# lab_upnp_probe_arrives ROLE PROTO EXT-PORT INT-PORT [SECONDS]: the WAN host sends one uniquely
# tagged probe (PROTO tcp or udp) to LAB_GW_WAN_IP:EXT-PORT; true if ROLE's listener on INT-PORT
# (lab_upnp_listen) logs it, coming from the WAN host's own address, within SECONDS (default 3).
# LAB_UPNP_PROBE_TEXT is the tag.
lab_upnp_probe_arrives() {
    local role=$1 proto=$2 port=$3 log=$LAB_TMP/arrivals.$1.$4 seconds=${5:-3}
    LAB_UPNP_PROBES=$((LAB_UPNP_PROBES + 1))
    LAB_UPNP_PROBE_TEXT=probe-$proto-$port-$LAB_UPNP_PROBES
    if [[ $proto == tcp ]]; then
        lab_py wan tcp-send --timeout "$seconds" "$LAB_GW_WAN_IP" "$port" "$LAB_UPNP_PROBE_TEXT" 2>/dev/null || return 1
    else
        lab_py wan udp-send "$LAB_GW_WAN_IP" "$port" "$LAB_UPNP_PROBE_TEXT"
    fi
    lab_poll "$seconds" grep -sqE "^$proto ${LAB_WAN_IP//./\\.}:[0-9]+ $LAB_UPNP_PROBE_TEXT\$" "$log"
}

# lab_upnp_expect_open ROLE PROTO EXT-PORT INT-PORT WHAT: a probe to EXT-PORT reaches ROLE's INT-PORT.
lab_upnp_expect_open() {
    lab_upnp_probe_arrives "$1" "$2" "$3" "$4" ||
        lab_fail "$5: $2 from the WAN host to $LAB_GW_WAN_IP:$3 did not reach $1's listener on port $4; it logged:"$'\n'"$(cat "$LAB_TMP/arrivals.$1.$4" 2>/dev/null)"
}

# lab_upnp_expect_closed ROLE PROTO EXT-PORT INT-PORT WHAT: it does not (waits 2 s for it).
lab_upnp_expect_closed() {
    if lab_upnp_probe_arrives "$1" "$2" "$3" "$4" 2; then
        lab_fail "$5: $2 from the WAN host to $LAB_GW_WAN_IP:$3 still reached $1's listener on port $4: $(grep -F "$LAB_UPNP_PROBE_TEXT" "$LAB_TMP/arrivals.$1.$4")"
    fi
}

# lab_upnp_expect_listed ROLE PROTO EXT CLIENT:PORT WHAT: GetGenericPortMappingEntry (python3-miniupnpc's
# walk from index 0) lists that mapping. lab_upnp_expect_unlisted ROLE PROTO EXT WHAT: it does not.
lab_upnp_expect_listed() {
    local listing
    listing=$(lab_upnp_py "$1" list) || lab_fail "$5: listing the mappings failed: $listing"
    grep -qE "^$2 $3 $4 " <<<"$listing" || lab_fail "$5: no $2 $3 → $4 among the mappings:"$'\n'"$listing"
}

lab_upnp_expect_unlisted() {
    local listing
    listing=$(lab_upnp_py "$1" list) || lab_fail "$4: listing the mappings failed: $listing"
    ! grep -qE "^$2 $3 " <<<"$listing" || lab_fail "$4: $2 $3 is still among the mappings:"$'\n'"$listing"
}

# lab_upnp_map ROLE PROTO EXT INT DESC [LEASE]: AddPortMapping (python3-miniupnpc) from ROLE to
# itself, lease 3600 s unless given; fails the test if the IGD refuses.
lab_upnp_map() {
    local out
    out=$(lab_upnp_py "$1" add "$3" "$2" "$4" --desc "$5" --lease "${6:-3600}") ||
        lab_fail "AddPortMapping $2 $3 → $1:$4 ('$5') was refused: $out"
}

# lab_upnp_unmap ROLE PROTO EXT: DeletePortMapping; fails the test if the IGD refuses.
lab_upnp_unmap() {
    local out
    out=$(lab_upnp_py "$1" delete "$3" "$2") || lab_fail "DeletePortMapping $2 $3 from $1 failed: $out"
}

# lab_upnp_messenger_desc PROTO PORT: the description Windows Messenger gave its mappings.
lab_upnp_messenger_desc() { echo "msmsgs ($LAB_LAN_IP:$2) $2 $1"; }

# ---------------------------------------------------------------------------------------------
# Refusal counters (gatewayctl status: upnp_refusals)

# lab_upnp_refusals KEY: gatewayd's count of UPnP refusals of KEY (e.g. soap_728_no_port_maps_available,
# http_foreign_host, from_wan); 0 when none was counted.
lab_upnp_refusals() {
    lab_ctl --json status | "$LAB_UPNP_PY" -c 'import json, sys
print(json.load(sys.stdin).get("upnp_refusals", {}).get(sys.argv[1], 0))' "$1"
}

# lab_upnp_expect_counted KEY BEFORE WHAT [AT-LEAST]: the count of KEY grew by at least AT-LEAST
# (default 1) since BEFORE. miniupnpd has no such counters: there it says so and checks nothing.
lab_upnp_expect_counted() {
    local key=$1 before=$2 what=$3 least=${4:-1} now
    if [[ $LAB_UPNP_IGD != gatewayd ]]; then
        lab_ok "$what: (the reference $LAB_UPNP_IGD has no refusal counters)"
        return 0
    fi
    now=$(lab_upnp_refusals "$key")
    ((now - before >= least)) ||
        lab_fail "$what: upnp_refusals.$key went from $before to $now, expected at least +$least; status:"$'\n'"$(lab_ctl --json status)"
    lab_ok "$what: counted in upnp_refusals.$key ($before -> $now)"
}

# lab_upnp_count KEY: lab_upnp_refusals for gatewayd, 0 for the reference (to pass as BEFORE).
lab_upnp_count() {
    if [[ $LAB_UPNP_IGD == gatewayd ]]; then lab_upnp_refusals "$1"; else echo 0; fi
}

#!/usr/bin/env bash
# ctest: sanitize
# The port-control clients gatewayd speaks toward the NAT upstream of its WAN (issue 19), each
# against a real server across a veth, driven by `gatewayd --upstream-probe` (discovery as the
# daemon does it, then a mapping made, renewed and deleted, printed as JSON). The lab's LAN host
# plays the cascaded gateway: its eth0 is the WAN side, its default gateway the upstream NAT.
#   1. A gatewayd upstream with UPnP, NAT-PMP and PCP on: each protocol alone finds it (the address
#      it reports is its public 203.0.113.1), maps a port on the prober's address, renews it and
#      deletes it, and the upstream lists nothing afterwards; auto takes PCP first, in one try.
#      A port another LAN host holds (by NAT-PMP): UPnP's AddPortMapping says port_taken (718), PCP grants
#      another external port.
#   2. Debian's miniupnpd upstream (no NAT-PMP, no PCP: enable_natpmp=no): auto finds nothing on
#      PCP and NAT-PMP at once (ICMP port unreachable, not a 3 s wait each) and then the IGD by
#      SSDP; it reports its public address and maps, renews and deletes through it.
#   3. The probe on a gateway that runs gatewayd, a second gatewayd upstream across its WAN: UPnP
#      and PCP work through the running daemon's own rules (the M-SEARCH leaves the WAN, the
#      IGD's unicast answer comes in, issue 19), and nothing else of SSDP leaves (the WAN watcher).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "runs its own upstreams (gatewayd, then miniupnpd); LAB_NAT=${LAB_NAT:-}"
[[ -x $LAB_MINIUPNPD ]] || lab_fail "no miniupnpd at $LAB_MINIUPNPD (apt-get install miniupnpd-iptables)"

probe_json=''
declare -A probe_field=()
# probe ROLE ARGS...: gatewayd --upstream-probe on ROLE's WAN side (eth0, the gateway's wan0); its JSON in probe_json, flattened
# into probe_field (one python run a probe: a python start costs a good part of a second on a
# loaded CI machine), its exit status returned.
probe() {
    local role=$1 rc=0 key value wan=$LAB_HOST_IF
    shift
    [[ $role != gw ]] || wan=$LAB_GW_WAN_IF
    probe_json=$(lab_in "$role" "$GATEWAYD" --upstream-probe "$wan" "$@") || rc=$?
    probe_field=()
    while IFS=$'\t' read -r key value; do probe_field[$key]=$value; done < <("$LAB_PY" -c 'import json, sys
def walk(prefix, v):
    if isinstance(v, dict): items = v.items()
    elif isinstance(v, list): items = enumerate(v)
    else:
        print(prefix, "null" if v is None else v, sep="\t")
        return
    for k, w in items: walk(f"{prefix}.{k}" if prefix else str(k), w)
walk("", json.loads(sys.argv[1]) if sys.argv[1] else {})' "$probe_json")
    return "$rc"
}
# field KEY.KEY...: one value of the last probe's JSON ("null" for null, "none" when absent; a
# number indexes a list).
field() { echo "${probe_field[$1]:-none}"; }
expect() {
    local got
    got=$(field "$1")
    [[ $got == "$2" ]] || lab_fail "$1 is '$got', expected '$2' in: $probe_json"
}

lab_heading "gatewayd upstream (UPnP, NAT-PMP, PCP), the LAN hosts as cascaded gateways"
lab_up --lan-hosts 2 --config <(lab_port_control_config)
for protocol in pcp natpmp upnp; do
    port=$((40000 + ${#protocol}))
    probe lan --protocol "$protocol" --map tcp "$port" || lab_fail "$protocol: the probe failed: $probe_json"
    expect found "$protocol"
    expect external_address "$LAB_GW_WAN_IP"
    expect map.external_address "$LAB_GW_WAN_IP"
    expect map.external_port "$port"
    expect renew.external_port "$port"
    [[ $(field unmap.failure.kind) == none ]] || lab_fail "$protocol: unmap failed: $probe_json"
    lab_ok "$protocol: found at $(field where), public $LAB_GW_WAN_IP, tcp $port mapped for $(field map.lifetime) s," \
        "renewed and deleted ($(field attempts.0.ms)+$(field map.ms)+$(field renew.ms)+$(field unmap.ms) ms)"
done
mappings=$(lab_ctl mappings)
grep -q "$LAB_LAN_IP" <<<"$mappings" && lab_fail "the upstream still lists a mapping of $LAB_LAN_IP:"$'\n'"$mappings"
lab_ok "the upstream lists no mapping of the prober's address afterwards"

probe lan || lab_fail "auto: the probe failed: $probe_json"
expect found pcp
expect attempts.0.protocol pcp
[[ $(field attempts.1.protocol) == none ]] || lab_fail "auto tried more than PCP: $probe_json"
lab_ok "auto: PCP answered first ($(field attempts.0.ms) ms), nothing else tried"

held=40100
# lan2 holds tcp $held by a NAT-PMP request of its own (RFC 6886 §3.3: 12 bytes).
answer=$(lab_in lan2 "$LAB_PY" -c 'import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
port = int(sys.argv[2])
s.sendto(struct.pack("!BBHHHI", 0, 2, 0, port, port, 600), (sys.argv[1], 5351))
print(s.recv(16).hex())' "$LAB_GW_LAN_IP" "$held")
[[ $answer == 00820000* ]] || lab_fail "lan2's NAT-PMP mapping of tcp $held failed: $answer"
probe lan --protocol upnp --map tcp "$held" && lab_fail "UPnP mapped tcp $held that lan2 holds: $probe_json"
expect map.failure.kind port_taken
lab_ok "UPnP: a port lan2 holds is port_taken ($(field map.failure.reason))"
probe lan --protocol pcp --map tcp "$held" || lab_fail "PCP: no mapping beside lan2's tcp $held: $probe_json"
[[ $(field map.external_port) != "$held" ]] || lab_fail "PCP was given tcp $held that lan2 holds: $probe_json"
lab_ok "PCP: the upstream picked another external port, $(field map.external_port), for the one lan2 holds"
lab_down

lab_heading "Debian's miniupnpd upstream (UPnP only)"
LAB_NAT=kernel lab_upnp_up
probe lan --map udp 40200 || lab_fail "auto against miniupnpd failed: $probe_json"
expect attempts.0.protocol pcp
expect attempts.0.failure.kind no_answer
expect attempts.1.protocol natpmp
expect found upnp
expect external_address "$LAB_UPNP_EXTERNAL_IP"
expect map.external_port 40200
for k in 0 1; do
    ms=$(field "attempts.$k.ms")
    ((ms < 1000)) || lab_fail "attempt $k took $ms ms: ICMP port unreachable should end it at once"
done
[[ $(field unmap.failure.kind) == none ]] || lab_fail "miniupnpd: unmap failed: $probe_json"
lab_ok "auto: PCP and NAT-PMP refused at once ($(field attempts.0.ms) and $(field attempts.1.ms) ms), UPnP found" \
    "$(field where) ($(field attempts.2.ms) ms), public $LAB_UPNP_EXTERNAL_IP; udp 40200 mapped, renewed, deleted"
rules=$(lab_gw iptables-legacy -t nat -S MINIUPNPD)
grep -q 40200 <<<"$rules" && lab_fail "miniupnpd still redirects 40200:"$'\n'"$rules"
lab_ok "miniupnpd's redirect of 40200 is gone"
lab_down

lab_heading "through a running gatewayd: the cascaded gateway's own firewall, a gatewayd upstream across its WAN"
# --wan2: the WAN host routes to a second subnet, so it can be a NAT itself: a second gatewayd
# there, LAN eth0 (the gateway's WAN side), WAN eth1. The probe runs on the gateway, its packets
# crossing the running gatewayd's rules: the M-SEARCH must leave wan0 (the WAN watcher lets only
# that SSDP out), the IGD's unicast answer and every reply must come back in.
lab_up --wan2
# Not the lab's IGD port: the WAN watcher reads UPnP HTTP on that port as the gateway's own IGD
# talking to the WAN, and here the gateway is the control point.
readonly UPSTREAM_HTTP_PORT=49160
cat >"$LAB_TMP/upstream.yaml" <<EOC
lan: {interface: $LAB_HOST_IF, networks: [203.0.113.0/24]}
wan: {interface: $LAB_WAN_ROUTER_IF, address: auto}
upnp:
  enabled: true
  http_port: $UPSTREAM_HTTP_PORT
  lease_file: $LAB_TMP/upstream.leases
  permissions: ["allow 1024-65535 203.0.113.0/24 1024-65535"]
natpmp: {enabled: true}
pcp: {enabled: true}
EOC
# Named gatewayd.*.log: lab_down reads sanitizer reports from those.
lab_bg wan gatewayd.upstream "$GATEWAYD" --config "$LAB_TMP/upstream.yaml" --control-socket "$LAB_TMP/upstream.sock"
lab_poll 10 grep -q "gatewayd: ready" "$LAB_TMP/gatewayd.upstream.log" ||
    lab_fail "the upstream gatewayd did not start: $(cat "$LAB_TMP/gatewayd.upstream.log")"
for protocol in upnp pcp; do
    probe gw --protocol "$protocol" --map udp 40300 || lab_fail "$protocol through the running gatewayd failed: $probe_json"
    expect found "$protocol"
    expect external_address "$LAB_WAN_ROUTER_IP"
    expect map.external_port 40300
    lab_ok "$protocol from the gateway itself: found at $(field where) ($(field attempts.0.ms) ms), public" \
        "$LAB_WAN_ROUTER_IP, udp 40300 mapped, renewed and deleted"
done

#!/usr/bin/env bash
# ctest: sanitize
# PCP MAP for an IPv6 host (RFC 6887 §11 on the gateway's IPv6 firewall): a LAN host asks over IPv4,
# THIRD_PARTY naming its own IPv6 address, for a TCP port. The answer assigns that address and port
# themselves (IPv6 is not translated), the WAN host then connects over IPv6 through the pinhole the
# pinhole service opened, and gatewayctl lists it among the service's pinholes.
# gatewayd only (LAB_NAT=gatewayd): the reference miniupnpd in lab_upnp.sh runs without PCP.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PORT=7300 LIFETIME=600
LAB_PCP_PY=$LAB_DIR/labpcp.py

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "PCP is tested against gatewayd only"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || lab_skip "scapy (python3-scapy) is not installed for /usr/bin/python3"

wan_reaches() { lab_in wan /usr/bin/python3 "$LAB_DIR/labnet6.py" tcp-ask "$HOST_IP6" "$PORT" --timeout 1 >/dev/null 2>&1; }

lab_upnp_up --igd-version 2 --insecure --ipv6-lan
HOST_IP6=$(lab_upnp_lan_ip6 1)
readonly HOST_IP6
# THIRD_PARTY is off by default; the IPv4 client cannot prove it is the IPv6 host in secure mode.
_lab_upnp_gatewayd_config 2 604800 false >"$LAB_TMP/pcp6-gatewayd.yaml"
echo "pcp: {enabled: true, allow_third_party: true}" >>"$LAB_TMP/pcp6-gatewayd.yaml"
lab_upnp_stop
lab_daemon_start --config "$LAB_TMP/pcp6-gatewayd.yaml"

lab_heading "PCP MAP for an IPv6 host opens a pinhole"
lab_bg lan "echo6.$PORT" /usr/bin/python3 "$LAB_DIR/labnet6.py" tcp-echo --port "$PORT"
lab_wait_listen lan tcp "$PORT"
! wan_reaches || lab_fail "the WAN host reached [$HOST_IP6]:$PORT before any pinhole"
lab_ok "before the MAP the WAN host cannot connect to [$HOST_IP6]:$PORT"

fields=$(lab_in lan /usr/bin/python3 "$LAB_PCP_PY" map --server "$LAB_GW_LAN_IP" --protocol tcp --internal "$PORT" \
    --lifetime "$LIFETIME" --third-party "$HOST_IP6" 2>&1) ||
    lab_fail "PCP MAP for $HOST_IP6 got no valid answer:"$'\n'"$fields"$'\n'"$(tail -20 "$LAB_DAEMON_LOG")"
for expected in result_name=SUCCESS "lifetime=$LIFETIME" "external_address=$HOST_IP6" "external_port=$PORT"; do
    grep -qx "$expected" <<<"$fields" || lab_fail "the MAP response lacks $expected:"$'\n'"$fields"
done
lab_ok "the MAP response assigns [$HOST_IP6]:$PORT for $LIFETIME s"

lab_poll 3 wan_reaches || lab_fail "the WAN host cannot connect to [$HOST_IP6]:$PORT through the PCP pinhole"
lab_ok "the WAN host connects to [$HOST_IP6]:$PORT over IPv6"
lab_ctl --json status | /usr/bin/python3 -c 'import json, sys
pinholes = json.load(sys.stdin)["upnp_pinholes"]
sys.exit(0 if any(p["internal_client"] == sys.argv[1] and p["internal_port"] == int(sys.argv[2]) for p in pinholes) else 1)' \
    "$HOST_IP6" "$PORT" || lab_fail "gatewayctl status does not list the pinhole: $(lab_ctl --json status)"
lab_ok "gatewayctl status lists it among the pinhole service's pinholes"
echo "PASS  a PCP MAP for an IPv6 host opens a pinhole the WAN host connects through"

#!/usr/bin/env bash
# Secure mode: a LAN client may only map ports to its own address. LAN host 1 asking for a mapping
# to LAN host 2 is refused (upnpc: error 718 ConflictInMappingEntry or 606 Action not authorized;
# python3-miniupnpc likewise), nothing is listed, and the WAN host's packets to that port never
# reach LAN host 2. LAN host 2 asking for the same mapping to itself is granted (the control).
# gatewayd counts each refusal (gatewayctl status: upnp_refusals.soap_606_action_not_authorized)
# and logs it with the client, the ports, the code and the reason, the line docs/troubleshooting.md shows.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PORT=44000 PY_PORT=44001
VICTIM_IP=$(lab_lan_ip 2)
readonly VICTIM_IP

check_upnpc_refused() {
    local out rc=0 before
    before=$(lab_upnp_count soap_606_action_not_authorized)
    out=$(lab_upnpc lan -e hijack -a "$VICTIM_IP" "$PORT" "$PORT" TCP 3600 2>&1) || rc=$?
    grep -qE "failed with code (606|718) " <<<"$out" ||
        lab_fail "LAN host 1 mapping TCP $PORT to LAN host 2 ($VICTIM_IP): expected error 606 or 718, upnpc said (exit $rc):"$'\n'"$out"
    lab_ok "upnpc on LAN host 1: $(grep -oE 'AddPortMapping\(.*' <<<"$out")"
    lab_upnp_expect_counted soap_606_action_not_authorized "$before" "upnpc's refused mapping"
    [[ $LAB_UPNP_IGD == gatewayd ]] || return 0
    local line="gatewayd: UPnP: AddPortMapping from $LAB_LAN_IP refused: TCP $PORT -> $VICTIM_IP:$PORT: 606 Action not authorized (secure mode: a client may map only to its own address)"
    lab_wait_log "$LAB_DAEMON_LOG" "$line" 2 ||
        lab_fail "the log does not have the refusal line '$line'; it has:"$'\n'"$(grep 'refused' "$LAB_DAEMON_LOG" || true)"
    lab_ok "logged: ${line#gatewayd: }"
}

check_python_refused() {
    local out before
    before=$(lab_upnp_count soap_606_action_not_authorized)
    if out=$(lab_upnp_py lan add "$PY_PORT" UDP "$PY_PORT" --client "$VICTIM_IP" --lease 3600); then
        lab_fail "python3-miniupnpc on LAN host 1 mapped UDP $PY_PORT to LAN host 2 ($VICTIM_IP)"
    fi
    lab_ok "python3-miniupnpc on LAN host 1, UDP $PY_PORT to $VICTIM_IP: $out"
    lab_upnp_expect_counted soap_606_action_not_authorized "$before" "python3-miniupnpc's refused mapping"
}

check_nothing_mapped() {
    lab_upnp_expect_unlisted lan TCP "$PORT" "after the refused AddPortMapping"
    lab_upnp_expect_unlisted lan UDP "$PY_PORT" "after the refused AddPortMapping"
    lab_upnp_expect_closed lan2 tcp "$PORT" "$PORT" "after the refused AddPortMapping"
    lab_upnp_expect_closed lan2 udp "$PY_PORT" "$PY_PORT" "after the refused AddPortMapping"
    lab_ok "nothing listed; the WAN host's TCP $PORT and UDP $PY_PORT never reach LAN host 2"
}

check_own_mapping_granted() {
    local out
    out=$(lab_upnpc lan2 -e own -a "$VICTIM_IP" "$PORT" "$PORT" TCP 3600 2>&1) ||
        lab_fail "control: LAN host 2 mapping TCP $PORT to itself failed:"$'\n'"$out"
    lab_upnp_expect_open lan2 tcp "$PORT" "$PORT" "control: LAN host 2's own mapping"
    lab_ok "control: LAN host 2 maps TCP $PORT to itself, and the WAN host reaches it"
}

lab_upnp_up --lan-hosts 2
lab_heading "UPnP secure mode: no mapping to another LAN host ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_listen lan2 "$PORT"
lab_upnp_listen lan2 "$PY_PORT"
check_upnpc_refused
check_python_refused
check_nothing_mapped
check_own_mapping_granted
echo "PASS  secure mode refuses mappings to another LAN host ($LAB_UPNP_IGD)"

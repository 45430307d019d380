#!/usr/bin/env bash
# A file that loads but likely says what was not meant (issue 16 item 6) is used, and its
# warnings are logged, as --check-config prints them: at start, and at a reload that
# brings a new one. Here (disabled) forwards to the gateway's own WAN address, and a forward
# to its LAN address, which only the daemon can see (it reads the interface).
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the config warnings are gatewayd's; LAB_NAT=${LAB_NAT:-}"

# No lan.networks (the interface's subnet): with them, a forward to the WAN address would be
# outside them, an error rather than a warning. PORTS: a disabled forward to the WAN address each.
config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF}
wan: {interface: $LAB_GW_WAN_IF, address: $LAB_GW_WAN_IP}
${LAB_TMP:+upnp: {lease_file: $LAB_TMP/gatewayd.leases\}}
firewall:
  forwards:
    - {name: to-lan, protocol: tcp, external_port: 3389, internal: "$LAB_LAN_IP:3389"}
EOF
    for port in "$@"; do
        echo "    - {name: self-$port, protocol: tcp, external_port: $port, internal: \"$LAB_GW_WAN_IP:$port\", enabled: false}"
    done
    echo "    - {name: gw-lan, protocol: tcp, external_port: 8443, internal: \"$LAB_GW_LAN_IP:443\"}"
}

# A warning about forward N, as the log and --check-config give it.
warning_about() {
    echo "$LAB_TMP/gatewayd.yaml:[0-9]*:[0-9]*: warning: firewall.forwards\[$1\].internal: $LAB_GW_WAN_IP is the gateway's own WAN address"
}

lab_up --nat gatewayd --config <(config 8080)
lab_heading "warnings of a file that loads are logged at start and at a reload"
grep -q "$(warning_about 1)" "$LAB_DAEMON_LOG" || lab_fail "no warning at start:"$'\n'"$(head -20 "$LAB_DAEMON_LOG")"
lab_ok "at start, and the daemon runs: $(grep -o "warning: firewall.forwards\[1\].*" "$LAB_DAEMON_LOG" | head -1)"
lan_warning="firewall.forwards\[2\].internal (gw-lan): $LAB_GW_LAN_IP is the gateway's own address on $LAB_GW_LAN_IF"
grep -q "$lan_warning" "$LAB_DAEMON_LOG" || lab_fail "no warning about the forward to the LAN address:"$'\n'"$(head -20 "$LAB_DAEMON_LOG")"
lab_ok "at start, the forward to the gateway's LAN address: $(grep -o "firewall.forwards\[2\].*" "$LAB_DAEMON_LOG" | head -1)"

config 8080 8081 >"$LAB_TMP/gatewayd.yaml"
lab_ctl reload >/dev/null || lab_fail "a reload of a file with only warnings was refused"
grep -q "$(warning_about 2)" "$LAB_DAEMON_LOG" || lab_fail "no warning at the reload:"$'\n'"$(tail -20 "$LAB_DAEMON_LOG")"
grep -q "firewall.forwards\[3\].internal (gw-lan): $LAB_GW_LAN_IP" "$LAB_DAEMON_LOG" ||
    lab_fail "no warning about the forward to the LAN address at the reload"
lab_ok "at the reload: the new forward's warning, and the LAN address's again"

rc=0
check=$("$GATEWAYD" --check-config "$LAB_TMP/gatewayd.yaml" 2>&1) || rc=$?
((rc == 0)) || lab_fail "--check-config exited $rc: $check"
[[ $(grep -c "$(warning_about '[12]')" <<<"$check") == 2 ]] || lab_fail "--check-config does not print the two warnings: $check"
lab_ok "--check-config prints the same two warnings and exits 0"
echo "PASS  config warnings are logged at start and at a reload"

#!/usr/bin/env bash
# ctest: sanitize
# Every gatewayctl command with its options on either side of the command words (issue 16:
# "options anywhere on the line"): `--socket PATH` and `--json` first and last, and a command's
# own options (--all, --proto, --for...) before the command as well as after it. Each command must
# exit as documented (0 done, 1 refused, 2 usage, 3 unreachable) and answer the same whichever way
# it was written (numbers that tick, such as uptime and counters, aside). Also: a WAN packet to an
# unmapped port of the gateway is logged dir=input (docs/firewall.md), and `forwards list` has the
# columns gatewayctl(8) describes.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayctl talks to gatewayd; LAB_NAT=${LAB_NAT:-}"

sweep_config() {
    cat <<EOF
lan:
  interface: $LAB_GW_LAN_IF
  ipv6_networks: [$LAB_LAN6_NET]
wan:
  interface: $LAB_GW_WAN_IF
firewall:
  rules:
    - name: no-telnet-out
      direction: outbound
      protocol: tcp
      destination_ports: [23]
      action: drop
  forwards:
    - name: web
      protocol: tcp
      external_port: 8080
      internal: $LAB_LAN_IP:80
upnp:
  enabled: false
EOF
}

SOCKET=
ctl() { "$GATEWAYCTL" "$@"; }

# answer_of ARGS...: "rc=N" and the output (stdout, then stderr), numbers replaced by '#' (they tick:
# uptime, idle seconds, packet counters, timestamps). For a command that changes something, UNDO
# (a gatewayctl command line in one string) is run after it, so that each run finds the same state.
UNDO=
answer_of() {
    local out rc=0
    out=$(ctl "$@" 2>&1) || rc=$?
    # shellcheck disable=SC2086 # UNDO is words
    [[ -z $UNDO ]] || ctl --socket "$SOCKET" $UNDO >/dev/null 2>&1 || true
    printf 'rc=%s\n%s\n' "$rc" "$(sed -E 's/[0-9]+/#/g' <<<"$out")"
}

# same_both_ways RC COMMAND-WORDS... [-- COMMAND-OPTIONS...]: the command exits RC and answers the
# same written
#   --socket S --json WORDS OPTIONS     and  WORDS OPTIONS --json --socket S
#   --socket S OPTIONS WORDS            and  WORDS --socket S OPTIONS        (text)
CHECKED=0
same_both_ways() {
    local rc=$1 words=() options=() a b c d
    shift
    while (($#)) && [[ $1 != -- ]]; do words+=("$1"); shift; done
    (($#)) && shift
    options=("$@")
    a=$(answer_of --socket "$SOCKET" --json "${words[@]}" "${options[@]}")
    b=$(answer_of "${words[@]}" "${options[@]}" --json --socket "$SOCKET")
    [[ $a == "$b" ]] || lab_fail "'${words[*]} ${options[*]}' with --json first and last answer differently:"$'\n'"$a"$'\n'"---"$'\n'"$b"
    c=$(answer_of --socket "$SOCKET" "${options[@]}" "${words[@]}")
    d=$(answer_of "${words[@]}" --socket "$SOCKET" "${options[@]}")
    [[ $c == "$d" ]] || lab_fail "'${options[*]} ${words[*]}' and '${words[*]} ${options[*]}' answer differently:"$'\n'"$c"$'\n'"---"$'\n'"$d"
    [[ $(head -1 <<<"$a") == "rc=$rc" && $(head -1 <<<"$c") == "rc=$rc" ]] ||
        lab_fail "'${words[*]} ${options[*]}': expected exit $rc:"$'\n'"$a"$'\n'"---"$'\n'"$c"
    CHECKED=$((CHECKED + 1))
}

lab_up --nat gatewayd --ipv6 --config <(sweep_config)
SOCKET=$LAB_TMP/control.sock
lab_heading "every gatewayctl command with its options on either side"

# Read-only commands.
same_both_ways 0 status
same_both_ways 0 status -- --all
same_both_ways 0 rules
same_both_ways 0 flows
same_both_ways 0 flows -- --proto tcp --port 80
same_both_ways 0 flows -- --host "$LAB_LAN_IP"
same_both_ways 0 flows6
same_both_ways 0 mappings
same_both_ways 0 forwards
same_both_ways 0 forwards list
same_both_ways 0 pinholes
same_both_ways 0 metrics
same_both_ways 0 capture status
same_both_ways 0 reload
# Options that answer at once, wherever they stand.
same_both_ways 0 -- --version
same_both_ways 0 -- --help
same_both_ways 0 status -- --help
lab_ok "read-only commands: $CHECKED checked, the same answer whichever side the options stand"

# Changes, each undone after each run (UNDO), so that every run finds the same state.
UNDO="forwards delete helpdesk" same_both_ways 0 forwards add helpdesk tcp 3389 "$LAB_LAN_IP:3389" -- --for 1h
ctl --socket "$SOCKET" forwards add helpdesk tcp 3389 "$LAB_LAN_IP:3389" --for 1h >/dev/null || lab_fail "forwards add helpdesk"
# gatewayctl(8): the forwards, whether each is enabled, the timed ones with the seconds left.
listing=$(ctl --socket "$SOCKET" forwards list)
grep -qE "^web +tcp +8080 +$LAB_LAN_IP:80 +true( |\$)" <<<"$listing" || lab_fail "forwards list lacks the static forward:"$'\n'"$listing"
grep -qE "^helpdesk +tcp +3389 +$LAB_LAN_IP:3389 +true +3[0-9]{3}( |\$)" <<<"$listing" ||
    lab_fail "forwards list lacks the timed forward with its seconds left:"$'\n'"$listing"
same_both_ways 1 forwards add helpdesk tcp 3389 "$LAB_LAN_IP:3389" -- --for 1h
UNDO="forwards add helpdesk tcp 3389 $LAB_LAN_IP:3389 --for 1h" same_both_ways 0 forwards delete helpdesk
ctl --socket "$SOCKET" forwards delete helpdesk >/dev/null || lab_fail "forwards delete helpdesk"
same_both_ways 1 forwards delete helpdesk
UNDO="forwards enable web" same_both_ways 0 forwards disable web
ctl --socket "$SOCKET" forwards disable web >/dev/null || lab_fail "forwards disable web"
UNDO="forwards disable web" same_both_ways 0 forwards enable web
ctl --socket "$SOCKET" forwards enable web >/dev/null || lab_fail "forwards enable web"
# Asking again for the same pinhole renews it (the same id): no undo needed.
same_both_ways 0 pinhole add tcp "$LAB_LAN6_IP" 5000 -- --for 1m
id=$(ctl --socket "$SOCKET" --json pinholes | python3 -c 'import json, sys; print(json.load(sys.stdin)["pinholes"][0]["id"])') ||
    lab_fail "pinholes does not list the pinhole: $(ctl --socket "$SOCKET" --json pinholes)"
ctl pinhole delete "$id" --socket "$SOCKET" >/dev/null || lab_fail "pinhole delete $id"
same_both_ways 1 pinhole delete "$id"
same_both_ways 2 pinhole delete 40000
same_both_ways 0 capture -- --seconds 1 --force -w "$LAB_TMP/sweep.pcap"
same_both_ways 1 capture -- --rule nosuch -w "$LAB_TMP/nosuch.pcap"
lab_ok "forwards add/delete/enable/disable, pinhole add/delete, capture: the same both ways ($CHECKED lines so far); forwards list shows the static and the timed forward"

# Exit codes: usage 2 (gatewayctl's own, and the daemon's), refused 1, unreachable 3.
same_both_ways 2 frobnicate
same_both_ways 2 status -- --bogus
same_both_ways 2 flows -- --proto sctp
same_both_ways 1 forwards enable nosuch
same_both_ways 1 mappings delete udp 5004
rc=0
ctl --bogus status >/dev/null 2>&1 || rc=$?
((rc == 2)) || lab_fail "an unknown option before the command: exit $rc, not 2"
rc=0
ctl status --socket >/dev/null 2>&1 || rc=$?
((rc == 2)) || lab_fail "--socket without a path: exit $rc, not 2"
SOCKET=$LAB_TMP/nobody.sock
same_both_ways 3 status
same_both_ways 3 forwards list
lab_ok "exit codes: 2 usage, 1 refused, 3 unreachable, whichever side the options stand"

# A WAN packet to an unmapped port of the gateway is input, and the log says so.
lab_py wan udp-send "$LAB_GW_WAN_IP" 9 sweep-input
lab_expect_decision drop policy udp "$LAB_WAN_IP:[0-9]+" "$LAB_GW_WAN_IP:9" "a WAN datagram to the gateway's port 9"
[[ $LAB_DECISION == *" reason=denied_by_policy dir=input "* ]] || lab_fail "expected dir=input: $LAB_DECISION"
lab_ok "a WAN datagram to the gateway: $LAB_DECISION"
echo "PASS  gatewayctl: $CHECKED command lines, options on either side"

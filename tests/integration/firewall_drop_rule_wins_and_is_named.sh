#!/usr/bin/env bash
# An explicit drop rule decides before anything that would admit the packet, and gatewayd's log
# names the rule:
#   over the DMZ host    dmz-no-udp-9999 names the DMZ host's LAN address, so it matches only
#                        because inbound rules see the destination after translation;
#   over a mapping       no-udp-from-wan2 drops WAN host 2 at a mapping that endpoint-independent
#                        filtering would admit;
#   over the policy      no-smtp-out drops a LAN host's TCP to port 25 (outbound policy: accept).
# Each has a control beside it that the same path admits when the rule does not match.
# `gatewayctl rules` counts each rule's packets and bytes; a reload that adds a rule above and
# changes another keeps the unchanged rule's counts and zeroes the changed one's, and
# `gatewayctl metrics` shows the same counts, as does the scrape endpoint (metrics.listen) on the
# gateway's loopback address, which promtool accepts and a LAN host cannot reach.
# Daemon-only (the config is gatewayd's): skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly METRICS_PORT=9477 DMZ_BLOCKED_PORT=9999 DMZ_OPEN_PORT=9998 ECHO_PORT=7001 LAN_PORT=41000 SMTP_PORT=25 OTHER_TCP_PORT=2525
DMZ_IP=$(lab_lan_ip 3)
readonly DMZ_IP

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the firewall is gatewayd's; LAB_NAT=${LAB_NAT:-}"

firewall_config() {
    cat <<EOF
lan: {interface: $LAB_GW_LAN_IF, networks: [$LAB_LAN_NET]}
wan: {interface: $LAB_GW_WAN_IF, address: auto}
firewall:
  filtering: endpoint-independent
  policy: {inbound: drop, outbound: accept, input: drop}
  log_lines_per_second: 50
  dmz: $DMZ_IP
  rules:
    - {name: dmz-no-udp-9999, direction: inbound, protocol: udp, destinations: [$DMZ_IP], destination_ports: [$DMZ_BLOCKED_PORT], action: drop}
    - {name: no-udp-from-wan2, direction: inbound, protocol: udp, sources: [$LAB_WAN2_NET], action: drop}
    - {name: no-smtp-out, direction: outbound, protocol: tcp, destination_ports: [$SMTP_PORT], action: drop}
metrics: {listen: 127.0.0.1:$METRICS_PORT}
EOF
}

# expect_arrival FILE FROM TEXT WHY
expect_arrival() {
    lab_wait_log "$1" "udp $2 $3" || lab_fail "$4: '$3' from $2 did not arrive; arrivals: $(cat "$1" 2>/dev/null)"
}

# expect_no_arrival FILE TEXT WHY: called once the drop is logged, when nothing more can arrive.
expect_no_arrival() {
    if grep -qs -- "$2" "$1"; then lab_fail "$3: it arrived anyway: $(grep -- "$2" "$1")"; fi
}

check_rule_beats_dmz() {
    local arrivals=$LAB_TMP/dmz-arrivals
    lab_py wan udp-send --source-port 47001 "$LAB_GW_WAN_IP" "$DMZ_BLOCKED_PORT" to-blocked
    lab_py wan udp-send --source-port 47002 "$LAB_GW_WAN_IP" "$DMZ_OPEN_PORT" to-open
    expect_arrival "$arrivals" "$LAB_WAN_IP:47002" to-open "control: UDP to $LAB_GW_WAN_IP:$DMZ_OPEN_PORT goes to the DMZ host"
    lab_expect_decision drop dmz-no-udp-9999 udp "$LAB_WAN_IP:47001" "$LAB_GW_WAN_IP:$DMZ_BLOCKED_PORT" \
        "UDP to the DMZ host's port $DMZ_BLOCKED_PORT"
    expect_no_arrival "$arrivals" to-blocked "UDP to the DMZ host's port $DMZ_BLOCKED_PORT was dropped by rule"
    lab_ok "DMZ: port $DMZ_OPEN_PORT reaches $DMZ_IP, port $DMZ_BLOCKED_PORT does not: $LAB_DECISION"
}

check_rule_beats_mapping() {
    local arrivals=$LAB_TMP/lan-arrivals answer mapped
    lab_bg lan listener "$LAB_PY" "$LAB_NET_PY" listen-log --port "$LAN_PORT" --log "$arrivals" --hello "$LAB_WAN_IP:$ECHO_PORT"
    lab_wait_log "$arrivals" "udp $LAB_WAN_IP:$ECHO_PORT " || lab_fail "the LAN socket's mapping got no answer from WAN host 1"
    answer=$(awk -v from="$LAB_WAN_IP:$ECHO_PORT" '$1 == "udp" && $2 == from { print $3; exit }' "$arrivals")
    mapped=${answer#*:}
    lab_py wan2 udp-send --source-port 47003 "$LAB_GW_WAN_IP" "$mapped" from-wan2
    lab_py wan udp-send --source-port 47004 "$LAB_GW_WAN_IP" "$mapped" from-wan
    expect_arrival "$arrivals" "$LAB_WAN_IP:47004" from-wan "control: endpoint-independent filtering admits WAN host 1 from a new port"
    lab_expect_decision drop no-udp-from-wan2 udp "$LAB_WAN2_IP:47003" "$LAB_GW_WAN_IP:$mapped" "UDP from WAN host 2 to the mapping"
    expect_no_arrival "$arrivals" from-wan2 "UDP from WAN host 2 to the mapping was dropped by rule"
    lab_ok "mapping $LAB_GW_WAN_IP:$mapped: WAN host 1 gets in, WAN host 2 does not: $LAB_DECISION"
}

check_rule_beats_outbound_policy() {
    local seen
    lab_py lan tcp-send --timeout 2 --source-port 47006 "$LAB_WAN_IP" "$OTHER_TCP_PORT" control ||
        lab_fail "control: TCP from the LAN host to $LAB_WAN_IP:$OTHER_TCP_PORT failed"
    lab_wait_log "$LAB_TMP/sniff-wan.sniff" "> $LAB_WAN_IP:$OTHER_TCP_PORT S" ||
        lab_fail "control: the sniffer on WAN host 1 did not see the SYN to port $OTHER_TCP_PORT"
    if lab_py lan tcp-send --timeout 1 --source-port 47005 "$LAB_WAN_IP" "$SMTP_PORT" smtp 2>/dev/null; then
        lab_fail "TCP from the LAN host to $LAB_WAN_IP:$SMTP_PORT connected despite rule no-smtp-out"
    fi
    lab_expect_decision drop no-smtp-out tcp "$LAB_LAN_IP:47005" "$LAB_WAN_IP:$SMTP_PORT" "TCP from the LAN to port $SMTP_PORT"
    [[ $LAB_DECISION == *" dir=outbound "* ]] || lab_fail "expected dir=outbound: $LAB_DECISION"
    seen=$(lab_sniffed sniff-wan | grep -F ":$SMTP_PORT " || true)
    [[ -z $seen ]] || lab_fail "the LAN host's SYN to port $SMTP_PORT reached WAN host 1:"$'\n'"$seen"
    lab_ok "outbound: port $OTHER_TCP_PORT passes, port $SMTP_PORT does not: $LAB_DECISION"
}

lab_up --nat gatewayd --lan-hosts 3 --wan2 --config <(firewall_config)
lab_heading "explicit drop rules win over the DMZ, a mapping and the outbound policy, and are named"
lab_bg lan3 dmz "$LAB_PY" "$LAB_NET_PY" listen-log --port "$DMZ_BLOCKED_PORT" --log "$LAB_TMP/dmz-arrivals"
lab_bg lan3 dmz-open "$LAB_PY" "$LAB_NET_PY" listen-log --port "$DMZ_OPEN_PORT" --log "$LAB_TMP/dmz-arrivals"
lab_bg wan echo "$LAB_PY" "$LAB_NET_PY" udp-echo --port "$ECHO_PORT"
lab_bg wan smtp "$LAB_PY" "$LAB_NET_PY" listen-log --port "$SMTP_PORT" --log "$LAB_TMP/wan-arrivals"
lab_bg wan other "$LAB_PY" "$LAB_NET_PY" listen-log --port "$OTHER_TCP_PORT" --log "$LAB_TMP/wan-arrivals"
lab_wait_listen lan3 udp "$DMZ_BLOCKED_PORT"
lab_wait_listen lan3 udp "$DMZ_OPEN_PORT"
lab_wait_listen wan udp "$ECHO_PORT"
lab_wait_listen wan tcp "$SMTP_PORT"
lab_wait_listen wan tcp "$OTHER_TCP_PORT"
lab_sniff_start wan sniff-wan "$SMTP_PORT" "$OTHER_TCP_PORT"

check_rule_counters_survive_reload() {
    local before after metrics smtp_packets
    rule_figure() { python3 -c 'import json, sys
d = json.loads(sys.argv[1]); r = [x for x in d["rules"] if x["name"] == sys.argv[2]][0]
print(r[sys.argv[3]])' "$1" "$2" "$3"; }
    before=$(lab_ctl --json rules) || lab_fail "gatewayctl rules failed: $before"
    smtp_packets=$(rule_figure "$before" no-smtp-out packets)
    ((smtp_packets >= 1 && $(rule_figure "$before" no-smtp-out bytes) >= 60 * smtp_packets)) ||
        lab_fail "rules: no-smtp-out did not count its SYN (packets and bytes): $before"
    (($(rule_figure "$before" dmz-no-udp-9999 packets) >= 1)) || lab_fail "rules: dmz-no-udp-9999 counted nothing: $before"
    # A rule added above, the DMZ rule narrowed to another port, no-smtp-out as it was.
    # (Edited in place: the lab added its lease file to the copy the daemon reads.)
    sed -i -e "s|^  rules:\$|  rules:\n    - {name: added-above, direction: input, protocol: udp, destination_ports: [9], action: drop}|" \
        -e "s|destination_ports: \[$DMZ_BLOCKED_PORT\]|destination_ports: [9997]|" "$LAB_TMP/gatewayd.yaml"
    lab_ctl reload >/dev/null || lab_fail "the reload was refused: $(lab_ctl reload 2>&1)"
    after=$(lab_ctl --json rules) || lab_fail "gatewayctl rules after the reload failed: $after"
    [[ $(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["rules"][0]["name"])' "$after") == added-above ]] ||
        lab_fail "the reload did not put added-above first: $after"
    (($(rule_figure "$after" no-smtp-out packets) >= smtp_packets)) ||
        lab_fail "the reload lost no-smtp-out's counts (before $smtp_packets): $after"
    (($(rule_figure "$after" dmz-no-udp-9999 packets) == 0)) || lab_fail "the changed DMZ rule kept its old counts: $after"
    metrics=$(lab_ctl metrics) || lab_fail "gatewayctl metrics failed"
    grep -qE '^gatewayd_rule_packets_total\{rule="no-smtp-out",direction="outbound",action="drop"\} [1-9]' <<<"$metrics" ||
        lab_fail "metrics: no-smtp-out's packets are missing:"$'\n'"$(grep gatewayd_rule_ <<<"$metrics")"
    # The scrape endpoint serves the same text, refreshed once a second.
    local scraped promtool
    lab_poll 5 bash -c "ip netns exec '$LAB_NS_GW' curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -q 'rule=\"no-smtp-out\"'" ||
        lab_fail "GET /metrics on the gateway's loopback has no no-smtp-out counters"
    scraped=$(ip netns exec "$LAB_NS_GW" curl -sf "http://127.0.0.1:$METRICS_PORT/metrics")
    promtool=${PROMTOOL:-$(command -v promtool || echo /usr/local/libexec/gatewayd-tests/promtool)}
    if [[ -x $promtool ]]; then
        "$promtool" check metrics <<<"$scraped" >/dev/null 2>&1 || lab_fail "promtool refuses the scraped metrics"
    elif [[ ${CI:-} == true ]]; then
        lab_fail "promtool is missing (tools/install-deps.sh fetches it)"
    fi
    if lab_in lan curl -s --max-time 2 "http://$LAB_GW_LAN_IP:$METRICS_PORT/metrics" >/dev/null 2>&1; then
        lab_fail "the LAN host reached the loopback-only metrics endpoint"
    fi
    lab_ok "rules: no-smtp-out kept $(rule_figure "$after" no-smtp-out packets) packets / $(rule_figure "$after" no-smtp-out bytes) bytes across a reload that moved it; the changed DMZ rule starts at 0"
}

check_rule_beats_dmz
check_rule_beats_mapping
check_rule_beats_outbound_policy
check_rule_counters_survive_reload
echo "PASS  explicit drop rules win and the log names them"

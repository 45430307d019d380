#!/usr/bin/env bash
# One LAN client floods the IGD with 10 000 AddPortMapping requests (distinct ports, its own
# address): it gets exactly upnp.per_client_limit mappings (the default, 128) and every other
# request is refused with 728 NoPortMapsAvailable and counted (gatewayctl status:
# upnp_refusals.soap_728_no_port_maps_available). Meanwhile a second LAN client still maps a port
# and reads it back promptly, and the daemon's memory stays bounded (refusals keep nothing).
# gatewayd only: the limit and the counters are what is tested.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly FLOOD=10000 LIMIT=128 OTHER_PORT=47000
[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayd's per-client limit and counters are tested here"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$LAB_DAEMON_PID/status"; }

lab_upnp_up --lan-hosts 2
lab_heading "UPnP: a flood of AddPortMapping from one client stops at its limit ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
rss_before=$(rss_kib)
counted_before=$(lab_upnp_refusals soap_728_no_port_maps_available)

control=$(lab_upnp_service_url lan WANIPConnection controlURL) || lab_fail "no WANIPConnection controlURL"
lab_upnp_py lan flood "$control" --count "$FLOOD" --first-port 20000 >"$LAB_TMP/flood.json" 2>&1 &
flood_pid=$!
sleep 1 # well into the flood: past the limit, refusals streaming in
started=$(date +%s%N)
out=$(lab_upnp_py lan2 add "$OTHER_PORT" TCP "$OTHER_PORT" --desc other --lease 600) ||
    lab_fail "during the flood, LAN host 2's AddPortMapping failed: $out"
entry=$(lab_upnp_py lan2 get "$OTHER_PORT" TCP) || lab_fail "during the flood, LAN host 2's mapping is not there: $entry"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
kill -0 "$flood_pid" 2>/dev/null && still=" (the flood still running)" || still=" (the flood had already ended)"
((elapsed_ms < 5000)) || lab_fail "during the flood, LAN host 2 waited ${elapsed_ms} ms for add + get"
lab_ok "LAN host 2 mapped and read back TCP $OTHER_PORT in ${elapsed_ms} ms$still"
wait "$flood_pid" || lab_fail "the flood client failed: $(cat "$LAB_TMP/flood.json")"

result=$(tail -n 1 "$LAB_TMP/flood.json")
"$LAB_UPNP_PY" - "$result" "$LIMIT" "$FLOOD" <<'PY' || lab_fail "flood result: $result"
import json, sys
r, limit, flood = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
refused_728 = r["refused"].get("728", 0)
ok = r["granted"] == limit and refused_728 == flood - limit
print(f"granted {r['granted']}, refused with 728: {refused_728}, other refusals: {r['refused']}")
sys.exit(0 if ok else 1)
PY
lab_ok "$FLOOD requests: $LIMIT granted, the rest refused with 728 NoPortMapsAvailable"
lab_upnp_expect_counted soap_728_no_port_maps_available "$counted_before" "every refusal" $((FLOOD - LIMIT))
mappings=$(lab_ctl --json status | "$LAB_UPNP_PY" -c 'import json, sys; print(json.load(sys.stdin)["upnp_mappings"])')
((mappings == LIMIT + 1)) || lab_fail "gatewayctl status counts $mappings UPnP mappings, expected $((LIMIT + 1))"
rss_after=$(rss_kib)
# AddressSanitizer's quarantine keeps freed memory resident: no bound to check there.
lab_daemon_sanitized || ((rss_after - rss_before < 16384)) ||
    lab_fail "the daemon grew from ${rss_before} KiB to ${rss_after} KiB during the flood"
lab_ok "$mappings mappings held in all; resident memory ${rss_before} KiB -> ${rss_after} KiB"
grep -q "refusals not logged" "$LAB_DAEMON_LOG" || lab_fail "the refusals were not rate-limited in the log"
lab_ok "the log holds $(grep -c 'refused: .*: 728 NoPortMapsAvailable' "$LAB_DAEMON_LOG") refusal lines for $((FLOOD - LIMIT)) refusals"
echo "PASS  a flood of AddPortMapping stops at the per-client limit, counted, the IGD still serving ($LAB_UPNP_IGD)"

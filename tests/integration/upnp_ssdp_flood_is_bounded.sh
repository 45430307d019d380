#!/usr/bin/env bash
# ctest: sanitize
# An M-SEARCH flood from one LAN host (issue 14.6): 100 000 M-SEARCH ssdp:all with MX 2147483647.
# pupnp kept one job per answer for up to MX seconds (+41 MB, never released) and sent 10
# datagrams for each. The gateway's responder clamps MX to 5 s, holds at most 256 searches and
# answers each host at 2 searches a second (burst 10): RSS stays within +64 MB of idle (printed;
# not judged under AddressSanitizer, whose quarantine keeps freed memory), the refusals are
# counted (ssdp.refused_source_rate_limited), the answers sent stay few, and upnpc on another
# LAN host discovers the gateway during the flood and after it.
# LAB_NAT=gatewayd only.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly FLOOD=100000
readonly RSS_LIMIT_KB=$((64 * 1024))

ssdp_count() {
    lab_ctl --json status | "$LAB_PY" -c 'import json, sys
print(json.load(sys.stdin).get("ssdp", {}).get(sys.argv[1], 0))' "$1"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$LAB_DAEMON_PID/status"; }

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the SSDP counters are gatewayd's (LAB_NAT=${LAB_NAT})"
lab_upnp_up --lan-hosts 2
lab_heading "an M-SEARCH flood ($FLOOD, MX 2147483647, ssdp:all) from one LAN host"
lab_upnp_discover lan2 || lab_fail "control: upnpc on LAN host 2 found no IGD before the flood:"$'\n'"$LAB_UPNP_DISCOVERY"
idle=$(rss_kb)
limited_before=$(ssdp_count refused_source_rate_limited)
lab_bg lan flood "$LAB_PY" "$LAB_DIR/labssdp.py" flood --count "$FLOOD" --mx 2147483647
flood_pid=$LAB_BG_PID
sleep 0.3
during=$(_lab_pid_gone "$flood_pid" && echo "started after the flood ended" || echo "started during the flood")
LAB_UPNP_URL=''
lab_upnp_discover lan2 || lab_fail "upnpc on LAN host 2 found no IGD during the flood:"$'\n'"$LAB_UPNP_DISCOVERY"
wait "$flood_pid" || lab_fail "the flood failed: $(cat "$LAB_TMP/flood.log")"
lab_ok "upnpc on LAN host 2 discovered the gateway ($during): $LAB_UPNP_URL; flood: $(cat "$LAB_TMP/flood.log")"
sleep 6 # every held answer's MX (at most 5 s) has run out
flooded=$(rss_kb)
limited=$(($(ssdp_count refused_source_rate_limited) - limited_before))
answered=$(ssdp_count searches_answered)
sent=$(ssdp_count answers_sent)
searches=$(ssdp_count searches)
echo "  RSS idle ${idle} kB, after the flood ${flooded} kB (+$((flooded - idle)) kB); searches judged $searches," \
    "rate-limited $limited, answered $answered ($sent datagrams), pending $(ssdp_count pending)"
((limited > 0)) || lab_fail "no M-SEARCH was held back by the per-source rate limit (ssdp.refused_source_rate_limited)"
((answered < 200)) || lab_fail "$answered searches of one host were answered: the rate limit did not hold"
((searches > 1000)) || lab_fail "only $searches of $FLOOD M-SEARCHes reached the responder: the flood did not test it"
lab_ok "held back: $limited M-SEARCHes counted in ssdp.refused_source_rate_limited; $answered answered"
if lab_daemon_sanitized; then
    lab_ok "RSS not judged: AddressSanitizer's quarantine keeps freed memory resident"
else
    ((flooded - idle <= RSS_LIMIT_KB)) || lab_fail "RSS grew by $((flooded - idle)) kB (limit $RSS_LIMIT_KB kB)"
    lab_ok "RSS +$((flooded - idle)) kB, within +64 MB of idle"
fi
LAB_UPNP_URL=''
lab_upnp_discover lan2 || lab_fail "upnpc on LAN host 2 found no IGD after the flood:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_ok "upnpc on LAN host 2 still discovers the gateway after the flood"
echo "PASS  an M-SEARCH flood is rate-limited and counted, memory stays bounded, other hosts still discover"

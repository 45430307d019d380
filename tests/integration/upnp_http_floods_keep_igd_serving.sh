#!/usr/bin/env bash
# ctest: sanitize
# Resource attacks on the IGD's HTTP port from LAN host 1 (issue 14 items 3 and 4), while LAN host
# 2's upnpc must keep working and gatewayd's RSS must stay within +64 MiB:
#   - a POST with Transfer-Encoding: chunked and 300 MiB of chunks → refused at the head (501,
#     upnp_refusals.http_transfer_encoding), the body never buffered;
#   - Content-Length lies: declaring 10 and sending 400 bytes (http_pipelined), two different
#     Content-Lengths (http_malformed);
#   - 14 connections each trickling a body byte a second → at most 8 at once per client
#     (http_connections_per_client, answered 503), the rest answered 408 at the 10 s request
#     deadline (http_deadline); LAN host 2's upnpc works while they trickle.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_http_attacks.sh
source "$LAB_DIR/lab_http_attacks.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the front end's counters are tested here"
readonly LEGIT_PORT=47400 TRICKLERS=14 TRICKLE_SECONDS=13

lab_upnp_up --lan-hosts 2
lab_heading "UPnP HTTP: chunked bodies, length lies and slow clients ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
CONTROL_URL=$(lab_upnp_service_url lan WANIPConnection controlURL) || lab_fail "no WANIPConnection controlURL"
rss_before=$(lab_http_rss_kb)

before=$(lab_upnp_refusals http_transfer_encoding)
out=$(lab_http lan chunked "$CONTROL_URL" --mib 300)
[[ $out == "HTTP/1.1 501"* ]] || lab_fail "a chunked 300 MiB POST: expected 501, got '$out'"
lab_ok "a chunked POST of up to 300 MiB → $out"
# An attacker that ignores the answer and pushes on: the front end reads and discards for a
# second after answering, then closes; nothing of it is kept.
out=$(lab_http lan chunked "$CONTROL_URL" --mib 300 --keep-sending)
lab_ok "the same, pushing on regardless of the answer → $out"
lab_upnp_expect_counted http_transfer_encoding "$before" "both chunked POSTs" 2
lab_http_expect_rss_within "$rss_before" 64 "after the chunked POST"

before=$(lab_upnp_refusals http_pipelined)
out=$(lab_http lan length-lie "$CONTROL_URL" short)
[[ $out == "HTTP/1.1 400"* ]] || lab_fail "Content-Length 10 with 400 bytes: expected 400, got '$out'"
lab_upnp_expect_counted http_pipelined "$before" "Content-Length 10 with 400 bytes sent → $out"
before=$(lab_upnp_refusals http_malformed)
out=$(lab_http lan length-lie "$CONTROL_URL" twice)
[[ $out == "HTTP/1.1 400"* ]] || lab_fail "two Content-Lengths: expected 400, got '$out'"
lab_upnp_expect_counted http_malformed "$before" "two different Content-Lengths → $out"

per_client_before=$(lab_upnp_refusals http_connections_per_client)
deadline_before=$(lab_upnp_refusals http_deadline)
lab_bg lan tricklers "$LAB_UPNP_PY" "$LAB_HTTP_PY" trickle "$CONTROL_URL" --count "$TRICKLERS" --seconds "$TRICKLE_SECONDS"
tricklers_pid=$LAB_BG_PID
sleep 2
lab_http_legit_client_works lan2 "$LEGIT_PORT" "while LAN host 1 trickles $TRICKLERS connections"
wait "$tricklers_pid" || true
ended=$(cat "$LAB_TMP/tricklers.log")
lab_ok "how the trickling connections ended: $(tr '\n' ' ' <<<"$ended")"
grep -q '^408 ' <<<"$ended" || lab_fail "no trickling connection was answered 408 at the deadline:"$'\n'"$ended"
! grep -q '^open ' <<<"$ended" || lab_fail "trickling connections were still open after ${TRICKLE_SECONDS}s:"$'\n'"$ended"
lab_upnp_expect_counted http_connections_per_client "$per_client_before" "connections over 8 from LAN host 1"
lab_upnp_expect_counted http_deadline "$deadline_before" "requests not whole within 10 s"
lab_http_legit_client_works lan2 "$LEGIT_PORT" "after the trickling"
lab_http_expect_rss_within "$rss_before" 64 "after every attack"
kill -0 "$LAB_DAEMON_PID" 2>/dev/null || lab_fail "gatewayd is gone"
echo "PASS  chunked bodies, length lies and slow clients are refused; LAN host 2 kept working ($LAB_UPNP_IGD)"

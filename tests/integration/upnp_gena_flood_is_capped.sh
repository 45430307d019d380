#!/usr/bin/env bash
# ctest: sanitize
# A GENA subscription flood (issue 14 item 5), from LAN host 1, while LAN host 2 is subscribed
# (TIMEOUT: Second-infinite asked, clamped to 1800 s):
#   - 16 SUBSCRIBEs whose callback black-holes (LAN host 1's own firewall drops it): refused
#     412 before pupnp (upnp_refusals.http_callback_unreachable), since pupnp 1.8.4 would hold a
#     thread of its send pool for the kernel's whole SYN timeout on every NOTIFY to them;
#   - 2000 SUBSCRIBEs asking TIMEOUT: Second-infinite with a callback that works: at most 6
#     granted (http_subscriptions_per_client and, for those over its 8 connections at once,
#     http_connections_per_client count the rest, answered 503);
# and LAN host 2 still gets the NOTIFY of a mapping change made after the flood. gatewayd's RSS
# stays within +64 MiB.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_http_attacks.sh
source "$LAB_DIR/lab_http_attacks.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the front end's counters are tested here"
readonly FLOOD=2000 BLACK_HOLED=16 CALLBACK_PORT=8000 FLOOD_PORT=8009 DEAD_PORT=8010 MAPPING_PORT=47500 EVENT_WAIT=5

lab_upnp_up --lan-hosts 2
LAN2_IP=$(lab_lan_ip 2)
lab_heading "UPnP GENA: a subscription flood is capped, a real subscriber still hears ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
EVENT_URL=$(lab_upnp_service_url lan WANIPConnection eventSubURL) || lab_fail "no WANIPConnection eventSubURL"
lab_upnp_listen lan2 "$CALLBACK_PORT"
lab_upnp_listen lan "$FLOOD_PORT"
lab_in lan iptables -A INPUT -p tcp --dport "$DEAD_PORT" -j DROP
rss_before=$(lab_http_rss_kb)

status=$(lab_upnp_py lan2 http "$EVENT_URL" --method SUBSCRIBE --header "CALLBACK: <http://$LAN2_IP:$CALLBACK_PORT/>" \
    --header "NT: upnp:event" --header "TIMEOUT: Second-infinite" || true)
[[ $status == "HTTP/1.1 200"* ]] || lab_fail "LAN host 2's SUBSCRIBE was answered: $status"
lab_ok "LAN host 2 subscribed before the flood → $status"

before=$(lab_upnp_refusals http_callback_unreachable)
out=$(lab_http lan subscribe-flood "$EVENT_URL" --count "$BLACK_HOLED" --callback "http://$LAB_LAN_IP:$DEAD_PORT/")
lab_ok "$BLACK_HOLED SUBSCRIBEs to a black-holed callback: $(tr '\n' ' ' <<<"$out")"
! grep -q '^200 ' <<<"$out" || lab_fail "a SUBSCRIBE with a black-holed callback was granted"
# At most 6 are probed at once (pending ones count against the per-client cap).
lab_upnp_expect_counted http_callback_unreachable "$before" "SUBSCRIBEs to a black-holed callback" 6

# Refused either at the subscription cap or, while 8 of its connections are open, at the
# connection cap: both are answered 503 before pupnp.
refused() { echo $(($(lab_upnp_refusals http_subscriptions_per_client) + $(lab_upnp_refusals http_connections_per_client))); }
before=$(refused)
subs_before=$(lab_upnp_refusals http_subscriptions_per_client)
start=$SECONDS
out=$(lab_http lan subscribe-flood "$EVENT_URL" --count "$FLOOD" --callback "http://$LAB_LAN_IP:$FLOOD_PORT/")
lab_ok "$FLOOD SUBSCRIBEs from LAN host 1 in $((SECONDS - start)) s: $(tr '\n' ' ' <<<"$out")"
granted=$(awk '$1 == "200" {print $2}' <<<"$out")
((${granted:-0} <= 6)) || lab_fail "LAN host 1 was granted ${granted} subscriptions (cap 6)"
after=$(refused)
((after - before >= FLOOD - 6)) || lab_fail "only $((after - before)) of the $FLOOD SUBSCRIBEs were counted as refused"
lab_upnp_expect_counted http_subscriptions_per_client "$subs_before" "SUBSCRIBEs over the per-client cap of 6"
lab_ok "refusals counted: $((after - before)) (subscription cap and connection cap together)"
held=$(lab_upnp_refusals gena_subscriptions_held)
((held <= 7)) || lab_fail "the front end holds $held subscriptions after the flood"
lab_ok "subscriptions held after the flood: $held"

: >"$LAB_TMP/arrivals.lan2.$CALLBACK_PORT"
out=$(lab_upnp_py lan2 add "$MAPPING_PORT" TCP "$MAPPING_PORT" --lease 600) || lab_fail "AddPortMapping on LAN host 2: $out"
notify_start=$SECONDS
lab_wait_log "$LAB_TMP/arrivals.lan2.$CALLBACK_PORT" "NOTIFY" "$EVENT_WAIT" ||
    lab_fail "LAN host 2's subscription got no NOTIFY within ${EVENT_WAIT}s of a mapping change after the flood"
lab_ok "LAN host 2 got the NOTIFY of a mapping change made after the flood, $((SECONDS - notify_start)) s after it"
lab_http_expect_rss_within "$rss_before" 64 "after the flood"
echo "PASS  a GENA flood is capped and a real subscriber keeps hearing ($LAB_UPNP_IGD)"

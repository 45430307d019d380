#!/usr/bin/env bash
# A GENA subscription flood (issue 14 item 5): LAN host 1 sends 2000 SUBSCRIBEs asking for
# TIMEOUT: Second-infinite, with a callback on itself where nothing listens. The front end grants
# it at most 16 (upnp_refusals.http_subscriptions_per_client and, for those over its 8
# connections at once, http_connections_per_client count the rest, answered 503), and LAN
# host 2, subscribed before the flood with TIMEOUT: Second-infinite as well, still gets its
# NOTIFY for a mapping change made after it. gatewayd's RSS stays within +64 MiB.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
# shellcheck source=SCRIPTDIR/../lab/lab_http_attacks.sh
source "$LAB_DIR/lab_http_attacks.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the front end's counters are tested here"
readonly FLOOD=2000 CALLBACK_PORT=8000 DEAD_PORT=8009 MAPPING_PORT=47500 EVENT_WAIT=5

lab_upnp_up --lan-hosts 2
LAN2_IP=$(lab_lan_ip 2)
lab_heading "UPnP GENA: a subscription flood is capped, a real subscriber still hears ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
EVENT_URL=$(lab_upnp_service_url lan WANIPConnection eventSubURL) || lab_fail "no WANIPConnection eventSubURL"
lab_upnp_listen lan2 "$CALLBACK_PORT"
rss_before=$(lab_http_rss_kb)

status=$(lab_upnp_py lan2 http "$EVENT_URL" --method SUBSCRIBE --header "CALLBACK: <http://$LAN2_IP:$CALLBACK_PORT/>" \
    --header "NT: upnp:event" --header "TIMEOUT: Second-infinite" || true)
[[ $status == "HTTP/1.1 200"* ]] || lab_fail "LAN host 2's SUBSCRIBE was answered: $status"
lab_ok "LAN host 2 subscribed before the flood → $status"

# Refused either at the subscription cap or, while 8 of its connections are open, at the
# connection cap: both are answered 503 before pupnp.
refused() { echo $(($(lab_upnp_refusals http_subscriptions_per_client) + $(lab_upnp_refusals http_connections_per_client))); }
before=$(refused)
subs_before=$(lab_upnp_refusals http_subscriptions_per_client)
start=$SECONDS
out=$(lab_http lan subscribe-flood "$EVENT_URL" --count "$FLOOD" --callback "http://$LAB_LAN_IP:$DEAD_PORT/")
lab_ok "$FLOOD SUBSCRIBEs from LAN host 1 in $((SECONDS - start)) s: $(tr '\n' ' ' <<<"$out")"
granted=$(awk '$1 == "200" {print $2}' <<<"$out")
((${granted:-0} <= 16)) || lab_fail "LAN host 1 was granted ${granted} subscriptions (cap 16)"
after=$(refused)
((after - before >= FLOOD - 16)) || lab_fail "only $((after - before)) of the $FLOOD SUBSCRIBEs were counted as refused"
lab_upnp_expect_counted http_subscriptions_per_client "$subs_before" "SUBSCRIBEs over the per-client cap of 16"
lab_ok "refusals counted: $((after - before)) (subscription cap and connection cap together)"
held=$(lab_upnp_refusals gena_subscriptions_held)
((held <= 17)) || lab_fail "the front end holds $held subscriptions after the flood"
lab_ok "subscriptions held after the flood: $held"

: >"$LAB_TMP/arrivals.lan2.$CALLBACK_PORT"
out=$(lab_upnp_py lan2 add "$MAPPING_PORT" TCP "$MAPPING_PORT" --lease 600) || lab_fail "AddPortMapping on LAN host 2: $out"
lab_wait_log "$LAB_TMP/arrivals.lan2.$CALLBACK_PORT" "NOTIFY" "$EVENT_WAIT" ||
    lab_fail "LAN host 2's subscription got no NOTIFY within ${EVENT_WAIT}s of a mapping change after the flood"
lab_ok "LAN host 2 got the NOTIFY of a mapping change made after the flood"
lab_http_expect_rss_within "$rss_before" 64 "after the flood"
echo "PASS  a GENA flood is capped and a real subscriber keeps hearing ($LAB_UPNP_IGD)"

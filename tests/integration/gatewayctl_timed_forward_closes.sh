#!/usr/bin/env bash
# ctest: sanitize
# `gatewayctl forwards add NAME tcp PORT ADDRESS:PORT --for 3s` opens a forward at once that closes
# by itself: the WAN host reaches the LAN host through it, `mappings` lists it with its time left,
# and 3 s later a new connection reaches nothing and the listing no longer has it. A second one
# opened for an hour is revoked with `forwards delete NAME`: `forwards list` showed it, and from
# then on nothing reaches the LAN host through it.
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly PORT=5000

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayctl talks to gatewayd; LAB_NAT=${LAB_NAT:-}"

lab_up --nat gatewayd
lab_heading "a time-limited forward closes by itself"
lab_upnp_listen lan "$PORT"
if lab_upnp_probe_arrives lan tcp "$PORT" "$PORT" 1; then lab_fail "control: $PORT is open before the forward"; fi
out=$(lab_ctl forwards add for-a-while tcp "$PORT" "$LAB_LAN_IP:$PORT" --for 3s) || lab_fail "forwards add failed: $out"
opened=$SECONDS
lab_ok "$out"
lab_upnp_probe_arrives lan tcp "$PORT" "$PORT" 2 || lab_fail "the timed forward does not reach the LAN host"
listing=$(lab_ctl mappings)
grep -qE "^for-a-while +tcp +$PORT +$LAB_LAN_IP:$PORT +true +[1-3]( |\$)" <<<"$listing" ||
    lab_fail "mappings does not list the timed forward:"$'\n'"$listing"
lab_ok "open: the WAN host reaches $LAB_LAN_IP:$PORT, and mappings lists it with its time left"
err=$(lab_ctl forwards add again tcp "$PORT" "$LAB_LAN_IP:$PORT" --for 3s 2>&1) && lab_fail "a second forward on $PORT was accepted"
lab_ok "a second forward on the same port is refused: $err"
lab_wait_log "$LAB_DAEMON_LOG" "forward for-a-while (tcp $PORT) closed" 6 || lab_fail "the daemon did not close the forward"
((SECONDS - opened <= 5)) || lab_fail "the forward closed after $((SECONDS - opened))s, not 3"
if lab_upnp_probe_arrives lan tcp "$PORT" "$PORT" 1; then lab_fail "the forward still reaches the LAN host after 3s"; fi
lab_ctl --json mappings | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["forwards"] == [] else 1)' ||
    lab_fail "mappings still lists the forward: $(lab_ctl --json mappings)"
lab_ok "closed by itself after 3s: nothing reaches the LAN host and mappings no longer lists it"

out=$(lab_ctl forwards add helpdesk tcp "$PORT" "$LAB_LAN_IP:$PORT" --for 1h) || lab_fail "forwards add helpdesk failed: $out"
lab_upnp_probe_arrives lan tcp "$PORT" "$PORT" 2 || lab_fail "the hour-long forward does not reach the LAN host"
listing=$(lab_ctl forwards list) || lab_fail "forwards list failed: $listing"
grep -qE "^helpdesk +tcp +$PORT +$LAB_LAN_IP:$PORT +true +3[0-9]{3}( |\$)" <<<"$listing" ||
    lab_fail "forwards list does not show helpdesk with about an hour left:"$'\n'"$listing"
out=$(lab_ctl forwards delete helpdesk) || lab_fail "forwards delete helpdesk failed: $out"
if lab_upnp_probe_arrives lan tcp "$PORT" "$PORT" 1; then lab_fail "the revoked forward still reaches the LAN host"; fi
lab_ctl --json forwards | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["forwards"] == [] else 1)' ||
    lab_fail "forwards still lists the revoked forward: $(lab_ctl --json forwards)"
rc=0
err=$(lab_ctl forwards delete helpdesk 2>&1) || rc=$?
[[ $rc -eq 1 && $err == *"no timed forward is named 'helpdesk'"* ]] || lab_fail "deleting it twice: rc $rc, $err"
lab_ok "revoked before its time: $out; nothing reaches the LAN host, and again: $err"
echo "PASS  a time-limited forward closes by itself"

#!/usr/bin/env bash
# A mapping granted with a short lease (NewLeaseDuration 3 s) works at once and closes by itself
# when the lease ends: a few seconds later the IGD no longer lists it and what the WAN host sends
# to its port reaches nothing. A mapping with a long lease, added at the same time, stays open.
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly SHORT_LEASE=3 UDP_PORT=42000 TCP_PORT=42001 KEPT_PORT=42002
# Room for an IGD that sweeps expired leases once a second.
readonly WAIT_PAST_LEASE=$((SHORT_LEASE + 3))

map() {
    local out
    out=$(lab_upnp_py lan add "$2" "$1" "$2" --lease "$3" --desc "lease-$3s") ||
        lab_fail "AddPortMapping $1 $2 with a ${3}s lease failed: $out"
}

lab_upnp_up
lab_heading "UPnP mappings close when their lease ends ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_listen lan "$UDP_PORT"
lab_upnp_listen lan "$TCP_PORT"
lab_upnp_listen lan "$KEPT_PORT"

map UDP "$UDP_PORT" "$SHORT_LEASE"
map TCP "$TCP_PORT" "$SHORT_LEASE"
map UDP "$KEPT_PORT" 3600
started=$SECONDS
lease=$(lab_upnp_py lan get "$UDP_PORT" UDP) || lab_fail "GetSpecificPortMappingEntry UDP $UDP_PORT: $lease"
lease=$(awk '{ print $2 }' <<<"$lease")
((lease >= 1 && lease <= SHORT_LEASE)) || lab_fail "UDP $UDP_PORT: the IGD reports a lease of ${lease}s; asked for ${SHORT_LEASE}s"
lab_upnp_expect_open lan udp "$UDP_PORT" "$UDP_PORT" "UDP $UDP_PORT within its ${SHORT_LEASE}s lease"
lab_upnp_expect_open lan tcp "$TCP_PORT" "$TCP_PORT" "TCP $TCP_PORT within its ${SHORT_LEASE}s lease"
(((SECONDS - started) < SHORT_LEASE)) ||
    lab_fail "the probes within the lease took $((SECONDS - started))s, longer than the lease: the test cannot tell"
lab_ok "leases of ${SHORT_LEASE}s granted (${lease}s left when read); UDP and TCP from the WAN host get through"

sleep $((WAIT_PAST_LEASE - (SECONDS - started)))
lab_upnp_expect_unlisted lan UDP "$UDP_PORT" "${WAIT_PAST_LEASE}s after a ${SHORT_LEASE}s lease"
lab_upnp_expect_unlisted lan TCP "$TCP_PORT" "${WAIT_PAST_LEASE}s after a ${SHORT_LEASE}s lease"
lab_upnp_expect_closed lan udp "$UDP_PORT" "$UDP_PORT" "${WAIT_PAST_LEASE}s after a ${SHORT_LEASE}s lease"
lab_upnp_expect_closed lan tcp "$TCP_PORT" "$TCP_PORT" "${WAIT_PAST_LEASE}s after a ${SHORT_LEASE}s lease"
lab_ok "${WAIT_PAST_LEASE}s later both are gone from the list and the WAN host's packets reach nothing"
lab_upnp_expect_listed lan UDP "$KEPT_PORT" "$LAB_LAN_IP:$KEPT_PORT" "the mapping with a 3600s lease"
lab_upnp_expect_open lan udp "$KEPT_PORT" "$KEPT_PORT" "the mapping with a 3600s lease"
lab_ok "the mapping with a 3600s lease is still listed and open"
echo "PASS  a mapping closes when its lease ends ($LAB_UPNP_IGD)"

#!/usr/bin/env bash
# ctest: sanitize
# The lease file is a journal fdatasync'ed before each answer: whatever the IGD acknowledged is
# there after kill -9 (no clean stop, no compaction). Three mappings granted and one deleted, then
# SIGKILL: the journal holds the grants and the "del" line; after the restart the two live ones
# are listed again and the deleted one is not, and the start compacted the journal to one line
# per mapping. gatewayd only (the journal is what is tested).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayd's lease journal is tested here"

lab_upnp_up
lab_heading "UPnP: acknowledged mappings survive kill -9 through the lease journal ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_map lan UDP 46000 46000 kept-udp
lab_upnp_map lan TCP 46001 46001 kept-tcp
lab_upnp_map lan TCP 46002 46002 deleted
lab_upnp_unmap lan TCP 46002
lab_ok "granted UDP 46000, TCP 46001 and TCP 46002; deleted TCP 46002"

lab_daemon_kill9
grep -q '^del tcp 46002$' "$LAB_UPNP_LEASE_FILE" ||
    lab_fail "after kill -9 the journal has no removal of TCP 46002:"$'\n'"$(cat "$LAB_UPNP_LEASE_FILE")"
lab_ok "after kill -9 the journal holds $(wc -l <"$LAB_UPNP_LEASE_FILE") lines, the removal included"

lab_upnp_start
lab_upnp_discover lan || lab_fail "after the restart, no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
lab_upnp_expect_listed lan UDP 46000 "$LAB_LAN_IP:46000" "after kill -9 and a restart"
lab_upnp_expect_listed lan TCP 46001 "$LAB_LAN_IP:46001" "after kill -9 and a restart"
lab_upnp_expect_unlisted lan TCP 46002 "after kill -9 and a restart"
lab_ok "after the restart UDP 46000 and TCP 46001 are listed, the deleted TCP 46002 is not"
lines=$(wc -l <"$LAB_UPNP_LEASE_FILE")
((lines == 3)) && ! grep -q '^del ' "$LAB_UPNP_LEASE_FILE" ||
    lab_fail "the start did not compact the journal to a header and two mappings:"$'\n'"$(cat "$LAB_UPNP_LEASE_FILE")"
lab_ok "the start compacted the journal to $lines lines (header and one line per mapping)"
echo "PASS  acknowledged mappings survive kill -9 through the lease journal ($LAB_UPNP_IGD)"

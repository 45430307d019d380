#!/usr/bin/env bash
# ctest: sanitize
# gatewayctl capture: while the LAN host pings the WAN host three times, a capture filtered on the WAN
# host's address and bounded to 6 records writes a pcap file (mode 0600) that tshark reads, holding the
# echo requests as they arrived (source 192.168.50.10) and as translated (source 203.0.113.1). A second
# capture while one runs is refused with one line and a non-zero exit, and so is one whose filter
# names a rule or a mapping that does not exist (it would capture nothing, silently).
# Daemon-only: skips under LAB_NAT=kernel (fails under CI=true).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "gatewayctl talks to gatewayd; LAB_NAT=${LAB_NAT:-}"
command -v tshark >/dev/null || lab_fail "tshark is needed to read the capture"

lab_up --nat gatewayd
lab_heading "gatewayctl capture"
file=$LAB_TMP/c.pcap
lab_bg gw capture "$GATEWAYCTL" --socket "$LAB_TMP/control.sock" capture --host "$LAB_WAN_IP" --count 6 --seconds 20 -w "$file"
lab_poll 5 test -e "$file" || lab_fail "the capture file was not created: $(cat "$LAB_TMP/capture.log")"

rc=0
err=$(lab_ctl capture --host "$LAB_WAN_IP" -w "$LAB_TMP/second.pcap" 2>&1) || rc=$?
[[ $rc -ne 0 && $(wc -l <<<"$err") -eq 1 && $err == *"a capture is already running"* ]] ||
    lab_fail "a second capture was not refused: rc $rc, $err"
[[ ! -e $LAB_TMP/second.pcap ]] || lab_fail "the refused capture created its file"
lab_ok "a second capture is refused: $err"

out=$(lab_py lan ping --count 3 "$LAB_WAN_IP") || lab_fail "ping LAN→WAN failed: $out"
lab_wait_log "$LAB_TMP/capture.log" "packets written to" 10 ||
    lab_fail "the capture did not finish: $(cat "$LAB_TMP/capture.log")"
grep -qx "6 packets written to $file" "$LAB_TMP/capture.log" || lab_fail "gatewayctl said: $(cat "$LAB_TMP/capture.log")"
lab_ok "gatewayctl: $(cat "$LAB_TMP/capture.log")"

[[ $(stat -c %a "$file") == 600 ]] || lab_fail "the capture file's mode is $(stat -c %a "$file")"
sources=$(tshark -r "$file" -T fields -e ip.src 2>"$LAB_TMP/tshark.err") ||
    lab_fail "tshark cannot read the capture: $(cat "$LAB_TMP/tshark.err")"
[[ $(wc -l <<<"$sources") -eq 6 ]] || lab_fail "the capture holds $(wc -l <<<"$sources") packets, not 6:"$'\n'"$sources"
grep -qx "$LAB_LAN_IP" <<<"$sources" || lab_fail "no packet from $LAB_LAN_IP (before translation):"$'\n'"$sources"
grep -qx "$LAB_GW_WAN_IP" <<<"$sources" || lab_fail "no packet from $LAB_GW_WAN_IP (after translation):"$'\n'"$sources"
lab_ok "tshark reads 6 packets, sources: $(sort <<<"$sources" | uniq -c | tr -s ' \n' ' ')"

rc=0
err=$(lab_ctl capture --host "$LAB_WAN_IP" -w "$file" 2>&1) || rc=$?
[[ $rc -ne 0 && $err == *"exists already"* ]] || lab_fail "an existing file was not refused: rc $rc, $err"
lab_ok "an existing file is refused: $err"

for filter in "--rule nosuch" "--mapping 9/udp"; do
    rc=0
    # shellcheck disable=SC2086 # the filter is two words on purpose
    err=$(lab_ctl capture $filter -w "$LAB_TMP/nothing.pcap" 2>&1) || rc=$?
    [[ $rc -eq 1 && $(wc -l <<<"$err") -eq 1 && ($err == *"no rule is named 'nosuch'"* || $err == *"no mapping or forward holds 9/udp"*) ]] ||
        lab_fail "capture $filter was not refused as naming nothing: rc $rc, $err"
    [[ ! -e $LAB_TMP/nothing.pcap ]] || lab_fail "the refused capture ($filter) created its file"
    lab_ok "capture $filter is refused: $err"
done
echo "PASS  gatewayctl capture"

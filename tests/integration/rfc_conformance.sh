#!/usr/bin/env bash
# The RFC conformance run behind docs/compliance.md (issue 18.6): every check of tests/conformance
# (RFC 4787, 5382, 5508, 7857, crafted with scapy and real sockets from the lab's hosts) against
# gatewayd in each filtering mode (one daemon, firewall.filtering rewritten and reloaded between
# runs), then against the kernel's MASQUERADE in the same lab. Fails when a MUST or SHOULD is FAIL
# for gatewayd in any mode, when a requirement of the four lists has no check, or when gatewayd's
# part of the generated sheet differs from the committed docs/compliance.md (the kernel's column
# may differ between kernels: reported, not failed). CONFORMANCE_UPDATE=1 rewrites
# docs/compliance.md instead of comparing (tools/update-generated-docs.sh --compliance).
# About a minute: checks read timers from gatewayctl and conntrack instead of waiting them out.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

[[ ${LAB_NAT:-gatewayd} == gatewayd ]] || lab_skip "the conformance run drives both NATs itself; LAB_NAT=${LAB_NAT:-}"
readonly PY=/usr/bin/python3 # Debian's: it has scapy
CONFORMANCE=$LAB_REPO/tests/conformance/conformance.py
SHEET=$LAB_REPO/docs/compliance.md
readonly CONFORMANCE SHEET
$PY -c 'import scapy' 2>/dev/null || lab_skip "no scapy for $PY (apt-get install python3-scapy)"
# The verdict first, on made-up results: it must fail a gatewayd SHOULD and pass a kernel difference.
$PY "$CONFORMANCE" selftest || lab_fail "the conformance verdict judges made-up results wrongly"

# conformance_config MODE: the lab's gatewayd with one filtering mode. low_port_range on so that
# REQ-3a can be met (off by default, see docs/firewall.md); the rule serves RFC 7857 §7 (an
# inbound packet a security policy drops must not refresh an EIF mapping).
conformance_config() {
    cat <<EOF
lan:
  interface: $LAB_GW_LAN_IF
wan:
  interface: $LAB_GW_WAN_IF
  address: auto
nat:
  port_range: 1024-65535
  low_port_range: 600-1023
firewall:
  filtering: $1
  rules:
    - name: conformance-policy-drop
      direction: inbound
      protocol: udp
      source_ports: [4]
      action: drop
EOF
}

lab_up --nat gatewayd --lan-hosts 2 --wan2 --config <(conformance_config endpoint-independent)

export CONFORMANCE_NS_LAN1=$LAB_NS_LAN CONFORMANCE_NS_LAN2 CONFORMANCE_NS_WAN=$LAB_NS_WAN
export CONFORMANCE_NS_WAN2=$LAB_NS_WAN2 CONFORMANCE_NS_GW=$LAB_NS_GW
CONFORMANCE_NS_LAN2=$(_lab_ns_of lan2)
export CONFORMANCE_LAN1_IP=$LAB_LAN_IP CONFORMANCE_LAN2_IP
CONFORMANCE_LAN2_IP=$(lab_lan_ip 2)
export LAB_GW_WAN_IP LAB_GW_LAN_IP LAB_WAN_IP LAB_WAN2_IP
export CONFORMANCE_GATEWAYCTL="$GATEWAYCTL --socket $LAB_TMP/control.sock"
export CONFORMANCE_GATEWAYD=$GATEWAYD

out=${CONFORMANCE_OUT:-$PWD/rfc_conformance}
mkdir -p "$out"
# For working on one check: CONFORMANCE_ONLY='RFC 4787 REQ-14' (keys separated by ';') and
# CONFORMANCE_TARGETS='endpoint-independent kernel' run only those, and skip the verdict.
only=()
if [[ -n ${CONFORMANCE_ONLY:-} ]]; then
    IFS=';' read -r -a keys <<<"$CONFORMANCE_ONLY"
    for key in "${keys[@]}"; do only+=(--only "$key"); done
fi
targets=${CONFORMANCE_TARGETS:-endpoint-independent address-dependent address-and-port-dependent kernel}
results=()

# conformance_run TARGET FILTERING PORT_BASE: one run of every check, its JSON into $out.
conformance_run() {
    local json=$out/$1-$2.json
    [[ $1 == gatewayd ]] && json=$out/gatewayd-$2.json
    [[ $1 == kernel ]] && json=$out/kernel.json
    CONFORMANCE_TARGET=$1 CONFORMANCE_FILTERING=$2 CONFORMANCE_PORT_BASE=$3 \
        $PY "$CONFORMANCE" run --out "$json" ${only[@]+"${only[@]}"}
    results+=("$json")
}

started=$SECONDS
base=20000 # each run its own port block: one daemon's mappings outlive a run
for mode in endpoint-independent address-dependent address-and-port-dependent; do
    [[ " $targets " == *" $mode "* ]] || continue
    lab_heading "gatewayd, firewall.filtering: $mode"
    _lab_use_gatewayd_config <(conformance_config "$mode")
    lab_ctl reload >/dev/null || lab_fail "gatewayctl reload refused firewall.filtering: $mode"
    lab_ctl --json status | grep -q "\"$mode\"" || lab_fail "after the reload, gatewayctl status does not say $mode"
    conformance_run gatewayd "$mode" "$base"
    base=$((base + 10000))
done

if [[ " $targets " == *" kernel "* ]]; then
    lab_heading "the kernel's MASQUERADE (reference), same lab"
    lab_daemon_stop
    # The WAN watch (lab_wan_watch.sh) judges gatewayd: read it now, so that what the kernel lets
    # out untranslated is reported by its checks, not taken for a gatewayd leak.
    _lab_wan_watch_check
    _lab_nat_kernel
    CONFORMANCE_GATEWAYCTL='' conformance_run kernel kernel 60000
fi
echo "  the runs took $((SECONDS - started)) s"
[[ -z ${CONFORMANCE_ONLY:-} && -z ${CONFORMANCE_TARGETS:-} ]] || exit 0

lab_heading "the compliance sheet"
$PY "$CONFORMANCE" render --command "ctest -R integration.rfc_conformance" "${results[@]}" >"$out/compliance.md"
echo "  sheet: $out/compliance.md"
if [[ ${CONFORMANCE_UPDATE:-0} == 1 ]]; then
    cp "$out/compliance.md" "$SHEET"
    echo "  docs/compliance.md rewritten"
fi
# verify: exit 1 on a gatewayd MUST/SHOULD FAIL or a requirement without a check; compares
# gatewayd's columns with the committed sheet and reports (only) the kernel's differences.
$PY "$CONFORMANCE" verify --sheet "$SHEET" "${results[@]}" ||
    lab_fail "RFC conformance: see above (the generated sheet is $out/compliance.md)"
echo "PASS  every MUST and SHOULD of RFC 4787, 5382, 5508 and 7857 holds for gatewayd in each filtering mode"

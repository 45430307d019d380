#!/usr/bin/env bash
# ctest: sanitize
# DNS rebinding: a web page that rebinds evil.example to the gateway makes the browser send
# requests to the IGD with "Host: evil.example". The IGD must refuse them (any answer but 2xx, or
# none): the description fetch, and above all a SOAP AddPortMapping, which must not create the
# mapping. The same requests with the IGD's own Host are served (the control). With gatewayd each
# refusal is counted in gatewayctl status (upnp_refusals.http_foreign_host).
# LAB_NAT=gatewayd (default) or kernel (Debian's miniupnpd as the reference IGD, to check the test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

readonly FOREIGN_HOST=evil.example REBIND_PORT=47200 CONTROL_PORT=47201

# add_port_mapping_body PORT: a SOAP AddPortMapping for TCP PORT to the LAN host, 600 s.
add_port_mapping_body() {
    printf '<?xml version="1.0"?>'
    printf '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
    printf '<s:Body><u:AddPortMapping xmlns:u="%s">' "$SERVICE_TYPE"
    printf '<NewRemoteHost></NewRemoteHost><NewExternalPort>%s</NewExternalPort><NewProtocol>TCP</NewProtocol>' "$1"
    printf '<NewInternalPort>%s</NewInternalPort><NewInternalClient>%s</NewInternalClient>' "$1" "$LAB_LAN_IP"
    printf '<NewEnabled>1</NewEnabled><NewPortMappingDescription>rebind</NewPortMappingDescription>'
    printf '<NewLeaseDuration>600</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>'
}

# soap_add PORT [HOST]: POST the AddPortMapping, with Host HOST if given; prints the status line.
soap_add() {
    local host_args=()
    [[ -z ${2:-} ]] || host_args=(--host "$2")
    lab_upnp_py lan http "$CONTROL_URL" --method POST "${host_args[@]}" \
        --header 'Content-Type: text/xml; charset="utf-8"' \
        --header "SOAPAction: \"$SERVICE_TYPE#AddPortMapping\"" --body "$(add_port_mapping_body "$1")" || true
}

check_description() {
    local status before
    status=$(lab_upnp_py lan http "$LAB_UPNP_URL" || true)
    [[ $status == "HTTP/1.1 200"* ]] || lab_fail "control: GET $LAB_UPNP_URL with its own Host was answered: $status"
    for host in "$FOREIGN_HOST" "$FOREIGN_HOST:$LAB_UPNP_HTTP_PORT"; do
        before=$(lab_upnp_count http_foreign_host)
        status=$(lab_upnp_py lan http "$LAB_UPNP_URL" --host "$host" || true)
        [[ $status != "HTTP/1."?" 2"* ]] || lab_fail "GET $LAB_UPNP_URL with Host: $host was served: $status"
        lab_ok "GET the description with Host: $host → $status"
        lab_upnp_expect_counted http_foreign_host "$before" "GET with Host: $host"
    done
}

check_soap() {
    local status before
    before=$(lab_upnp_count http_foreign_host)
    status=$(soap_add "$REBIND_PORT" "$FOREIGN_HOST")
    [[ $status != "HTTP/1."?" 2"* ]] || lab_fail "SOAP AddPortMapping with Host: $FOREIGN_HOST was served: $status"
    lab_upnp_expect_unlisted lan TCP "$REBIND_PORT" "after AddPortMapping with Host: $FOREIGN_HOST"
    lab_ok "SOAP AddPortMapping TCP $REBIND_PORT with Host: $FOREIGN_HOST → $status; no such mapping exists"
    lab_upnp_expect_counted http_foreign_host "$before" "SOAP with Host: $FOREIGN_HOST"
    status=$(soap_add "$CONTROL_PORT")
    [[ $status == "HTTP/1.1 200"* ]] || lab_fail "control: the same AddPortMapping with the IGD's own Host was answered: $status"
    lab_upnp_expect_listed lan TCP "$CONTROL_PORT" "$LAB_LAN_IP:$CONTROL_PORT" "control: AddPortMapping with the IGD's own Host"
    lab_ok "control: the same SOAP request with the IGD's own Host → $status, and TCP $CONTROL_PORT is listed"
}

lab_upnp_up
lab_heading "UPnP requests with a foreign Host header (DNS rebinding) ($LAB_UPNP_IGD)"
lab_upnp_discover lan || lab_fail "no IGD found by upnpc -l:"$'\n'"$LAB_UPNP_DISCOVERY"
CONTROL_URL=$(lab_upnp_service_url lan WANIPConnection controlURL) ||
    lab_fail "no controlURL for WANIPConnection in the root description $LAB_UPNP_URL"
SERVICE_TYPE=$(lab_upnp_root_desc lan | grep -o 'urn:schemas-upnp-org:service:WANIPConnection:[0-9]' | head -n 1)
check_description
check_soap
echo "PASS  requests with a foreign Host header are refused ($LAB_UPNP_IGD)"

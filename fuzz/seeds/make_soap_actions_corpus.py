#!/usr/bin/python3
# Writes fuzz/corpus/soap_actions: control request bodies as miniupnpc 2.2 sends them
# (miniwget/upnpcommands.c: no whitespace, "s:" envelope, "u:" action prefix), and a
# few as Windows' NAT traversal client writes them (SOAP-ENV prefix, line breaks).
import os
import sys

ENVELOPE = ('<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>{}</s:Body></s:Envelope>\r\n')
WINDOWS = ('<?xml version="1.0"?>\r\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
           'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">\r\n<SOAP-ENV:Body>\r\n{}\r\n'
           '</SOAP-ENV:Body>\r\n</SOAP-ENV:Envelope>\r\n')
IP1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
IP2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
COMMON = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
L3F = "urn:schemas-upnp-org:service:Layer3Forwarding:1"


def action(service, name, args, prefix="u", newline=""):
    inner = newline.join(f"<{k}>{v}</{k}>" for k, v in args)
    return f'<{prefix}:{name} xmlns:{prefix}="{service}">{newline}{inner}{newline}</{prefix}:{name}>'


ADD = [("NewRemoteHost", ""), ("NewExternalPort", "8080"), ("NewProtocol", "TCP"), ("NewInternalPort", "80"),
       ("NewInternalClient", "192.168.1.10"), ("NewEnabled", "1"), ("NewPortMappingDescription", "libminiupnpc"),
       ("NewLeaseDuration", "3600")]
BODIES = {
    "add_port_mapping": ENVELOPE.format(action(IP1, "AddPortMapping", ADD)),
    "add_port_mapping_v2": ENVELOPE.format(action(IP2, "AddPortMapping", ADD)),
    "add_any_port_mapping": ENVELOPE.format(action(IP2, "AddAnyPortMapping", ADD[:3] + [("NewInternalPort", "0")] + ADD[4:7] + [("NewLeaseDuration", "0")])),
    "add_udp_remote_host": ENVELOPE.format(action(IP1, "AddPortMapping", [("NewRemoteHost", "198.51.100.7"), ("NewExternalPort", "27015"), ("NewProtocol", "UDP"), ("NewInternalPort", "27015"), ("NewInternalClient", "192.168.1.10"), ("NewEnabled", "0"), ("NewPortMappingDescription", "game &amp; voice &#x1;"), ("NewLeaseDuration", "0")])),
    "delete_port_mapping": ENVELOPE.format(action(IP1, "DeletePortMapping", [("NewRemoteHost", ""), ("NewExternalPort", "8080"), ("NewProtocol", "TCP")])),
    "delete_port_mapping_range": ENVELOPE.format(action(IP2, "DeletePortMappingRange", [("NewStartPort", "1024"), ("NewEndPort", "65535"), ("NewProtocol", "TCP"), ("NewManage", "1")])),
    "get_specific": ENVELOPE.format(action(IP1, "GetSpecificPortMappingEntry", [("NewRemoteHost", ""), ("NewExternalPort", "8080"), ("NewProtocol", "TCP")])),
    "get_generic": ENVELOPE.format(action(IP1, "GetGenericPortMappingEntry", [("NewPortMappingIndex", "0")])),
    "get_list": ENVELOPE.format(action(IP2, "GetListOfPortMappings", [("NewStartPort", "0"), ("NewEndPort", "65535"), ("NewProtocol", "UDP"), ("NewManage", "0"), ("NewNumberOfPorts", "10")])),
    "get_external_ip": ENVELOPE.format(action(IP1, "GetExternalIPAddress", [])),
    "get_status_info": ENVELOPE.format(action(IP1, "GetStatusInfo", [])),
    "set_connection_type": ENVELOPE.format(action(IP1, "SetConnectionType", [("NewConnectionType", "IP_Routed")])),
    "get_total_bytes": ENVELOPE.format(action(COMMON, "GetTotalBytesSent", [])),
    "get_common_link": ENVELOPE.format(action(COMMON, "GetCommonLinkProperties", [])),
    "set_default_service": ENVELOPE.format(action(L3F, "SetDefaultConnectionService", [("NewDefaultConnectionService", "uuid:x:WANConnectionDevice:1,urn:upnp-org:serviceId:WANIPConn1")])),
    "windows_add_port_mapping": WINDOWS.format(action(IP1, "AddPortMapping", [(k, v if k != "NewPortMappingDescription" else "Remote Assistance") for k, v in ADD], "m", "\r\n")),
    "cdata_description": ENVELOPE.format(action(IP1, "AddPortMapping", ADD[:6] + [("NewPortMappingDescription", "<![CDATA[<b>cdata</b>]]>"), ("NewLeaseDuration", "604801")])),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "corpus", "soap_actions")
    os.makedirs(out, exist_ok=True)
    for name, body in BODIES.items():
        with open(os.path.join(out, name + ".xml"), "w", newline="") as f:
            f.write(body)


if __name__ == "__main__":
    main()

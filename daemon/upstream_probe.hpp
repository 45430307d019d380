// gatewayd --upstream-probe: what the NAT upstream of a WAN interface offers, asked by
// hand (an operator's diagnosis, and the lab test's driver): discovery as the daemon does
// it, then optionally one mapping made and deleted, all printed as one JSON object. Touches
// no config, no engine and no firewall rule: it runs beside a running gatewayd (whose
// firewall its packets cross like the daemon's own) or on a host without one.
#pragma once

namespace gw {

// argv[1] is "--upstream-probe". Exit status 0 when a service answered (and the mapping
// asked for was made and deleted), 1 when not, 2 on a usage error.
int upstream_probe_command(int argc, char** argv);

}  // namespace gw

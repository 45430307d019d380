// The user-facing configuration reference, rendered from the schema so that it cannot
// drift from what the loader accepts. docs/configuration.md is this function's output,
// byte for byte; a unit test fails when they differ.
#pragma once

#include <string>

namespace gw {

// The whole of docs/configuration.md: a short introduction and a table with one row per
// key (key, type, default, description), in schema order.
std::string config_reference_markdown();

// The KEYS section of docs/man/gateway.yaml.5 (troff, from ".SH KEYS" up to the next
// section), one entry per key in schema order: the same keys, types, defaults and
// descriptions as the markdown. A unit test compares the man page with it.
std::string config_reference_man_keys();

}  // namespace gw

// The user-facing configuration reference, rendered from the schema so that it cannot
// drift from what the loader accepts. docs/configuration.md is this function's output,
// byte for byte; a unit test fails when they differ.
#pragma once

#include <string>

namespace gw {

// The whole of docs/configuration.md: a short introduction and a table with one row per
// key (key, type, default, description), in schema order.
std::string config_reference_markdown();

}  // namespace gw

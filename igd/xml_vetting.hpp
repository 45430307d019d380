// The gate in front of libixml: every body the IGD's front end would hand to pupnp (SOAP
// actions, any GENA body) is first read whole by expat, a strict and well-kept parser,
// and only a plain, shallow, well-formed document passes. pupnp 1.8.4's ixmlParseBuffer
// reads far past its buffer on inputs like `<?v"?>\r\n<s:Envelope xmlns:s="1"><Nmo.1.1pe>\r\n&#x`
// (an element left open, then an unterminated character reference; issue 14 item 11), and
// its cost grows faster than the nesting (50 000 levels: 41 s of CPU). Refused:
//   - anything expat does not accept as well-formed XML 1.0 in UTF-8 or US-ASCII;
//   - a DOCTYPE (so no DTD, no entity declarations, no entity expansion at all: only
//     the five predefined entities and well-formed numeric character references);
//   - processing instructions and comments (a SOAP request has neither);
//   - nesting deeper than 16 (SOAP needs about 5), more than 512 elements, or more than
//     the size limit.
#pragma once

#include <cstddef>
#include <string_view>

namespace gw {

inline constexpr std::size_t xml_max_depth = 16;
inline constexpr std::size_t xml_max_elements = 512;
inline constexpr std::size_t xml_max_bytes = 16384;

bool vet_xml_body(std::string_view body);

}  // namespace gw

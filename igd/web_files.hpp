// Serves the IGD's XML documents (the SCPDs; pupnp serves the root description
// itself) from memory through a pupnp virtual directory: no web root on disk, nothing
// writable, nothing to browse — only the exact paths registered here answer.
#pragma once

#include <map>
#include <string>

namespace gw {

class WebFiles {
public:
    // path (e.g. "/igd/WANIPCn.xml") -> document; registered before start()
    void add(const std::string& path, std::string content);
    // Registers the virtual directory `prefix` (e.g. "/igd") with pupnp; call after UpnpInit2.
    // Returns a pupnp error code (UPNP_E_SUCCESS = 0).
    int start(const std::string& prefix);

    const std::string* find(const std::string& path) const;

private:
    std::map<std::string, std::string> files_;
};

}  // namespace gw

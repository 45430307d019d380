#include "web_files.hpp"

#include <upnp/upnp.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace gw {
namespace {

// An open document: pupnp reads it in pieces.
struct OpenFile {
    const std::string* content;
    std::size_t position = 0;
};

const WebFiles* files_of(const void* cookie) { return static_cast<const WebFiles*>(cookie); }

int get_info(const char* filename, UpnpFileInfo* info, const void* cookie) {
    const std::string* content = files_of(cookie)->find(filename);
    if (!content) return -1;
    UpnpFileInfo_set_FileLength(info, off_t(content->size()));
    UpnpFileInfo_set_LastModified(info, std::time(nullptr));
    UpnpFileInfo_set_IsDirectory(info, 0);
    UpnpFileInfo_set_IsReadable(info, 1);
    UpnpFileInfo_set_ContentType(info, const_cast<char*>("text/xml; charset=\"utf-8\""));
    return 0;
}

UpnpWebFileHandle open_file(const char* filename, enum UpnpOpenFileMode mode, const void* cookie) {
    if (mode != UPNP_READ) return nullptr;  // nothing here is writable
    const std::string* content = files_of(cookie)->find(filename);
    return content ? new OpenFile{content} : nullptr;
}

int read_file(UpnpWebFileHandle handle, char* buffer, std::size_t length, const void*) {
    auto* file = static_cast<OpenFile*>(handle);
    std::size_t n = std::min(length, file->content->size() - file->position);
    std::memcpy(buffer, file->content->data() + file->position, n);
    file->position += n;
    return int(n);
}

int refuse_write(UpnpWebFileHandle, char*, std::size_t, const void*) { return -1; }

int seek_file(UpnpWebFileHandle handle, off_t offset, int origin, const void*) {
    auto* file = static_cast<OpenFile*>(handle);
    off_t base = origin == SEEK_SET ? 0 : origin == SEEK_CUR ? off_t(file->position) : off_t(file->content->size());
    off_t target = base + offset;
    if (target < 0 || target > off_t(file->content->size())) return -1;
    file->position = std::size_t(target);
    return 0;
}

int close_file(UpnpWebFileHandle handle, const void*) {
    delete static_cast<OpenFile*>(handle);
    return 0;
}

}  // namespace

void WebFiles::add(const std::string& path, std::string content) { files_[path] = std::move(content); }

const std::string* WebFiles::find(const std::string& path) const {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
}

int WebFiles::start(const std::string& prefix) {
    UpnpVirtualDir_set_GetInfoCallback(get_info);
    UpnpVirtualDir_set_OpenCallback(open_file);
    UpnpVirtualDir_set_ReadCallback(read_file);
    UpnpVirtualDir_set_WriteCallback(refuse_write);
    UpnpVirtualDir_set_SeekCallback(seek_file);
    UpnpVirtualDir_set_CloseCallback(close_file);
    return UpnpAddVirtualDir(prefix.c_str(), this, nullptr);
}

}  // namespace gw

// Reading a configuration file: only a regular file, and only up to
// max_config_file_bytes, so that a wrong path (a FIFO, /dev/zero, a disk image) is
// refused at once instead of hanging the checker or filling its memory.
#include <cerrno>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/gateway_config.hpp"

namespace gw {
namespace {

ConfigLoadResult refusal(const std::string& path, std::string message) {
    return {std::nullopt, {{path, 0, 0, std::move(message)}}, 0, {}};
}

ConfigLoadResult cannot_read(const std::string& path, int error) {
    return refusal(path, "cannot read: " + std::generic_category().message(error));
}

const char* kind_of(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a file";
}

std::string too_big(std::string_view size) {
    return "the file is " + std::string(size) + " bytes; a configuration file has at most " +
           std::to_string(max_config_file_bytes) + " bytes (1 MiB)";
}

class Descriptor {
public:
    explicit Descriptor(int fd) : fd_(fd) {}
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    ~Descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

ConfigLoadResult load_config_file(const std::string& path) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    Descriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (file.get() < 0) return cannot_read(path, errno);
    struct stat status {};
    if (::fstat(file.get(), &status) != 0) return cannot_read(path, errno);
    if (S_ISDIR(status.st_mode)) return cannot_read(path, EISDIR);
    if (!S_ISREG(status.st_mode)) {
        return refusal(path, std::string("not a regular file but ") + kind_of(status.st_mode) +
                                 "; give the path of the configuration file itself");
    }
    if (std::size_t(status.st_size) > max_config_file_bytes) return refusal(path, too_big(std::to_string(status.st_size)));
    // One byte past the limit tells a file that grew since fstat(), or one whose size
    // the kernel does not report (procfs), from one that fits.
    std::string text(max_config_file_bytes + 1, '\0');
    std::size_t length = 0;
    while (length < text.size()) {
        ssize_t n = ::read(file.get(), text.data() + length, text.size() - length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return cannot_read(path, errno);
        if (n == 0) break;
        length += std::size_t(n);
    }
    if (length > max_config_file_bytes) return refusal(path, too_big("more than " + std::to_string(max_config_file_bytes)));
    text.resize(length);
    return load_config_text(text, path);
}

}  // namespace gw

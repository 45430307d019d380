#include "igd/lease_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "base/line_journal.hpp"

namespace gw {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";
// Far above 1024 mappings of a few hundred bytes: anything larger is not ours.
constexpr std::size_t max_lease_file_bytes = 16 * 1024 * 1024;

std::string escaped(std::string_view text) {
    std::string out;
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += hex_digits[byte >> 4];
            out += hex_digits[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<Port> parse_port(std::string_view text) {
    auto n = whole_number<std::uint32_t>(text);
    if (!n || *n == 0 || *n > 65535) return std::nullopt;
    return Port{std::uint16_t(*n)};
}

std::optional<unsigned> parse_hex_byte(std::string_view two) {
    unsigned value = 0;
    if (two.size() != 2) return std::nullopt;
    auto [end, ec] = std::from_chars(two.data(), two.data() + 2, value, 16);
    if (ec != std::errc() || end != two.data() + 2) return std::nullopt;
    return value;
}

// A line being read left to right.
struct LineReader {
    std::string_view rest;

    void skip_spaces() {
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    }
    std::string_view next_word() {
        skip_spaces();
        auto word = rest.substr(0, rest.find(' '));
        rest.remove_prefix(word.size());
        return word;
    }
    // After "desc=": a quoted, escaped string that ends the line.
    Expected<std::string> description() {
        rest.remove_prefix(std::string_view("desc=").size());
        if (rest.empty() || rest.front() != '"') return unexpected(Error{"description must be quoted"});
        std::string out;
        for (std::size_t i = 1; i < rest.size(); ++i) {
            char c = rest[i];
            if (c == '"') {
                auto after = rest.substr(i + 1);
                if (after.find_first_not_of(' ') != std::string_view::npos)
                    return unexpected(Error{"unexpected text after description: " + in_quotes(after)});
                return out;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i + 1 >= rest.size()) break;
            char e = rest[++i];
            if (e == '"' || e == '\\') {
                out += e;
            } else if (auto byte = e == 'x' ? parse_hex_byte(rest.substr(i + 1, 2)) : std::nullopt) {
                out += char(*byte);
                i += 2;
            } else {
                return unexpected(Error{"bad escape " + in_quotes(std::string("\\") + e) + " in description"});
            }
        }
        return unexpected(Error{"unterminated description"});
    }
};

struct SavedLine {
    PortMapping mapping;
    std::optional<std::int64_t> expires_wall;  // nullopt = never
};

Expected<Endpoint> parse_internal(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return unexpected(Error{"bad internal endpoint " + in_quotes(text)});
    auto address = Ipv4Address::parse(text.substr(0, colon));
    if (!address) return unexpected(Error{"bad address " + in_quotes(text.substr(0, colon))});
    auto port = parse_port(text.substr(colon + 1));
    if (!port) return unexpected(Error{"bad port " + in_quotes(text.substr(colon + 1))});
    return Endpoint{*address, *port};
}

// One key=value field into `saved`.
Expected<void> parse_field(std::string_view key, std::string_view value, SavedLine& saved) {
    PortMapping& m = saved.mapping;
    if (key == "owner") {
        auto owner = Ipv4Address::parse(value);
        if (!owner) return unexpected(Error{"bad owner address " + in_quotes(value)});
        m.owner = *owner;
    } else if (key == "remote") {
        if (value != "*") {
            m.remote_host = Ipv4Address::parse(value);
            if (!m.remote_host) return unexpected(Error{"bad remote host " + in_quotes(value)});
        }
    } else if (key == "expires") {
        if (value != "never") {
            saved.expires_wall = whole_number<std::int64_t>(value);
            if (!saved.expires_wall) return unexpected(Error{"bad expires " + in_quotes(value)});
        }
    } else if (key == "enabled") {
        if (value != "0" && value != "1") return unexpected(Error{"bad enabled " + in_quotes(value) + " (0 or 1)"});
        m.enabled = value == "1";
    } else if (key == "nonce") {
        PcpNonce nonce{};
        if (value.size() != 2 * nonce.size()) return unexpected(Error{"bad nonce " + in_quotes(value) + " (24 hex digits)"});
        for (std::size_t i = 0; i < nonce.size(); ++i) {
            auto byte = parse_hex_byte(value.substr(2 * i, 2));
            if (!byte) return unexpected(Error{"bad nonce " + in_quotes(value) + " (24 hex digits)"});
            nonce[i] = std::uint8_t(*byte);
        }
        m.pcp_nonce = nonce;
    }
    return {};
}

Expected<SavedLine> parse_line(std::string_view line) {
    LineReader reader{line};
    SavedLine saved;
    PortMapping& m = saved.mapping;

    auto protocol = reader.next_word();
    if (protocol == "tcp") m.protocol = Protocol::tcp;
    else if (protocol == "udp") m.protocol = Protocol::udp;
    else return unexpected(Error{"bad protocol " + in_quotes(protocol)});

    auto external = reader.next_word();
    auto external_port = parse_port(external);
    if (!external_port) return unexpected(Error{"bad port " + in_quotes(external)});
    m.external = *external_port;

    auto internal = parse_internal(reader.next_word());
    if (!internal) return unexpected(std::move(internal).error());
    m.internal = *internal;

    // Every field exactly once, nonce at most once (only PCP mappings have one); desc last.
    std::set<std::string_view, std::less<>> missing{"owner", "remote", "expires", "enabled", "desc"};
    bool nonce_seen = false;
    for (reader.skip_spaces(); !reader.rest.empty(); reader.skip_spaces()) {
        if (reader.rest.starts_with("desc=")) {
            auto description = reader.description();
            if (!description) return unexpected(std::move(description).error());
            m.description = std::move(*description);
            missing.erase("desc");
            break;
        }
        auto word = reader.next_word();
        auto eq = word.find('=');
        if (eq == std::string_view::npos) return unexpected(Error{"expected key=value, got " + in_quotes(word)});
        auto key = word.substr(0, eq);
        bool first_nonce = key == "nonce" && !std::exchange(nonce_seen, true);
        if (!missing.contains(key) && !first_nonce) {
            bool known = key == "owner" || key == "remote" || key == "expires" || key == "enabled" || key == "nonce";
            return unexpected(Error{(known ? "duplicate field " : "unknown field ") + in_quotes(key)});
        }
        missing.erase(key);
        if (auto field = parse_field(key, word.substr(eq + 1), saved); !field) return unexpected(std::move(field).error());
    }
    if (!missing.empty()) return unexpected(Error{"missing field " + in_quotes(*missing.begin())});
    return saved;
}

// (protocol, external port): what a journal line adds or removes.
using LeaseKey = std::pair<Protocol, std::uint16_t>;

// After "del ": "tcp 3389".
Expected<LeaseKey> parse_removal(std::string_view text) {
    LineReader reader{text};
    auto protocol_word = reader.next_word();
    Protocol protocol;
    if (protocol_word == "tcp") protocol = Protocol::tcp;
    else if (protocol_word == "udp") protocol = Protocol::udp;
    else return unexpected(Error{"bad protocol " + in_quotes(protocol_word)});
    auto port_word = reader.next_word();
    auto port = parse_port(port_word);
    if (!port) return unexpected(Error{"bad port " + in_quotes(port_word)});
    reader.skip_spaces();
    if (!reader.rest.empty()) return unexpected(Error{"unexpected text after removal: " + in_quotes(reader.rest)});
    return LeaseKey{protocol, port->value};
}

Unexpected<Error> system_error(std::string_view what, const std::string& path, int error_number) {
    return unexpected(Error{std::string(what) + " " + path + ": " + std::strerror(error_number)});
}

}  // namespace

std::string serialize_lease_line(const PortMapping& m, std::int64_t wall_clock_now_seconds, Instant engine_now) {
    std::string out(protocol_name(m.protocol));
    out += ' ' + std::to_string(m.external.value) + ' ' + to_string(m.internal);
    out += " owner=" + m.owner.to_string();
    out += " remote=" + (m.remote_host ? m.remote_host->to_string() : std::string("*"));
    out += " expires=";
    out += m.expires ? std::to_string(wall_clock_now_seconds + remaining_lease_seconds(m, engine_now)) : "never";
    out += m.enabled ? " enabled=1" : " enabled=0";
    // Only PCP mappings have one: a file without PCP mappings stays readable by a
    // daemon that predates the field.
    if (m.pcp_nonce) {
        out += " nonce=";
        for (auto byte : *m.pcp_nonce) {
            out += hex_digits[byte >> 4];
            out += hex_digits[byte & 0xf];
        }
    }
    out += " desc=\"" + escaped(m.description) + "\"\n";
    return out;
}

std::string serialize_lease_removal(Protocol protocol, Port external) {
    return std::string(removal_keyword) + ' ' + std::string(protocol_name(protocol)) + ' ' +
           std::to_string(external.value) + '\n';
}

std::string serialize_leases(const std::vector<PortMapping>& mappings, std::int64_t wall_clock_now_seconds,
                             Instant engine_now) {
    std::string out(lease_file_header);
    out += '\n';
    for (const auto& m : mappings) {
        if (m.expires && *m.expires <= engine_now) continue;
        out += serialize_lease_line(m, wall_clock_now_seconds, engine_now);
    }
    return out;
}

LeaseFileReadResult parse_leases(std::string_view text, std::int64_t wall_clock_now_seconds, Instant engine_now,
                                 std::string_view source_name) {
    LeaseFileReadResult result;
    std::map<LeaseKey, SavedLine> live;
    auto read_line = [&](std::string_view line) -> Expected<void> {
        if (line.starts_with(removal_keyword) && line.size() > removal_keyword.size() &&
            line[removal_keyword.size()] == ' ') {
            auto key = parse_removal(line.substr(removal_keyword.size() + 1));
            if (!key) return unexpected(std::move(key).error());
            live.erase(*key);
            return {};
        }
        auto saved = parse_line(line);
        if (!saved) return unexpected(std::move(saved).error());
        LeaseKey key{saved->mapping.protocol, saved->mapping.external.value};
        live.insert_or_assign(key, std::move(*saved));
        return {};
    };
    LineJournalRead read = read_line_journal(text, {lease_file_header, "lease file"}, source_name, read_line);
    result.errors = std::move(read.errors);
    result.lines = read.lines;
    // The journal's last word on each key is what was acknowledged last.
    for (auto& [key, saved] : live) {
        if (saved.expires_wall) {
            auto remaining = *saved.expires_wall - wall_clock_now_seconds;
            if (remaining <= 0) {
                ++result.expired;
                continue;
            }
            // A clock far off at save time must not overflow engine time; restore caps it.
            remaining = std::min<std::int64_t>(remaining, 0xffffffffLL);
            saved.mapping.expires = engine_now + std::chrono::seconds(remaining);
        }
        result.mappings.push_back(std::move(saved.mapping));
    }
    return result;
}

Expected<void> write_lease_file_atomically(const std::string& path, std::string_view text) {
    std::string directory = std::filesystem::path(path).parent_path().string();
    if (directory.empty()) directory = ".";
    std::string temporary = path + ".tmp.XXXXXX";
    int fd = mkostemp(temporary.data(), O_CLOEXEC);  // mode 0600: the file names LAN hosts
    if (fd < 0) return system_error("cannot create", temporary, errno);

    auto fail = [&](std::string_view what, const std::string& subject) {
        int saved_errno = errno;
        if (fd >= 0) close(fd);
        unlink(temporary.c_str());
        return system_error(what, subject, saved_errno);
    };
    for (std::size_t written = 0; written < text.size();) {
        auto n = write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("cannot write", temporary);
        written += std::size_t(n);
    }
    if (fsync(fd) != 0) return fail("cannot fsync", temporary);
    int closed = close(fd);
    fd = -1;
    if (closed != 0) return fail("cannot close", temporary);
    if (rename(temporary.c_str(), path.c_str()) != 0) return fail("cannot rename " + temporary + " to", path);

    // The rename is durable only once the directory entry is on disk.
    int dir_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return system_error("cannot open directory", directory, errno);
    int synced = fsync(dir_fd);
    int saved_errno = errno;
    close(dir_fd);
    if (synced != 0) return system_error("cannot fsync directory", directory, saved_errno);
    return {};
}

Expected<std::string> read_lease_file(const std::string& path) {
    std::string text;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return text;
        return system_error("cannot open", path, errno);
    }
    char buffer[65536];
    while (true) {
        auto n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int saved_errno = errno;
            close(fd);
            return system_error("cannot read", path, saved_errno);
        }
        if (n == 0) break;
        if (text.size() + std::size_t(n) > max_lease_file_bytes) {
            close(fd);
            return unexpected(
                Error{"cannot read " + path + ": larger than " + std::to_string(max_lease_file_bytes) + " bytes"});
        }
        text.append(buffer, std::size_t(n));
    }
    close(fd);
    return text;
}

}  // namespace gw

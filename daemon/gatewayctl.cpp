// gatewayctl: asks the running gatewayd over its control socket (control_socket.hpp)
// and prints the answer as tables, or as the daemon's JSON with --json. Errors are one
// line on stderr and a non-zero exit: 1 the daemon refused or failed, 2 usage, 3 the
// daemon cannot be reached.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control_json.hpp"
#include "prometheus_metrics.hpp"
#include "status_text.hpp"

namespace {

constexpr int exit_ok = 0, exit_refused = 1, exit_usage = 2, exit_unreachable = 3;

const char* usage_text =
    "usage: gatewayctl [--socket PATH] [--json] COMMAND... (options go anywhere on the line, a\n"
    "       command's too: \"--json status --all\", \"status --all --json\" and \"--all status --json\" are one)\n"
    "\n"
    "  status [--all]                       version, uptime, WAN, counts, non-zero counters, warnings\n"
    "                                       (--all: every figure, zero included)\n"
    "  flows [SELECTORS]                    tracked connections, like conntrack -L: packets and bytes\n"
    "                                       (both directions), seconds left before the idle timeout\n"
    "  flows delete SELECTORS               end the selected flows (at least one selector); their NAT\n"
    "                                       mappings go as when they expire, later packets are new\n"
    "    SELECTORS: --proto tcp|udp|icmp  --host ADDR (either end)  --port N (any of the ports)\n"
    "               --internal ADDR:PORT  --remote ADDR:PORT (all given must match; a 5-tuple is\n"
    "               --proto with --internal and --remote)\n"
    "  rules                                each firewall rule and policy with its packets and bytes\n"
    "  mappings                             UPnP/NAT-PMP/PCP mappings and forwards, with the packets\n"
    "                                       and bytes of the connections each let in\n"
    "  mappings delete tcp|udp PORT         remove a UPnP mapping (lease file and GENA follow)\n"
    "  forwards [list]                      static and timed forwards, time left, packets and bytes\n"
    "  forwards enable|disable NAME         switch a static forward until the next reload\n"
    "  forwards delete NAME                 close a timed forward before its time\n"
    "  forwards add NAME tcp|udp PORT ADDRESS:PORT --for DURATION\n"
    "                                       a forward that closes by itself (30s, 10m, 2h)\n"
    "  reload                               re-read the configuration file (as SIGHUP)\n"
    "  metrics                              status's, rules' and mappings' counters in the Prometheus text\n"
    "                                       format\n"
    "  capture [--mapping PORT/PROTO | --rule NAME | --host ADDR] [--count N] [--seconds S] [--force] -w FILE\n"
    "                                       the packets gatewayd judges, before and after translation, into\n"
    "                                       a pcap file (100 records / 10 s unless told; max 100000 / 3600)\n"
    "  capture status|stop                  the running capture's progress, or end it now\n"
    "  flows6 [SELECTORS]                   tracked IPv6 flows (no NAT: the addresses on the wire);\n"
    "                                       SELECTORS as for flows, --proto icmpv6, [ADDR]:PORT ends\n"
    "  flows6 delete SELECTORS              end the selected IPv6 flows\n"
    "  pinholes                             open IPv6 pinholes and the packets each let in\n"
    "  pinhole add tcp|udp|any CLIENT PORT [REMOTE|* [REMOTE_PORT]] [--for LEASE]\n"
    "                                       open an IPv6 pinhole to a LAN host (LEASE up to 24h, the\n"
    "                                       default), numbered and kept as UPnP's and PCP's are\n"
    "  pinhole delete ID                    close a pinhole (ID 1-32767, as pinholes lists it), whoever\n"
    "                                       opened it, and end its flows\n"
    "\n"
    "  --socket PATH  the daemon's control socket (default /run/gatewayd/control.sock)\n"
    "  --json         print the daemon's JSON answer as is\n"
    "  --version      print gatewayctl's version and exit\n"
    "  --help, -h     print this text and exit\n"
    "\n"
    "exit status: 0 done, 1 refused by gatewayd, 2 usage error, 3 gatewayd unreachable\n";

std::string scalar_text(const gw::JsonValue& v) {
    if (const auto* s = v.string()) return *s;
    if (std::holds_alternative<std::nullptr_t>(v.value)) return "-";
    return gw::to_json(v);
}

// Rows of objects as aligned columns, headed by the first row's keys.
void print_table(const gw::JsonValue::Array& rows) {
    if (rows.empty() || !rows.front().object()) {
        std::puts("  (none)");
        return;
    }
    std::vector<std::string> keys;
    for (const auto& [k, v] : *rows.front().object()) keys.push_back(k);
    std::vector<std::vector<std::string>> cells{keys};
    for (const auto& row : rows) {
        std::vector<std::string> line;
        for (const auto& k : keys) line.push_back(row.member(k) ? scalar_text(*row.member(k)) : "");
        cells.push_back(std::move(line));
    }
    std::vector<std::size_t> width(keys.size(), 0);
    for (const auto& line : cells)
        for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
    for (const auto& line : cells) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i)
            text += line[i] + (i + 1 < line.size() ? std::string(width[i] - line[i].size() + 2, ' ') : "");
        std::puts(text.c_str());
    }
}

// Scalars as "key: value" (nested objects with dotted keys), arrays of objects as tables.
void print_object(const gw::JsonValue::Object& object, const std::string& prefix) {
    for (const auto& [key, value] : object) {
        if (prefix.empty() && key == "ok") continue;
        if (const auto* inner = value.object()) {
            print_object(*inner, prefix + key + ".");
        } else if (const auto* items = value.array()) {
            bool scalars = !items->empty() && !items->front().object();
            if (scalars) {
                for (const auto& item : *items) std::printf("%s%s: %s\n", prefix.c_str(), key.c_str(), scalar_text(item).c_str());
            } else {
                std::printf("%s%s:\n", prefix.c_str(), key.c_str());
                print_table(*items);
            }
        } else {
            std::printf("%s%s: %s\n", prefix.c_str(), key.c_str(), scalar_text(value).c_str());
        }
    }
}

// Sends the request line, returns the whole answer; "" and `problem` set on failure.
std::string ask(const std::string& path, const std::string& request, std::string& problem) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) {
        problem = "socket path too long: " + path;
        return "";
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            problem = "gatewayd is not running (nothing answers on " + path + ": " + std::strerror(e) + ")";
        else if (e == EACCES || e == EPERM) problem = "permission denied on " + path + " (gatewayctl needs root)";
        else problem = "cannot connect to " + path + ": " + std::strerror(e);
        return "";
    }
    std::string line = request + "\n", answer;
    if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != ssize_t(line.size())) {
        problem = std::string("cannot send the request: ") + std::strerror(errno);
        close(fd);
        return "";
    }
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            problem = std::string("no answer from gatewayd: ") + std::strerror(errno);
            break;
        }
        answer.append(buffer, std::size_t(n));
    }
    close(fd);
    if (answer.empty() && problem.empty()) problem = "gatewayd closed the connection without an answer";
    return problem.empty() ? answer : "";
}

// One request: the parsed answer, or an exit code with its line already on stderr.
// The daemon marks a request it could not understand ("usage": true): exit 2, as for
// gatewayctl's own usage errors, not 1 (refused).
bool is_usage_error(const gw::JsonValue& answer) {
    const gw::JsonValue* usage = answer.member("usage");
    return usage && std::get_if<bool>(&usage->value) && std::get<bool>(usage->value);
}

struct Reply {
    std::string text;
    std::optional<gw::JsonValue> json;
    int exit_code = exit_ok;
};

Reply request(const std::string& socket_path, const std::vector<std::string>& words) {
    std::vector<std::string> quoted;
    for (const auto& w : words) quoted.push_back(gw::json_quote(w));
    std::string problem;
    Reply reply;
    reply.text = ask(socket_path, gw::json_array(quoted), problem);
    if (!problem.empty()) {
        std::fprintf(stderr, "gatewayctl: %s\n", problem.c_str());
        reply.exit_code = exit_unreachable;
        return reply;
    }
    reply.json = gw::parse_json(reply.text);
    const gw::JsonValue* ok = reply.json ? reply.json->member("ok") : nullptr;
    if (!ok || !reply.json->object()) {
        std::fprintf(stderr, "gatewayctl: gatewayd answered something that is not a JSON object\n");
        reply.exit_code = exit_refused;
    } else if (!(std::get_if<bool>(&ok->value) && std::get<bool>(ok->value))) {
        const gw::JsonValue* error = reply.json->member("error");
        std::fprintf(stderr, "gatewayctl: %s\n", error && error->string() ? error->string()->c_str() : "refused");
        reply.exit_code = is_usage_error(*reply.json) ? exit_usage : exit_refused;
    }
    return reply;
}

std::string member_text(const gw::JsonValue& object, std::string_view key) {
    const gw::JsonValue* v = object.member(key);
    return v ? scalar_text(*v) : "";
}

// `capture ... -w FILE`: the daemon starts it and answers at once; its status is then
// polled every 200 ms until the capture has finished.
int run_capture(const std::string& socket_path, bool json, std::vector<std::string> words) {
    for (std::size_t i = 1; i + 1 < words.size(); ++i) {
        // The daemon resolves nothing against its own working directory: make the path absolute here.
        if (words[i] != "-w" || words[i + 1].starts_with("/")) continue;
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            std::fprintf(stderr, "gatewayctl: cannot resolve %s: %s\n", words[i + 1].c_str(), std::strerror(errno));
            return exit_usage;
        }
        words[i + 1] = std::string(cwd) + "/" + words[i + 1];
    }
    words.insert(words.begin() + 1, "start");
    Reply reply = request(socket_path, words);
    const std::string path = reply.json ? member_text(*reply.json, "path") : "";
    while (reply.exit_code == exit_ok && member_text(*reply.json, "state") == "running") {
        timespec pause{0, 200'000'000};
        nanosleep(&pause, nullptr);
        reply = request(socket_path, {"capture", "status"});
        if (reply.exit_code == exit_ok && member_text(*reply.json, "path") != path) {
            std::fprintf(stderr, "gatewayctl: the capture to %s was replaced by another one\n", path.c_str());
            return exit_refused;
        }
    }
    if (reply.exit_code != exit_ok) return reply.exit_code;
    if (json) std::fputs(reply.text.c_str(), stdout);
    else std::printf("%s packets written to %s\n", member_text(*reply.json, "records").c_str(), path.c_str());
    return exit_ok;
}

// `status` for a person (status_text.hpp); `status --all`: every figure as name: value;
// with --json the daemon's answer, which is always complete (--all or not).
int print_status(const std::string& socket_path, const std::vector<std::string>& words, bool json) {
    bool all = words.size() == 2 && words[1] == "--all";
    if (words.size() > 1 && !all) {
        std::fprintf(stderr, "gatewayctl: status takes only --all\n%s", usage_text);
        return exit_usage;
    }
    Reply reply = request(socket_path, {"status"});
    if (reply.exit_code != exit_ok) return reply.exit_code;
    if (json) std::fputs(reply.text.c_str(), stdout);
    else if (all) print_object(*reply.json->object(), "");
    else std::fputs(gw::status_text(*reply.json).c_str(), stdout);
    return exit_ok;
}

// `metrics`: the status answer rendered for Prometheus (prometheus_metrics.hpp).
int print_metrics(const std::string& socket_path, const std::vector<std::string>& words) {
    if (words.size() != 1) {
        std::fprintf(stderr, "gatewayctl: metrics takes no arguments\n%s", usage_text);
        return exit_usage;
    }
    Reply status = request(socket_path, {"status"});
    if (status.exit_code != exit_ok) return status.exit_code;
    Reply rules = request(socket_path, {"rules"});
    if (rules.exit_code != exit_ok) return rules.exit_code;
    Reply mappings = request(socket_path, {"mappings"});
    if (mappings.exit_code != exit_ok) return mappings.exit_code;
    std::fputs(gw::prometheus_metrics(*status.json, &*rules.json, &*mappings.json).c_str(), stdout);
    return exit_ok;
}

// An option before the command that is not gatewayctl's own is the command's ("--all
// status" is "status --all", "--proto tcp flows" is "flows --proto tcp"): gatewayctl
// moves it after the command's words, where the command reads it (and refuses one it
// does not know, as it would there). How many words of value follow it: those of the
// commands' options that take one, else none.
int command_option_values(std::string_view option) {
    static const std::set<std::string_view> with_value = {"--proto", "--host",  "--port",    "--for", "--mapping",
                                                          "--rule",  "--count", "--seconds", "-w"};
    return with_value.contains(option) ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket_path = "/run/gatewayd/control.sock";
    bool json = false;
    std::vector<std::string> words, leading_options;
    // gatewayctl's own options go anywhere ("status --json" as well as "--json status");
    // any other option after the command is the command's (flows --proto, capture --rule),
    // and a command's option before the command is moved after it.
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--socket") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "gatewayctl: --socket needs a path\n%s", usage_text);
                return exit_usage;
            }
            socket_path = argv[++i];
        } else if (a == "--json") json = true;
        else if (a == "--help" || a == "-h") return std::fputs(usage_text, stdout), exit_ok;
        else if (a == "--version") return std::puts("gatewayctl " GATEWAYD_VERSION), exit_ok;
        else if (words.empty() && a.starts_with("-")) {
            const int values = command_option_values(a);
            if (i + values >= argc) {
                std::fprintf(stderr, "gatewayctl: %s needs a value\n%s", a.c_str(), usage_text);
                return exit_usage;
            }
            leading_options.push_back(a);
            for (int v = 0; v < values; ++v) leading_options.push_back(argv[++i]);
        } else words.push_back(a);
    }
    if (!words.empty()) words.insert(words.end(), leading_options.begin(), leading_options.end());
    if (words.empty() && !leading_options.empty()) {
        std::fprintf(stderr, "gatewayctl: '%s' without a command\n%s", leading_options.front().c_str(), usage_text);
        return exit_usage;
    }
    if (words.empty()) {
        std::fputs(usage_text, stderr);
        return exit_usage;
    }
    if (words.front() == "capture" && (words.size() < 2 || (words[1] != "status" && words[1] != "stop")))
        return run_capture(socket_path, json, words);
    if (words.front() == "metrics") return print_metrics(socket_path, words);
    if (words.front() == "status") return print_status(socket_path, words, json);
    std::vector<std::string> quoted;
    for (const auto& w : words) quoted.push_back(gw::json_quote(w));
    std::string problem;
    std::string answer = ask(socket_path, gw::json_array(quoted), problem);
    if (!problem.empty()) {
        std::fprintf(stderr, "gatewayctl: %s\n", problem.c_str());
        return exit_unreachable;
    }
    auto parsed = gw::parse_json(answer);
    const gw::JsonValue* ok = parsed ? parsed->member("ok") : nullptr;
    if (!ok || !parsed->object()) {
        std::fprintf(stderr, "gatewayctl: gatewayd answered something that is not a JSON object\n");
        return exit_refused;
    }
    bool succeeded = std::get_if<bool>(&ok->value) && std::get<bool>(ok->value);
    if (json) std::fputs(answer.c_str(), stdout);
    if (!succeeded) {
        const gw::JsonValue* error = parsed->member("error");
        std::fprintf(stderr, "gatewayctl: %s\n", error && error->string() ? error->string()->c_str() : "refused");
        if (const gw::JsonValue* errors = parsed->member("errors"); errors && errors->array() && !json)
            for (const auto& e : *errors->array()) std::fprintf(stderr, "  %s\n", scalar_text(e).c_str());
        return is_usage_error(*parsed) ? exit_usage : exit_refused;
    }
    if (!json) {
        if (const gw::JsonValue* message = parsed->member("message"); message && message->string())
            std::puts(message->string()->c_str());
        else print_object(*parsed->object(), "");
    }
    return exit_ok;
}

#include "command_runner.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gw {
namespace {

void close_pair(int fds[2]) {
    if (fds[0] >= 0) close(fds[0]);
    if (fds[1] >= 0) close(fds[1]);
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input) {
    CommandResult result;
    int to_child[2] = {-1, -1}, from_child[2] = {-1, -1};
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
        close_pair(to_child);
        close_pair(from_child);
        result.output = std::string("pipe: ") + std::strerror(errno);
        return result;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(to_child[0], STDIN_FILENO);
        dup2(from_child[1], STDOUT_FILENO);
        dup2(from_child[1], STDERR_FILENO);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    if (pid < 0) {
        close(to_child[1]);
        close(from_child[0]);
        result.output = std::string("fork: ") + std::strerror(errno);
        return result;
    }
    // Inputs here are a few hundred bytes, far below the pipe buffer: no deadlock.
    if (!input.empty() && write(to_child[1], input.data(), input.size()) < 0) result.output = "write to child failed\n";
    close(to_child[1]);
    char buffer[4096];
    for (ssize_t n; (n = read(from_child[0], buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        result.output.append(buffer, std::size_t(n));
    }
    close(from_child[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (result.exit_code == 127) result.output += "cannot run " + argv[0] + "\n";
    return result;
}

}  // namespace gw

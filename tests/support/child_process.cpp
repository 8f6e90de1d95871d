#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace evn_mbus::test {

child_process::child_process(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& extra_env) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        ::dup2(err_pipe[1], STDERR_FILENO);
        ::setpgid(0, 0);
        for (const auto& [k, v] : extra_env)
            ::setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

child_process::~child_process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::milliseconds(5000));
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
}

bool child_process::running() {
    if (status_) return false;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return false;
    }
    return r == 0;
}

void child_process::signal(int signo) {
    if (running()) ::kill(pid_, signo);
}

std::optional<int> child_process::wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        pump(std::chrono::milliseconds(20));
    }
    pump(std::chrono::milliseconds(0));
    return status_;
}

void child_process::pump(std::chrono::milliseconds max_wait) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    ::poll(fds, 2, static_cast<int>(max_wait.count()));
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
        for (;;) {
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) break;
            (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(n));
        }
    }
}

bool child_process::wait_until(
    const std::function<bool(const std::string&, const std::string&)>& pred,
    std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        pump(std::chrono::milliseconds(0));
        if (pred(out_, err_)) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        pump(std::chrono::milliseconds(20));
    }
}

bool child_process::wait_for_stderr(const std::string& needle, std::chrono::milliseconds limit) {
    return wait_until(
        [&](const std::string&, const std::string& e) { return e.find(needle) != e.npos; }, limit);
}

bool child_process::wait_for_stdout_lines(std::size_t n, std::chrono::milliseconds limit) {
    return wait_until(
        [&](const std::string& o, const std::string&) {
            return static_cast<std::size_t>(std::count(o.begin(), o.end(), '\n')) >= n;
        },
        limit);
}

const std::string& child_process::out() {
    pump(std::chrono::milliseconds(0));
    return out_;
}

const std::string& child_process::err() {
    pump(std::chrono::milliseconds(0));
    return err_;
}

std::vector<std::string> child_process::out_lines() {
    std::vector<std::string> lines;
    std::istringstream in(out());
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

namespace {

long status_field_kib(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(field + ":", 0) == 0)
            return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
    return 0;
}

}  // namespace

long peak_rss_kib(pid_t pid) {
    return status_field_kib(pid, "VmHWM");
}
long rss_kib(pid_t pid) {
    return status_field_kib(pid, "VmRSS");
}

std::chrono::milliseconds cpu_time(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    // After "(comm) ": state is field 3; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) utime = std::stoull(f);
        if (i == 15) stime = std::stoull(f);
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    return std::chrono::milliseconds((utime + stime) * 1000 /
                                     static_cast<unsigned long long>(ticks));
}

}  // namespace evn_mbus::test

#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// posix_spawn's file actions and attributes, destroyed however the spawn ends.
struct spawn_setup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    std::vector<int> child_ends;  // pipe ends the child gets; closed here after the spawn

    spawn_setup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~spawn_setup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        for (int& fd : child_ends)
            close_fd(fd);
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;

    // A pipe; the child's end becomes its descriptor `target`, the test keeps the other.
    int pipe_to(int target, bool child_reads) {
        int fds[2];
        // O_CLOEXEC: no other child started meanwhile (from another thread) inherits it.
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        const int child_end = child_reads ? fds[0] : fds[1];
        child_ends.push_back(child_end);
        posix_spawn_file_actions_adddup2(&actions, child_end, target);
        return child_reads ? fds[1] : fds[0];
    }

    // stdout or stderr (`target`) as `sink` says; the test's end of a pipe, or -1.
    int output(const output_sink& sink, int target) {
        switch (sink.how) {
            case output_sink::kind::capture: {
                const int fd = pipe_to(target, false);
                ::fcntl(fd, F_SETFL, O_NONBLOCK);
                return fd;
            }
            case output_sink::kind::append_to_file:
                posix_spawn_file_actions_addopen(&actions, target, sink.path.c_str(),
                                                 O_WRONLY | O_CREAT | O_APPEND, 0644);
                return -1;
            case output_sink::kind::descriptor:
                if (sink.fd >= 0) posix_spawn_file_actions_adddup2(&actions, sink.fd, target);
                return -1;
        }
        return -1;
    }
};

// The test's environment with `extra` set over it; `storage` holds the new entries.
std::vector<char*> environment(const std::map<std::string, std::string>& extra,
                               std::vector<std::string>& storage) {
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        if (extra.count(std::string(entry.substr(0, entry.find('=')))) == 0) env.push_back(*e);
    }
    storage.reserve(extra.size());
    for (const auto& [name, value] : extra)
        storage.push_back(std::string(name).append("=").append(value));
    for (auto& s : storage)
        env.push_back(s.data());
    env.push_back(nullptr);
    return env;
}

}  // namespace

child_process::child_process(spawn_options options) {
    spawn(options);
}

child_process::child_process(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& extra_env) {
    spawn_options o;
    o.argv = argv;
    o.env = extra_env;
    o.new_process_group = true;
    spawn(o);
}

void child_process::spawn(const spawn_options& o) {
    if (o.argv.empty()) throw std::invalid_argument("child_process: no program");
    spawn_setup s;
    try {
        if (o.in != input_source::inherit) in_fd_ = s.pipe_to(STDIN_FILENO, true);
        out_fd_ = s.output(o.out, STDOUT_FILENO);
        err_fd_ = s.output(o.err, STDERR_FILENO);
    } catch (...) {
        close_fd(in_fd_);  // no destructor runs for a constructor that throws
        close_fd(out_fd_);
        throw;
    }
    // Only 0, 1 and 2: the test's sockets and other children's pipes stay with the test.
    posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
    if (o.new_process_group) {
        posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&s.attr, 0);
    }
    std::vector<char*> argv;
    for (const auto& a : o.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    const std::vector<char*> env = environment(o.env, env_storage);

    started_at_ = std::chrono::steady_clock::now();
    // posix_spawnp looks a bare name up in the test's PATH (not one set in `env`).
    const int rc = ::posix_spawnp(&pid_, argv[0], &s.actions, &s.attr, argv.data(), env.data());
    if (rc != 0) {
        pid_ = -1;
        spawn_error_ = rc;
        status_ = 127;
        err_.append("cannot run ").append(o.argv[0]).append(": ").append(std::strerror(rc));
        err_.push_back('\n');
        close_fd(in_fd_);
        close_fd(out_fd_);
        close_fd(err_fd_);
        return;
    }
    if (in_fd_ >= 0) {
        // A child that ends without reading all of its input makes write() fail with EPIPE
        // instead of killing the test.
        std::signal(SIGPIPE, SIG_IGN);
        if (o.in == input_source::content) {
            input_ = o.input;
            ::fcntl(in_fd_, F_SETFL, O_NONBLOCK);
            if (input_.empty()) close_fd(in_fd_);
        }
    }
}

child_process::~child_process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        wait(5000ms);
    }
    close_fd(in_fd_);
    close_fd(out_fd_);
    close_fd(err_fd_);
}

void child_process::reap(int wait_status, long max_rss_kib) {
    status_ = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    term_signal_ = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
    max_rss_kib_ = max_rss_kib;
}

bool child_process::running() {
    if (status_) return false;
    int st = 0;
    rusage usage{};
    const pid_t r = ::wait4(pid_, &st, WNOHANG, &usage);
    if (r == pid_) {
        reap(st, usage.ru_maxrss);
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
        pump(20ms);
    }
    pump(0ms);  // what it wrote before it ended is all in the pipes now
    return status_;
}

int child_process::wait() {
    while (running())
        pump(20ms);
    pump(0ms);
    return *status_;
}

bool child_process::write_stdin(std::string_view data) {
    while (!data.empty() && in_fd_ >= 0) {
        const ssize_t n = ::write(in_fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return data.empty();
}

void child_process::close_stdin() {
    close_fd(in_fd_);
}

void child_process::pump(std::chrono::milliseconds max_wait) {
    pollfd fds[3];
    nfds_t n = 0;
    for (int fd : {out_fd_, err_fd_})
        if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
    const bool feeding = in_fd_ >= 0 && !input_.empty();
    if (feeding) fds[n++] = {in_fd_, POLLOUT, 0};
    // With nothing to watch, a short sleep: the exit is noticed by polling waitpid.
    ::poll(fds, n, static_cast<int>((n == 0 ? std::min(max_wait, 5ms) : max_wait).count()));
    char buf[4096];
    for (auto [fd, text] : {std::pair{&out_fd_, &out_}, std::pair{&err_fd_, &err_}}) {
        while (*fd >= 0) {
            const ssize_t got = ::read(*fd, buf, sizeof buf);
            if (got > 0) {
                text->append(buf, static_cast<std::size_t>(got));
            } else if (got < 0 && errno == EINTR) {
                continue;
            } else {
                // At the end (or on an error) no more will come: closed, so that poll does not
                // wake for it again and again.
                if (got == 0 || errno != EAGAIN) close_fd(*fd);
                break;
            }
        }
    }
    if (feeding) {
        const ssize_t put = ::write(in_fd_, input_.data(), input_.size());
        if (put > 0) input_.erase(0, static_cast<std::size_t>(put));
        if ((put < 0 && errno != EAGAIN && errno != EINTR) || input_.empty()) close_fd(in_fd_);
    }
}

bool child_process::finished() {
    return !running() && out_fd_ < 0 && err_fd_ < 0;
}

bool child_process::wait_until(
    const std::function<bool(const std::string&, const std::string&)>& pred,
    std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        pump(0ms);
        if (pred(out_, err_)) return true;
        if (finished() || std::chrono::steady_clock::now() >= deadline) return false;
        pump(20ms);
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

process_result run_process(const std::vector<std::string>& argv, const std::string& input) {
    spawn_options o;
    o.argv = argv;
    o.in = input_source::content;
    o.input = input;
    child_process c(std::move(o));
    process_result r;
    const int status = c.wait();
    r.status = c.term_signal() != 0 ? -1 : status;
    r.out = c.out();
    r.err = c.err();
    return r;
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

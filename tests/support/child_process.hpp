// A program run by a test the way a user or systemd runs it: its own process, stdout and
// stderr captured while it runs, signals sent to it, its exit status waited for.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evn_mbus::test {

class child_process {
  public:
    explicit child_process(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& extra_env = {});
    ~child_process();  // SIGKILL if still running
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    bool running();
    void signal(int signo);

    // Waits up to `limit` for the exit; the exit status (128+signal if killed), or nullopt.
    std::optional<int> wait(std::chrono::milliseconds limit);

    // Collects output until `pred(stdout, stderr)` holds or `limit` passes.
    bool wait_until(const std::function<bool(const std::string&, const std::string&)>& pred,
                    std::chrono::milliseconds limit);
    bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds limit);
    bool wait_for_stdout_lines(std::size_t n, std::chrono::milliseconds limit);

    const std::string& out();  // everything read so far
    const std::string& err();
    std::vector<std::string> out_lines();

  private:
    void pump(std::chrono::milliseconds max_wait);

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
    std::optional<int> status_;
};

// Peak resident set size of a process in KiB (VmHWM), or 0 if unknown; and its current RSS.
long peak_rss_kib(pid_t pid);
long rss_kib(pid_t pid);
// User+system CPU time of a process so far.
std::chrono::milliseconds cpu_time(pid_t pid);

}  // namespace evn_mbus::test

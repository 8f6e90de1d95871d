// A program run by a test the way a user or systemd runs it: its own process, stdout and
// stderr captured while it runs (or sent to a file or a descriptor), stdin fed by the test,
// signals sent to it, its exit status waited for. The one way tests start processes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evn_mbus::test {

// Where a child's stdout or stderr goes.
struct output_sink {
    enum class kind { capture, append_to_file, descriptor };
    kind how = kind::capture;
    std::string path;  // append_to_file: created if missing
    int fd = -1;       // descriptor: a copy of this one of the test's; -1: the test's own

    static output_sink capture() { return {}; }
    static output_sink append_to(std::string file) {
        return {kind::append_to_file, std::move(file), -1};
    }
    static output_sink to_fd(int fd) { return {kind::descriptor, {}, fd}; }
    static output_sink inherit() { return to_fd(-1); }
};

// Where a child's stdin comes from: the test's own, a pipe the test writes to (write_stdin,
// close_stdin), or `spawn_options::input`, written while the child runs and then closed.
enum class input_source { inherit, pipe, content };

struct spawn_options {
    std::vector<std::string> argv;           // argv[0] without a '/' is looked up in PATH
    std::map<std::string, std::string> env;  // set in the child, over the test's environment
    input_source in = input_source::inherit;
    std::string input;  // for input_source::content
    output_sink out;
    output_sink err;
    bool new_process_group = false;  // its own group: a terminal's ^C is not sent to it
};

class child_process {
  public:
    // Started with posix_spawn: the test process has threads (Paho's), and a fork child of a
    // threaded process may only call async-signal-safe functions. The child has no descriptor
    // but 0, 1 and 2 (a broker holding a copy of a test's socket keeps it open). A program
    // that cannot be run is reported as a shell does: exit status 127, the reason in err().
    explicit child_process(spawn_options options);
    // Output captured, a process group of its own, stdin the test's.
    explicit child_process(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& extra_env = {});
    ~child_process();  // SIGKILL if still running, then reaped
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }                // -1 if it could not be started
    int spawn_error() const noexcept { return spawn_error_; }  // errno; 0 once started
    // Taken just before the spawn: the child exists from about then.
    std::chrono::steady_clock::time_point started_at() const noexcept { return started_at_; }
    bool running();
    void signal(int signo);  // nothing once it has ended (its pid may be someone else's)

    // Waits up to `limit` for the exit; the exit status (128+signal if killed), or nullopt.
    std::optional<int> wait(std::chrono::milliseconds limit);
    int wait();                                                 // as long as it takes
    int term_signal() const noexcept { return term_signal_; }   // what killed it, or 0
    long max_rss_kib() const noexcept { return max_rss_kib_; }  // its peak, once reaped

    // For input_source::pipe: writes all of `data` (blocking); false if the child stopped
    // reading. close_stdin() gives it the end of its input.
    bool write_stdin(std::string_view data);
    void close_stdin();

    // Collects output until `pred(stdout, stderr)` holds or `limit` passes; false early once
    // the child has ended and its output is all read.
    bool wait_until(const std::function<bool(const std::string&, const std::string&)>& pred,
                    std::chrono::milliseconds limit);
    bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds limit);
    bool wait_for_stdout_lines(std::size_t n, std::chrono::milliseconds limit);

    const std::string& out();  // everything read so far
    const std::string& err();
    std::vector<std::string> out_lines();

  private:
    void spawn(const spawn_options& o);
    void pump(std::chrono::milliseconds max_wait);
    bool finished();  // ended, and nothing more to read
    void reap(int wait_status, long max_rss_kib);

    pid_t pid_ = -1;
    int spawn_error_ = 0;
    std::chrono::steady_clock::time_point started_at_;
    int in_fd_ = -1;
    std::string input_;  // what is left to write to in_fd_ (input_source::content)
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
    std::optional<int> status_;
    int term_signal_ = 0;
    long max_rss_kib_ = 0;
};

// Runs a program to its end with `input` on its stdin (closed at once if empty).
struct process_result {
    int status = -1;  // exit status, or -1 if it did not exit normally
    std::string out;
    std::string err;
};
process_result run_process(const std::vector<std::string>& argv, const std::string& input = {});

// Peak resident set size of a process in KiB (VmHWM), or 0 if unknown; and its current RSS.
long peak_rss_kib(pid_t pid);
long rss_kib(pid_t pid);
// User+system CPU time of a process so far.
std::chrono::milliseconds cpu_time(pid_t pid);

}  // namespace evn_mbus::test

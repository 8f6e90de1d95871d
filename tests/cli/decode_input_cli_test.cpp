// `evn-mbus decode` and `simulate --replay` against hostile and awkward input (issue 13): a
// folder or /proc/self/mem instead of a file, keys from a file or the environment, the first
// frame of a push only, a byte order mark, an xxd dump, a wrong key on a tagged meter, a
// pipe that stays open, /dev/zero.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "child_process.hpp"
#include "fixture_loader.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {
namespace {

const std::string binary = EVN_MBUS_BINARY;
const std::string fixtures = EVN_MBUS_FIXTURES_DIR;
const std::string evn = "evn_kaifa_ma309_doc";
const std::string lgz = "lgz_e450_landis_gyr_e450";

std::string key_of(const std::string& id) {
    return to_hex(capture_by_id(id).keys.key);
}

std::string file_of(const std::string& id) {
    return fixtures + "/" + id + ".hex";
}

std::size_t count_lines(const std::string& out) {
    std::size_t n = 0;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        EXPECT_TRUE(nlohmann::json::accept(line)) << line;
        ++n;
    }
    return n;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

class decode_input_cli : public ::testing::Test {
  protected:
    std::string write(const std::string& name, const std::string& content) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }

    const temp_dir tmp_{"evn-mbus-decode"};
    const std::string dir_ = tmp_.path();
};

// ---- item 1: every file error is a message and exit status 2 ----------------------------------

TEST_F(decode_input_cli, a_folder_as_capture_is_a_clear_error) {
    const auto r = run_process({binary, "decode", "--key", key_of(evn), dir_});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(
        contains(r.err, "evn-mbus decode: the capture " + dir_ + " is a folder, not a file"))
        << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(decode_input_cli, an_unreadable_file_says_why) {
    // A regular file by its mode whose read fails (EIO): the reason is the system's.
    const auto r = run_process({binary, "decode", "--key", key_of(evn), "/proc/self/mem"});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(contains(r.err, "/proc/self/mem cannot be read (Input/output error)")) << r.err;
}

TEST_F(decode_input_cli, a_missing_file_is_exit_status_2) {
    const auto r = run_process({binary, "decode", "--key", key_of(evn), dir_ + "/none.hex"});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(contains(r.err, dir_ + "/none.hex does not exist")) << r.err;
}

TEST_F(decode_input_cli, simulate_replay_of_a_folder_or_proc_mem_is_a_clear_error) {
    for (const std::string& path : {dir_, std::string("/proc/self/mem"), dir_ + "/none.hex"}) {
        const auto r = run_process(
            {binary, "simulate", "--replay", path, "--device", dir_ + "/out", "--count", "1"});
        EXPECT_EQ(r.status, 2) << path << ": " << r.err;
        EXPECT_TRUE(contains(r.err, "--replay: the capture file " + path + " ")) << r.err;
    }
    const auto folder = run_process(
        {binary, "simulate", "--replay", dir_, "--device", dir_ + "/out", "--count", "1"});
    EXPECT_TRUE(contains(folder.err, "is a folder, not a file")) << folder.err;
}

// ---- item 3: the key from a file or the environment, not the command line ----------------------

TEST_F(decode_input_cli, key_from_a_key_file_with_a_comment) {
    const std::string key_file = write("key", "# from the EVN portal\n" + key_of(evn) + "\n");
    const auto r = run_process({binary, "decode", "--key-file", key_file, file_of(evn)});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 1u);
}

TEST_F(decode_input_cli, key_and_auth_key_from_the_environment) {
    const auto& c = capture_by_id(lgz);
    const auto r = run_process({"/usr/bin/env", "EVN_MBUS_KEY=" + to_hex(c.keys.key),
                                "EVN_MBUS_AUTH_KEY=" + to_hex(*c.keys.auth_key), binary, "decode",
                                file_of(lgz)});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 1u);
}

TEST_F(decode_input_cli, auth_key_from_a_file) {
    const auto& c = capture_by_id(lgz);
    const std::string key_file = write("key", to_hex(c.keys.key));
    const std::string auth_file = write("auth", to_hex(*c.keys.auth_key) + "  # signing key\n");
    const auto r = run_process(
        {binary, "decode", "--key-file", key_file, "--auth-key-file", auth_file, file_of(lgz)});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 1u);
}

TEST_F(decode_input_cli, key_file_problems_name_the_file) {
    const auto folder = run_process({binary, "decode", "--key-file", dir_, file_of(evn)});
    EXPECT_EQ(folder.status, 2);
    EXPECT_TRUE(contains(folder.err, "--key-file: the key file " + dir_ + " is a folder"))
        << folder.err;

    const std::string bad = write("bad", "36C66639E48A8CA4D6BC8B282A793B\n");
    const auto short_key = run_process({binary, "decode", "--key-file", bad, file_of(evn)});
    EXPECT_EQ(short_key.status, 2);
    EXPECT_TRUE(contains(short_key.err, "--key-file " + bad)) << short_key.err;
    EXPECT_TRUE(contains(short_key.err, "it has 30 hex digits")) << short_key.err;

    const auto both =
        run_process({binary, "decode", "--key", key_of(evn), "--key-file", bad, file_of(evn)});
    EXPECT_EQ(both.status, 2);
    EXPECT_TRUE(contains(both.err, "give only one")) << both.err;
}

TEST_F(decode_input_cli, no_key_at_all_names_the_ways_to_give_one) {
    const auto r =
        run_process({"/usr/bin/env", "-u", "EVN_MBUS_KEY", binary, "decode", file_of(evn)});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(contains(r.err, "--key-file")) << r.err;
    EXPECT_TRUE(contains(r.err, "EVN_MBUS_KEY")) << r.err;
}

TEST_F(decode_input_cli, help_names_the_key_file_and_the_environment) {
    const auto h = run_process({binary, "decode", "--help"});
    EXPECT_EQ(h.status, 0);
    for (const char* word :
         {"--key-file", "--auth-key-file", "EVN_MBUS_KEY", "EVN_MBUS_AUTH_KEY", "ps"}) {
        EXPECT_TRUE(contains(h.out, word)) << word << "\n" << h.out;
    }
}

// ---- item 12: the first frame only, a byte order mark, an xxd dump ---------------------------

TEST_F(decode_input_cli, the_first_frame_only_says_the_push_continues) {
    const auto& c = capture_by_id(evn);
    ASSERT_EQ(c.frames.size(), 2u);
    const auto r =
        run_process({binary, "decode", "--key", key_of(evn)}, to_hex(c.frames[0]) + "\n");
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "first frame of 2 only: the push continues in a second frame"))
        << r.err;
    EXPECT_TRUE(contains(r.err, "[incomplete_push]")) << r.err;
}

TEST_F(decode_input_cli, a_byte_order_mark_is_skipped) {
    std::ifstream f(file_of(evn));
    const std::string text{std::istreambuf_iterator<char>(f), {}};
    const auto r = run_process({binary, "decode", "--key", key_of(evn)}, "\xEF\xBB\xBF" + text);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 1u);
}

TEST_F(decode_input_cli, an_xxd_dump_is_read) {
    const bytes raw = concat(capture_by_id(evn).frames);
    const std::string bin = write("push.bin", std::string(raw.begin(), raw.end()));
    for (const std::string& flags : {std::string(), std::string("-g1 -c 32"), std::string("-p")}) {
        const std::string dump = dir_ + "/push.xxd";
        ASSERT_EQ(std::system(("xxd " + flags + " '" + bin + "' > '" + dump + "'").c_str()), 0);
        const auto r = run_process({binary, "decode", "--key", key_of(evn), dump});
        EXPECT_EQ(r.status, 0) << flags << ": " << r.err;
        EXPECT_EQ(count_lines(r.out), 1u) << flags;
    }
}

TEST_F(decode_input_cli, an_xxd_dump_with_a_line_missing_says_so) {
    const bytes raw = concat(capture_by_id(evn).frames);
    const std::string bin = write("push.bin", std::string(raw.begin(), raw.end()));
    const std::string dump = dir_ + "/push.xxd";
    ASSERT_EQ(std::system(("xxd '" + bin + "' | sed 3d > '" + dump + "'").c_str()), 0);
    const auto r = run_process({binary, "decode", "--key", key_of(evn), dump});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "an xxd dump")) << r.err;
    EXPECT_TRUE(contains(r.err, "lines are missing")) << r.err;
    EXPECT_EQ(r.out, "");
}

// ---- item 13: a tagged meter with a wrong key -----------------------------------------------

TEST_F(decode_input_cli, tagged_meter_with_a_wrong_key_blames_either_key) {
    const auto& c = capture_by_id(lgz);
    const auto r = run_process({binary, "decode", "--key", "00112233445566778899AABBCCDDEEFF",
                                "--auth-key", to_hex(*c.keys.auth_key), file_of(lgz)});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "the key or the authentication key is wrong")) << r.err;
    EXPECT_FALSE(contains(r.err, "wrong or missing")) << r.err;
    EXPECT_FALSE(contains(r.err, "00112233445566778899")) << r.err;
}

// ---- item 14: a pipe that stays open, /dev/zero --------------------------------------------

// `evn-mbus decode` with `args`, its stdout and stderr captured.
spawn_options decode(std::vector<std::string> args, input_source in = input_source::inherit) {
    args.insert(args.begin(), {binary, "decode"});
    spawn_options o;
    o.argv = std::move(args);
    o.in = in;
    return o;
}

// What the child wrote to stdout (or stderr) after its first `from` bytes, once that holds
// `until`, the child has ended, or `limit` has passed.
std::string read_until(child_process& c, bool from_stderr, const std::string& until,
                       std::chrono::seconds limit, std::size_t from = 0) {
    c.wait_until(
        [&](const std::string& out, const std::string& err) {
            return (from_stderr ? err : out).find(until, from) != std::string::npos;
        },
        limit);
    const std::string& text = from_stderr ? c.err() : c.out();
    return text.substr(std::min(from, text.size()));
}

// Waits for the child at most `limit`, then kills it. Its exit status (-1 if killed) and its
// peak resident memory.
std::pair<int, long> reap(child_process& c, std::chrono::seconds limit) {
    std::optional<int> status = c.wait(limit);
    if (!status) {
        c.signal(SIGKILL);
        status = c.wait();
    }
    return {c.term_signal() != 0 ? -1 : *status, c.max_rss_kib()};
}

TEST_F(decode_input_cli, a_pipe_that_stays_open_gets_each_telegram_as_it_completes) {
    std::signal(SIGPIPE, SIG_IGN);
    child_process c(decode({"--key", key_of(evn)}, input_source::pipe));
    ASSERT_GT(c.pid(), 0);
    const std::string push = to_hex(concat(capture_by_id(evn).frames)) + "\n";
    ASSERT_TRUE(c.write_stdin(push));
    // The pipe stays open: the line must come now, not at the end of the input.
    const std::string first = read_until(c, false, "\n", std::chrono::seconds(30));
    EXPECT_TRUE(contains(first, "\"meter_number\"")) << first;
    ASSERT_TRUE(c.write_stdin(push));
    const std::string second = read_until(c, false, "\n", std::chrono::seconds(30), first.size());
    EXPECT_TRUE(contains(second, "\"meter_number\"")) << second;
    c.close_stdin();
    const auto [status, rss] = reap(c, std::chrono::seconds(30));
    EXPECT_EQ(status, 0);
}

// A named pipe whose writer comes later: decode waits for it, as `cat` does, instead of
// taking the FIFO for an empty input.
TEST_F(decode_input_cli, a_named_pipe_waits_for_its_writer) {
    const std::string fifo = dir_ + "/meter.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    child_process c(decode({"--key", key_of(evn), fifo}));
    ASSERT_GT(c.pid(), 0);
    ::usleep(1'000'000);  // the reader is started (and, before the fix, already gone)
    // Without blocking: with no reader left (decode gone) this fails instead of waiting.
    const int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    ASSERT_GE(w, 0) << "decode no longer reads the FIFO: "
                    << read_until(c, true, "\n", std::chrono::seconds(5));
    ::fcntl(w, F_SETFL, ::fcntl(w, F_GETFL) & ~O_NONBLOCK);
    const std::string push = to_hex(concat(capture_by_id(evn).frames)) + "\n";
    EXPECT_EQ(::write(w, push.data(), push.size()), static_cast<ssize_t>(push.size()));
    ::close(w);
    const std::string out = read_until(c, false, "\n", std::chrono::seconds(30));
    const std::string err = read_until(c, true, "\n", std::chrono::seconds(1));
    const auto [status, rss] = reap(c, std::chrono::seconds(30));
    EXPECT_EQ(status, 0) << err;
    EXPECT_TRUE(contains(out, "\"meter_number\"")) << out << err;
}

// A serial device or pty: the bytes as they come, without the terminal's line editing
// (held until a newline, CR turned into LF, XON/XOFF eaten, echo back to the meter).
TEST_F(decode_input_cli, a_terminal_passes_the_bytes_as_they_come) {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(master, 0);
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    const std::string slave = ::ptsname(master);
    child_process c(decode({"--key", key_of(evn), slave}));
    ASSERT_GT(c.pid(), 0);
    ::usleep(1'000'000);  // decode has opened the pty and set it up
    const bytes raw = concat(capture_by_id(evn).frames);
    EXPECT_EQ(::write(master, raw.data(), raw.size()), static_cast<ssize_t>(raw.size()));
    const std::string out = read_until(c, false, "\n", std::chrono::seconds(30));
    EXPECT_TRUE(contains(out, "\"meter_number\"")) << out;
    EXPECT_TRUE(contains(out, "\"w_p\":12937")) << out;
    c.signal(SIGTERM);
    reap(c, std::chrono::seconds(30));
    ::close(master);
}

TEST_F(decode_input_cli, dev_zero_ends_with_a_clear_error_in_bounded_memory) {
    child_process c(decode({"--key", key_of(evn), "/dev/zero"}));
    ASSERT_GT(c.pid(), 0);
    const std::string err = read_until(c, true, "\n", std::chrono::seconds(60));
    const auto [status, rss_kib] = reap(c, std::chrono::seconds(60));
    EXPECT_EQ(status, 2) << err;
    EXPECT_TRUE(contains(err, "without a single M-Bus or HDLC frame")) << err;
    EXPECT_TRUE(contains(err, "/dev/zero")) << err;
    // The program itself is ~10 MiB resident; the input must not add to it. Under ASan its
    // shadow memory and quarantine add tens of MiB (75 MiB seen in CI's sanitizer stage).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    constexpr long bound_kib = 512 * 1024;
#else
    constexpr long bound_kib = 64 * 1024;
#endif
    EXPECT_LT(rss_kib, bound_kib) << "peak resident memory " << rss_kib << " KiB";
}

}  // namespace
}  // namespace evn_mbus::test

#include "simulate_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <span>
#include <vector>

#include "capture_input.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"
#include "evn_mbus/mbus_frame_assembler.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "load_profile.hpp"
#include "pty_device.hpp"
#include "reading_json.hpp"
#include "serial_line.hpp"

namespace evn_mbus {
namespace {

using bytes = std::vector<std::uint8_t>;
using steady = std::chrono::steady_clock;
constexpr const char* prefix = "evn-mbus simulate: ";

// --- Stopping: SIGINT/SIGTERM write to a pipe, so every wait below can watch for them. ---

volatile sig_atomic_t stop_pipe_write = -1;

extern "C" void on_stop_signal(int) {
    const int fd = stop_pipe_write;
    if (fd >= 0) {
        const char c = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd, &c, 1);
    }
}

class stop_signals {
  public:
    stop_signals() {
        if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) fds_[0] = fds_[1] = -1;
        stop_pipe_write = fds_[1];
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &old_int_);
        ::sigaction(SIGTERM, &sa, &old_term_);
        // A closed FIFO or socket must be an error message, not a silent death.
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGPIPE, &ignore, &old_pipe_);
    }
    ~stop_signals() {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
        ::sigaction(SIGPIPE, &old_pipe_, nullptr);
        stop_pipe_write = -1;
        for (const int fd : fds_) {
            if (fd >= 0) ::close(fd);
        }
    }
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    int fd() const noexcept { return fds_[0]; }
    // The pipe is never drained: once stopped, every later wait returns at once.
    bool stopped() const noexcept {
        pollfd p{fds_[0], POLLIN, 0};
        return ::poll(&p, 1, 0) > 0;
    }

  private:
    int fds_[2] = {-1, -1};
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
    struct sigaction old_pipe_ {};
};

// Sleeps until `deadline`; false when stopped first.
bool sleep_until(const stop_signals& stop, steady::time_point deadline) {
    for (;;) {
        if (stop.stopped()) return false;
        const auto now = steady::now();
        if (now >= deadline) return true;
        const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(left.count() / 1000000000);
        ts.tv_nsec = static_cast<long>(left.count() % 1000000000);
        pollfd p{stop.fd(), POLLIN, 0};
        ::ppoll(&p, 1, &ts, nullptr);
    }
}

// --- Output: a pty we create, or a serial port / file the user names. ---

speed_t baud_constant(unsigned baud) {
    switch (baud) {
        case 300:
            return B300;
        case 600:
            return B600;
        case 1200:
            return B1200;
        case 1800:
            return B1800;
        case 2400:
            return B2400;
        case 4800:
            return B4800;
        case 9600:
            return B9600;
        case 19200:
            return B19200;
        case 38400:
            return B38400;
        case 57600:
            return B57600;
        case 115200:
            return B115200;
        default:
            return B0;
    }
}

class byte_sink {
  public:
    ~byte_sink() {
        if (own_fd_ >= 0) ::close(own_fd_);
    }

    std::error_code open_pty(const std::string& link) {
        if (auto ec = pty_.open(link)) return ec;
        fd_ = pty_.master_fd();
        name_ = pty_.slave_path();
        is_pty_ = true;
        return set_nonblocking();
    }

    // A serial port gets the meter's line settings (baud, 8E1, raw); anything else (a file,
    // a FIFO) just receives the bytes.
    std::error_code open_device(const std::string& path, unsigned baud) {
        name_ = path;
        int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK;
        // Never create files under /dev: a mistyped port name must be an error.
        if (path.rfind("/dev/", 0) != 0) flags |= O_CREAT | O_TRUNC;
        own_fd_ = ::open(path.c_str(), flags, 0644);
        if (own_fd_ < 0) return {errno, std::generic_category()};
        fd_ = own_fd_;
        if (::isatty(fd_)) {
            is_tty_ = true;
            termios t{};
            if (::tcgetattr(fd_, &t) != 0) return {errno, std::generic_category()};
            ::cfmakeraw(&t);
            t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARODD | CSTOPB | CRTSCTS);
            t.c_cflag |= CS8 | PARENB | CLOCAL;
            const speed_t s = baud_constant(baud);
            if (s == B0) return std::make_error_code(std::errc::invalid_argument);
            if (::cfsetospeed(&t, s) != 0 || ::cfsetispeed(&t, s) != 0 ||
                ::tcsetattr(fd_, TCSANOW, &t) != 0) {
                return {errno, std::generic_category()};
            }
        }
        return {};
    }

    // Writes everything, waiting while the kernel's buffer is full. `stopped` when a stop
    // signal came first.
    std::error_code write_all(std::span<const std::uint8_t> data, const stop_signals& stop,
                              bool& stopped) {
        stopped = false;
        while (!data.empty()) {
            const ssize_t n = ::write(fd_, data.data(), data.size());
            if (n > 0) {
                data = data.subspan(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return {errno, std::generic_category()};
            }
            pollfd p[2] = {{fd_, POLLOUT, 0}, {stop.fd(), POLLIN, 0}};
            ::poll(p, 2, -1);
            if (p[1].revents != 0) {
                stopped = true;
                return {};
            }
        }
        return {};
    }

    // At the end: let the reader take what is still buffered, since closing a pty discards
    // it; and let a serial port send its last byte.
    void finish(const stop_signals& stop, std::ostream& err) {
        if (is_tty_) ::tcdrain(fd_);
        if (!is_pty_) return;
        auto last_change = steady::now();
        auto empty_since = steady::time_point{};
        std::size_t last = pty_.unread_bytes();
        for (;;) {
            const std::size_t unread = pty_.unread_bytes();
            const auto now = steady::now();
            if (unread != last) last_change = now;
            last = unread;
            if (unread == 0) {
                // The kernel moves the rest of its buffer in behind what was read: only a
                // buffer that stays empty is really empty.
                if (empty_since == steady::time_point{}) empty_since = now;
                if (now - empty_since >= std::chrono::milliseconds(100)) return;
            } else {
                empty_since = {};
                if (now - last_change >= std::chrono::seconds(5)) {
                    err << prefix << "nobody read the last " << unread << " bytes from " << name_
                        << " within 5 s; they are discarded.\n";
                    return;
                }
            }
            if (!sleep_until(stop, now + std::chrono::milliseconds(20))) return;
        }
    }

    const std::string& name() const noexcept { return name_; }
    const pty_device& pty() const noexcept { return pty_; }
    bool is_pty() const noexcept { return is_pty_; }

  private:
    std::error_code set_nonblocking() {
        const int flags = ::fcntl(fd_, F_GETFL);
        if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
            return {errno, std::generic_category()};
        }
        return {};
    }

    pty_device pty_;
    int own_fd_ = -1;
    int fd_ = -1;
    std::string name_;
    bool is_pty_ = false;
    bool is_tty_ = false;
};

// --- Where pushes come from. ---

struct push_bytes {
    std::vector<bytes> frames;  // M-Bus frames, sent with a gap between them
    nlohmann::json expected;    // what an intact push decodes to; null if unknown
};

class push_source {
  public:
    virtual ~push_source() = default;
    virtual std::error_code next(push_bytes& out) = 0;
};

class synthesized_source final : public push_source {
  public:
    synthesized_source(const load_profile_options& profile, const aes_key& key,
                       std::chrono::milliseconds interval, std::uint32_t first_frame_counter)
        : profile_(profile), key_(key), interval_(interval), frame_counter_(first_frame_counter) {
        // "KFM" and a serial, like EVN's Kaifa (4B464D 6750000009); the serial follows the
        // meter number so that two simulated meters differ.
        std::uint32_t h = 2166136261U;
        for (const char c : profile_.meter_number())
            h = (h ^ static_cast<std::uint8_t>(c)) * 16777619U;
        title_ = {'K',
                  'F',
                  'M',
                  0x67,
                  0x50,
                  static_cast<std::uint8_t>(h >> 16),
                  static_cast<std::uint8_t>(h >> 8),
                  static_cast<std::uint8_t>(h)};
    }

    std::error_code next(push_bytes& out) override {
        simulated_push s = profile_.next(interval_);
        bytes apdu;
        if (auto ec = encoder_.encrypt(telegram_encoder::encode_kaifa_notification(s.push), key_,
                                       std::nullopt, title_, frame_counter_++, 0x20, apdu)) {
            return ec;
        }
        if (framing_ == link_layer::hdlc) {
            // 120 data bytes per block, one block per frame, like the Landis+Gyr E450; or
            // frames of at most 128 information bytes (IEC 62056-46's default).
            out.frames = block_transfer_ ? telegram_encoder::segment_hdlc_blocks(apdu, 120, 128)
                                         : telegram_encoder::segment_hdlc(apdu, 128);
        } else {
            // 245 APDU bytes per frame: 256 + 26 bytes on the line, like the real meter.
            out.frames = telegram_encoder::segment_mbus(apdu, 245);
        }
        out.expected = std::move(s.expected);
        return {};
    }

    const std::string& meter_number() const noexcept { return profile_.meter_number(); }

    void set_framing(link_layer framing, bool block_transfer) {
        framing_ = framing;
        block_transfer_ = block_transfer;
    }

  private:
    link_layer framing_ = link_layer::mbus;
    bool block_transfer_ = false;
    load_profile profile_;
    telegram_encoder encoder_;
    aes_key key_;
    std::chrono::milliseconds interval_;
    std::uint32_t frame_counter_;
    system_title title_{};
};

class replay_source final : public push_source {
  public:
    // Splits the capture into pushes by its M-Bus frames (CI: segment 0 starts a push, bit
    // 10h ends it). A capture without M-Bus frames (HDLC meters) is sent as one block.
    // Garbage between frames is not replayed.
    replay_source(const bytes& capture, const aes_key& key) {
        mbus_frame_assembler assembler;
        assembler.feed(capture);
        assembler.on_idle_gap();
        std::vector<bytes> current;
        for (;;) {
            const mbus_frame_event ev = assembler.next();
            if (ev.what == mbus_frame_event::kind::need_more) break;
            if (ev.what == mbus_frame_event::kind::error) continue;
            const mbus_frame& f = ev.frame;
            const bool dlms = f.ci <= 0x1F;
            if (!current.empty() && (!dlms || (f.ci & 0x0F) == 0)) {
                add(std::move(current), key);
                current.clear();
            }
            current.emplace_back(f.raw.begin(), f.raw.end());
            if (!dlms || (f.ci & 0x10) != 0) {
                add(std::move(current), key);
                current.clear();
            }
        }
        if (!current.empty()) add(std::move(current), key);
        if (pushes_.empty()) add({capture}, key);
    }

    std::error_code next(push_bytes& out) override {
        out = pushes_[next_];
        next_ = (next_ + 1) % pushes_.size();
        return {};
    }

    std::size_t size() const noexcept { return pushes_.size(); }

  private:
    // The only truth about a recorded push is what it decodes to: null if the key does not
    // fit or the push is incomplete.
    void add(std::vector<bytes> frames, const aes_key& key) {
        push_bytes p;
        p.frames = std::move(frames);
        telegram_decoder decoder(decoder_keys{key, std::nullopt});
        for (const auto& f : p.frames)
            decoder.feed(f);
        decoder.on_idle_gap();
        for (;;) {
            const decode_event ev = decoder.next();
            if (ev.what == decode_event::kind::need_more) break;
            if (ev.what == decode_event::kind::reading) {
                p.expected = to_json(*ev.value);
                break;
            }
        }
        pushes_.push_back(std::move(p));
    }

    std::vector<push_bytes> pushes_;
    std::size_t next_ = 0;
};

// --- Line timing. ---

class line {
  public:
    line(byte_sink& sink, const stop_signals& stop, const simulate_options& o)
        : sink_(sink), stop_(stop), paced_(o.speed.has_value()) {
        if (paced_) {
            const double speed = *o.speed;
            byte_ = to_duration(11.0 / o.baud / speed);  // start, 8 data, parity, stop bit
            gap_ = to_duration(o.frame_gap_ms / 1000.0 / speed);
            interval_ = to_duration(o.interval_s / speed);
        }
        start_ = free_ = steady::now();
    }

    // Waits for the push's slot: every interval from the start, never before the line is
    // free. False when stopped.
    bool wait_for_push(std::uint64_t seq) {
        if (!paced_) return !stop_.stopped();
        next_ = std::max(start_ + interval_ * static_cast<std::int64_t>(seq), free_);
        return sleep_until(stop_, next_);
    }

    // Sends a block of bytes (a frame, noise) at the line's pace, `gap` after the previous
    // one unless this is the first of a push. False (with `ec` set on an error) to stop.
    bool send(std::span<const std::uint8_t> data, bool after_gap, std::error_code& ec) {
        bool stopped = false;
        if (!paced_) {
            ec = sink_.write_all(data, stop_, stopped);
            return !ec && !stopped;
        }
        if (after_gap) {
            next_ = free_ + gap_;
            if (!sleep_until(stop_, next_)) return false;
        }
        // Late (a slow reader held us up): keep the byte spacing from now on.
        const auto begin = std::max(next_, steady::now());
        std::size_t written = 0;
        while (written < data.size()) {
            const auto now = steady::now();
            const auto due = now < begin ? 0 : static_cast<std::size_t>((now - begin) / byte_) + 1;
            const std::size_t upto = std::min(data.size(), due);
            if (upto > written) {
                ec = sink_.write_all(data.subspan(written, upto - written), stop_, stopped);
                if (ec || stopped) return false;
                written = upto;
                continue;
            }
            if (!sleep_until(stop_, begin + byte_ * static_cast<std::int64_t>(written))) {
                return false;
            }
        }
        free_ = begin + byte_ * static_cast<std::int64_t>(data.size());
        return true;
    }

  private:
    static steady::duration to_duration(double seconds) {
        return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
    }

    byte_sink& sink_;
    const stop_signals& stop_;
    bool paced_;
    steady::duration byte_{};
    steady::duration gap_{};
    steady::duration interval_{};
    steady::time_point start_;
    steady::time_point free_;  // when the line has sent everything so far
    steady::time_point next_;  // when the next block is due
};

double unit_random(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Applies at most one fault to a push; returns its name for the expect file.
const char* apply_fault(push_bytes& p, const simulate_options& o, std::mt19937_64& rng) {
    if (p.frames.size() >= 2 && o.drop_frame > 0 && unit_random(rng) < o.drop_frame) {
        const auto i = static_cast<std::size_t>(1 + rng() % (p.frames.size() - 1));
        p.frames.erase(p.frames.begin() + static_cast<std::ptrdiff_t>(i));
        return "drop_frame";
    }
    // A frame cut off mid-way (a meter reset, a loose wire): the rest never comes.
    if (!p.frames.empty() && o.truncate > 0 && unit_random(rng) < o.truncate) {
        auto& f = p.frames[static_cast<std::size_t>(rng() % p.frames.size())];
        if (f.size() >= 2) {
            f.resize(static_cast<std::size_t>(1 + rng() % (f.size() - 1)));
            return "truncate";
        }
    }
    // A first frame with more user data than an M-Bus long frame can carry (a babbling
    // transmitter): L keeps only the low byte of the length, so it no longer describes the
    // frame. Only M-Bus long frames (68 L L 68 ... CS 16) are grown.
    if (!p.frames.empty() && o.oversize > 0 && unit_random(rng) < o.oversize) {
        auto& f = p.frames.front();
        if (f.size() >= 9 && f[0] == 0x68 && f[3] == 0x68) {
            bytes user(f.begin() + 4, f.end() - 2);
            const std::size_t grow = (user.size() < 259 ? 259 - user.size() : 0) + rng() % 64;
            for (std::size_t k = 0; k < grow; ++k)
                user.push_back(static_cast<std::uint8_t>(rng()));
            f = telegram_encoder::mbus_long_frame(user);
            return "oversize";
        }
    }
    bool corrupted = false;
    if (o.corrupt > 0) {
        for (auto& f : p.frames) {
            if (f.empty() || unit_random(rng) >= o.corrupt) continue;
            f[static_cast<std::size_t>(rng() % f.size())] ^=
                static_cast<std::uint8_t>(1U << (rng() % 8));
            corrupted = true;
        }
    }
    return corrupted ? "corrupt" : "none";
}

bool valid_probability(double p) {
    return p >= 0.0 && p <= 1.0;
}

}  // namespace

int run_simulate(const simulate_options& o, std::ostream& out, std::ostream& err) {
    // Options first: nothing is created for a command line that cannot work.
    aes_key key{};
    if (parse_key(o.key, key)) {
        err << prefix << "--key: " << make_error_code(errc::bad_key).message() << "\n";
        return 2;
    }
    if (!valid_probability(o.corrupt) || !valid_probability(o.drop_frame) ||
        !valid_probability(o.truncate) || !valid_probability(o.oversize)) {
        err << prefix
            << "--corrupt, --drop-frame, --truncate and --oversize are probabilities between 0 "
               "and 1, e.g. 0.1 for one in ten\n";
        return 2;
    }
    if (!(o.interval_s >= 0) || !(o.frame_gap_ms >= 0) || (o.speed && !(*o.speed > 0))) {
        err << prefix << "--interval, --frame-gap-ms and --speed must be positive numbers\n";
        return 2;
    }
    if (!is_serial_baud(o.baud)) {
        // The daemon's serial.baud takes the same speeds: a simulated line must be one it reads.
        err << prefix << "--baud " << o.baud << ": serial ports take " << serial_baud_choices()
            << " (like serial.baud in the configuration); EVN's meters send at 2400\n";
        return 2;
    }
    if (!o.device.empty() && !o.link.empty()) {
        err << prefix
            << "--link names the simulator's own pseudo-terminal; it cannot be used "
               "with --device\n";
        return 2;
    }
    if (o.meter_number.size() > 64) {
        err << prefix << "--meter-number is too long (at most 64 characters)\n";
        return 2;
    }
    const std::uint64_t seed = o.seed ? *o.seed : std::random_device{}();
    std::mt19937_64 fault_rng(seed ^ 0x6661756C74ULL);

    std::unique_ptr<push_source> source;
    std::string what;
    if (!o.replay.empty()) {
        bytes capture;
        if (std::string problem = read_capture_file(o.replay, capture); !problem.empty()) {
            err << prefix << "--replay: the capture file " << o.replay << " " << problem << "\n";
            return 2;
        }
        if (capture.empty()) {
            err << prefix << "--replay: the capture file " << o.replay << " is empty\n";
            return 2;
        }
        auto replay = std::make_unique<replay_source>(capture, key);
        what = "the " + std::to_string(replay->size()) + " push(es) of " + o.replay;
        if (o.count == 0 || o.count > replay->size()) {
            // A recording cannot be given new frame counters without changing its bytes.
            what +=
                " over and over (the same telegrams with the same frame counters: "
                "evn-mbus run publishes each once and reports the repeats)";
        }
        source = std::move(replay);
    } else {
        load_profile_options lp;
        lp.seed = seed;
        lp.start = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        lp.meter_number = o.meter_number;
        const auto interval = std::chrono::milliseconds(std::llround(o.interval_s * 1000.0));
        auto synth = std::make_unique<synthesized_source>(
            lp, key, interval, static_cast<std::uint32_t>(1 + fault_rng() % 100000));
        what = "EVN Kaifa MA309M pushes of meter " + synth->meter_number();
        if (o.framing == link_layer::hdlc) {
            what +=
                o.block_transfer ? " in HDLC frames, general block transfer" : " in HDLC frames";
        }
        synth->set_framing(o.framing, o.block_transfer);
        source = std::move(synth);
    }

    std::ofstream expect;
    if (!o.expect.empty()) {
        expect.open(o.expect, std::ios::trunc);
        if (!expect) {
            err << prefix << "cannot write the expect file " << o.expect << " ("
                << std::strerror(errno) << ")\n";
            return 2;
        }
    }

    stop_signals stop;
    byte_sink sink;
    if (o.device.empty()) {
        if (auto ec = sink.open_pty(o.link)) {
            if (ec == std::errc::file_exists) {
                err << prefix << "--link " << o.link << ": something other than a symlink is "
                    << "already there; choose another path or remove it\n";
            } else {
                err << prefix << "cannot create a pseudo-terminal"
                    << (o.link.empty() ? "" : " or the link " + o.link) << ": " << ec.message()
                    << "\n";
            }
            return 1;
        }
        // First line, for scripts: the port to open.
        out << sink.name() << std::endl;
    } else {
        if (auto ec = sink.open_device(o.device, o.baud)) {
            err << prefix << "cannot open " << o.device << ": " << ec.message()
                << ". Check the name (ls /dev/ttyUSB* /dev/serial/by-id/), that the adapter is "
                   "plugged in and that you may use it (group dialout).\n";
            return 1;
        }
    }

    err << prefix << "sending " << what << " to " << sink.name();
    if (!sink.pty().link_path().empty()) err << " (link " << sink.pty().link_path() << ")";
    err << "; key " << to_hex(key) << ", seed " << seed << "; ";
    if (o.speed) {
        err << "a push every " << o.interval_s << " s at " << o.baud << " baud";
        if (*o.speed != 1.0) err << ", " << *o.speed << " times faster";
    } else {
        err << "as fast as possible";
    }
    if (o.count == 0) {
        err << "; Ctrl+C stops" << std::endl;
    } else {
        err << "; " << o.count << (o.count == 1 ? " push" : " pushes") << std::endl;
    }

    line wire(sink, stop, o);
    std::error_code ec;
    bool completed = true;
    for (std::uint64_t seq = 0; o.count == 0 || seq < o.count; ++seq) {
        if (!wire.wait_for_push(seq)) {
            completed = false;
            break;
        }
        push_bytes p;
        if (auto e = source->next(p)) {
            err << prefix << "could not build push " << seq << ": " << e.message() << "\n";
            return 1;
        }
        const char* fault = apply_fault(p, o, fault_rng);
        if (expect.is_open()) {
            const nlohmann::json line_json = {
                {"seq", seq}, {"fault", fault}, {"reading", p.expected}};
            expect << line_json.dump() << std::endl;
            if (!expect) {
                err << prefix << "cannot write the expect file " << o.expect << " ("
                << std::strerror(errno) << ")\n";
                return 1;
            }
        }
        bool go_on = true;
        for (std::size_t i = 0; go_on && i < p.frames.size(); ++i) {
            go_on = wire.send(p.frames[i], i > 0, ec);
        }
        if (go_on && o.noise) {
            bytes noise(static_cast<std::size_t>(1 + fault_rng() % 48));
            for (auto& b : noise)
                b = static_cast<std::uint8_t>(fault_rng());
            go_on = wire.send(noise, true, ec);
        }
        if (!go_on) {
            completed = false;
            break;
        }
    }
    if (ec) {
        err << prefix << "writing to " << sink.name() << " failed: " << ec.message() << ". "
            << (sink.is_pty() ? "The pseudo-terminal was closed unexpectedly."
                              : "The serial adapter may have been unplugged, or the reader of "
                                "the file or pipe went away; check it and start again.")
            << "\n";
        return 1;
    }
    if (completed) {
        sink.finish(stop, err);
    } else {
        err << prefix << "stopped\n";
    }
    return 0;
}

}  // namespace evn_mbus

#include "simulate_command.hpp"

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <utility>
#include <variant>
#include <vector>

#include "amis_report.hpp"
#include "amis_sender.hpp"
#include "amis_source.hpp"
#include "capture_input.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"
#include "fault_injector.hpp"
#include "line_pacer.hpp"
#include "meter_port.hpp"
#include "push_sender.hpp"
#include "replay_source.hpp"
#include "serial_endpoint.hpp"
#include "serial_line.hpp"
#include "synthesized_source.hpp"

namespace evn_mbus {
namespace {

constexpr const char* prefix = "evn-mbus simulate: ";

// A closed FIFO or socket must be an error message, not a silent death.
class sigpipe_ignored {
  public:
    sigpipe_ignored() {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGPIPE, &ignore, &old_);
    }
    ~sigpipe_ignored() { ::sigaction(SIGPIPE, &old_, nullptr); }
    sigpipe_ignored(const sigpipe_ignored&) = delete;
    sigpipe_ignored& operator=(const sigpipe_ignored&) = delete;

  private:
    struct sigaction old_ {};
};

fault_options faults_of(const simulate_options& o) {
    return {o.corrupt, o.drop_frame, o.truncate, o.oversize, o.noise};
}

// The options that cannot work, explained; empty if they can.
std::string check_options(const simulate_options& o) {
    if (!faults_of(o).valid()) {
        return "--corrupt, --drop-frame, --truncate and --oversize are probabilities between 0 "
               "and 1, e.g. 0.1 for one in ten";
    }
    if (!(o.interval_s >= 0) || !(o.frame_gap_ms >= 0) || (o.speed && !(*o.speed > 0))) {
        return "--interval, --frame-gap-ms and --speed must be positive numbers";
    }
    if (!is_serial_baud(o.baud)) {
        // The daemon's serial.baud takes the same speeds: a simulated line must be one it reads.
        return "--baud " + std::to_string(o.baud) + ": serial ports take " + serial_baud_choices() +
               " (like serial.baud in the configuration); EVN's meters send at 2400";
    }
    if (!o.device.empty() && !o.link.empty()) {
        return "--link names the simulator's own pseudo-terminal; it cannot be used with "
               "--device";
    }
    if (!o.listen.empty() && (!o.device.empty() || !o.link.empty())) {
        return "--listen serves the meter on the network instead of a pseudo-terminal or a "
               "device; it cannot be used with --device or --link";
    }
    if (o.meter_number.size() > 64) return "--meter-number is too long (at most 64 characters)";
    if (o.framing == link_layer::amis && (o.drop_frame > 0 || o.oversize > 0)) {
        return "--drop-frame and --oversize do not apply to an AMIS meter: its pushes are one "
               "frame each (--corrupt, --truncate, --noise and --drop-ack do)";
    }
    if (o.framing != link_layer::amis && (o.drop_ack > 0 || !o.report.empty())) {
        return "--drop-ack and --report are for an AMIS meter (--link-layer amis), the only one "
               "that waits for answers";
    }
    if (!(o.search_interval_s > 0)) return "--search-interval must be a number above 0";
    if (!(o.drop_ack >= 0 && o.drop_ack <= 1)) {
        return "--drop-ack is a probability between 0 and 1, e.g. 0.1 for one in ten";
    }
    return {};
}

// --listen's address, or the problem with it in words.
std::string parse_listen(const std::string& text, serial_endpoint& at) {
    const std::string usage =
        "--listen takes tcp://HOST:PORT, e.g. tcp://127.0.0.1:0 (port 0: a free one, printed on "
        "the first line)";
    // The bridge address parser wants a port a bridge listens on, 1 to 65535; a listener may
    // also ask for any free one.
    const bool any_port = text.ends_with(":0");
    auto parsed = parse_serial_endpoint(any_port ? text.substr(0, text.size() - 1) + "1" : text);
    if (const auto* problem = std::get_if<endpoint_problem>(&parsed)) {
        std::string message = problem->message;
        // Its words are for serial.device and a bridge's port; they do not all apply here.
        if (const auto cut = message.find("; serial.device takes"); cut != std::string::npos) {
            message.erase(cut);
        }
        for (const auto& [bridge_word, here] :
             {std::pair<std::string, std::string>{"the bridge's ", "the "},
              {" from 1 to ", " from 0 to "}}) {
            if (const auto where = message.find(bridge_word); where != std::string::npos) {
                message.replace(where, bridge_word.size(), here);
            }
        }
        return "--listen " + text + ": " + message + "; " + usage;
    }
    at = std::get<serial_endpoint>(parsed);
    if (at.transport == serial_transport::device) {
        return "--listen " + text + ": " + usage + " (a serial port or a file goes to --device)";
    }
    if (at.transport == serial_transport::rfc2217) {
        return "--listen " + text +
               ": the simulator serves raw TCP only (tcp://). For RFC 2217, run it on a "
               "pseudo-terminal (--link /tmp/meter) and put ser2net in front of that (accepter: "
               "telnet(rfc2217),tcp,PORT; connector: serialdev,/tmp/meter)";
    }
    if (any_port) at.port = 0;
    return {};
}

// Pushes that went out, at least in part, while no reader was connected to the listener: the
// bytes it dropped between the start of one push and the start of the next (or the end).
class lost_pushes {
  public:
    void push_begins(std::uint64_t dropped) {
        run_ends(dropped);
        ++sent_;
    }
    void run_ends(std::uint64_t dropped) {
        if (sent_ > 0 && dropped > mark_) ++lost_;
        mark_ = dropped;
    }
    std::uint64_t sent() const noexcept { return sent_; }
    std::uint64_t lost() const noexcept { return lost_; }

  private:
    std::uint64_t sent_ = 0;
    std::uint64_t lost_ = 0;
    std::uint64_t mark_ = 0;
};

// The source of the pushes and a description of it for the start message; null (with the
// message written) if the capture to replay cannot be read.
std::unique_ptr<push_source> make_source(const simulate_options& o, const aes_key& key,
                                         std::uint64_t seed, fault_injector& faults,
                                         std::string& what, std::ostream& err) {
    if (!o.replay.empty()) {
        std::vector<std::uint8_t> capture;
        if (std::string problem = read_capture_file(o.replay, capture); !problem.empty()) {
            err << prefix << "--replay: the capture file " << o.replay << " " << problem << "\n";
            return nullptr;
        }
        if (capture.empty()) {
            err << prefix << "--replay: the capture file " << o.replay << " is empty\n";
            return nullptr;
        }
        auto replay = std::make_unique<replay_source>(capture, key);
        what = "the " + std::to_string(replay->size()) + " push(es) of " + o.replay;
        if (o.count == 0 || o.count > replay->size()) {
            // A recording cannot be given new frame counters without changing its bytes.
            what +=
                " over and over (the same telegrams with the same frame counters: evn-mbus run "
                "publishes each once and reports the repeats)";
        }
        return replay;
    }
    load_profile_options lp;
    lp.seed = seed;
    lp.start = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    lp.meter_number = o.meter_number;
    const auto interval = std::chrono::milliseconds(std::llround(o.interval_s * 1000.0));
    if (o.framing == link_layer::amis) {
        // The meter's clock moves a second a push whatever --interval paces the line at: the
        // clock is the push's identity (a repeat has the same one).
        auto amis = std::make_unique<amis_source>(lp, key, std::chrono::seconds(1));
        what = "AMIS (Netz OOe) pushes of meter " + amis->meter_number();
        return amis;
    }
    auto synth = std::make_unique<synthesized_source>(
        lp, key, interval, static_cast<std::uint32_t>(1 + faults.draw() % 100000));
    what = "EVN Kaifa MA309M pushes of meter " + synth->meter_number();
    if (o.framing == link_layer::hdlc) {
        what += o.block_transfer ? " in HDLC frames, general block transfer" : " in HDLC frames";
    } else if (o.framing == link_layer::apdu) {
        what += " as DSMR text in bare APDUs (a P1 port)";
    }
    synth->set_framing(o.framing, o.block_transfer);
    return synth;
}

// Listens on `at`, saying on `err` who connects and goes; the exit status if that fails (its
// message written), else 0.
int open_listener(meter_port& port, const simulate_options& o, const serial_endpoint& at,
                  std::ostream& out, std::ostream& err) {
    // Unpaced, the meter has no pace to keep: it waits for a reader rather than spin.
    const bool hold = !o.speed.has_value();
    tcp_meter_line::events events;
    events.on_connect = [&err](const std::string& peer, const std::string& replaced) {
        if (replaced.empty()) {
            err << prefix << "a reader connected from " << peer << "\n";
            return;
        }
        err << prefix << "a new reader from " << peer << " replaces the one from " << replaced
            << " (one at a time, as on a serial bridge: a daemon reconnecting after a "
               "half-dead connection gets in)\n";
    };
    events.on_disconnect = [&err, hold](const std::string& peer, const std::string& how) {
        err << prefix << "the reader from " << peer << " went (" << how << "); "
            << (hold ? "the pushes wait for the next one"
                     : "the meter keeps its pace, and its pushes are lost until one connects")
            << "\n";
    };
    const auto mode =
        hold ? tcp_meter_line::without_reader::hold : tcp_meter_line::without_reader::drop;
    if (auto ec = port.open_listener(at.host, at.port, mode, std::move(events))) {
        err << prefix << "cannot listen on " << at.text() << ": " << ec.message()
            << (ec == std::errc::address_in_use ? ". Another program uses that port; choose "
                                                  "another, or 0 for a free one."
                                                : ".")
            << "\n";
        return 1;
    }
    // First line, for scripts: the address to connect to.
    out << port.name() << std::endl;
    return 0;
}

// Opens the pty, the device or the listener; the exit status if that fails (its message
// written), else 0.
int open_port(meter_port& port, const simulate_options& o, const serial_endpoint& listen_at,
              std::ostream& out, std::ostream& err) {
    if (!o.listen.empty()) return open_listener(port, o, listen_at, out, err);
    if (!o.device.empty()) {
        if (auto ec = port.open_device(o.device, o.baud)) {
            err << prefix << "cannot open " << o.device << ": " << ec.message()
                << ". Check the name (ls /dev/ttyUSB* /dev/serial/by-id/), that the adapter is "
                   "plugged in and that you may use it (group dialout).\n";
            return 1;
        }
        return 0;
    }
    if (auto ec = port.open_pty(o.link)) {
        if (ec == std::errc::file_exists) {
            err << prefix << "--link " << o.link << ": something other than a symlink is "
                << "already there; choose another path or remove it\n";
        } else {
            err << prefix << "cannot create a pseudo-terminal"
                << (o.link.empty() ? "" : " or the link " + o.link) << ": " << ec.message() << "\n";
        }
        return 1;
    }
    // First line, for scripts: the port to open.
    out << port.name() << std::endl;
    return 0;
}

void say_what_is_sent(const simulate_options& o, const meter_port& port, const std::string& what,
                      const aes_key& key, std::uint64_t seed, std::ostream& err) {
    err << prefix << "sending " << what << " to " << port.name();
    if (!port.link_path().empty()) err << " (link " << port.link_path() << ")";
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
}

}  // namespace

int run_simulate(const simulate_options& o, std::ostream& out, std::ostream& err) {
    // Options first: nothing is created for a command line that cannot work.
    aes_key key{};
    if (parse_key(o.key, key)) {
        err << prefix << "--key: " << make_error_code(errc::bad_key).message() << "\n";
        return 2;
    }
    if (const std::string problem = check_options(o); !problem.empty()) {
        err << prefix << problem << "\n";
        return 2;
    }
    serial_endpoint listen_at;
    if (!o.listen.empty()) {
        if (const std::string problem = parse_listen(o.listen, listen_at); !problem.empty()) {
            err << prefix << problem << "\n";
            return 2;
        }
    }
    const std::uint64_t seed = o.seed ? *o.seed : std::random_device{}();
    fault_injector faults(faults_of(o), seed);
    std::string what;
    const auto source = make_source(o, key, seed, faults, what, err);
    if (!source) return 2;

    std::ofstream expect;
    if (!o.expect.empty()) {
        expect.open(o.expect, std::ios::trunc);
        if (!expect) {
            err << prefix << "cannot write the expect file " << o.expect << " ("
                << std::strerror(errno) << ")\n";
            return 2;
        }
    }

    boost::asio::io_context io;
    boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
    const sigpipe_ignored sigpipe;
    meter_port port(io);
    if (const int status = open_port(port, o, listen_at, out, err); status != 0) return status;
    say_what_is_sent(o, port, what, key, seed, err);

    std::optional<line_timing> timing;
    if (o.speed) timing = line_timing{o.baud, o.frame_gap_ms, o.interval_s, *o.speed};
    std::optional<line_pacer> pacer;

    push_sender::outcome result = push_sender::outcome::stopped;
    lost_pushes lost;
    push_sender::handlers h;
    h.on_push = [&](std::uint64_t seq, const char* fault, const nlohmann::json& expected) {
        if (port.is_listener()) lost.push_begins(port.dropped_bytes());
        if (!expect.is_open()) return true;
        const nlohmann::json line = {{"seq", seq}, {"fault", fault}, {"reading", expected}};
        expect << line.dump() << std::endl;
        if (expect) return true;
        err << prefix << "cannot write the expect file " << o.expect << " (" << std::strerror(errno)
            << ")\n";
        return false;
    };
    h.on_done = [&](push_sender::outcome r) {
        result = r;
        if (r != push_sender::outcome::completed) {
            port.cancel();
            stop_signals.cancel();
            return;
        }
        port.finish([&](std::size_t undelivered) {
            if (undelivered > 0) {
                err << prefix << "nobody read the last " << undelivered << " bytes from "
                    << port.name() << " within 5 s; they are discarded.\n";
            }
            port.cancel();  // an AMIS meter's read of the answers ends too
            stop_signals.cancel();
        });
    };
    // An AMIS meter waits for its reader's answers; the others just send. Both start when the
    // line has a reader (a listener's first), their pace counted from then.
    std::unique_ptr<push_sender> sender;
    std::unique_ptr<amis_master> master;
    std::unique_ptr<amis_sender> amis;
    amis_report report(err);
    const auto start = [&] {
        if (o.framing != link_layer::amis) {
            pacer.emplace(timing, line_pacer::clock::now());
            sender = std::make_unique<push_sender>(io, port, *source, faults, *pacer, o.count,
                                                   std::move(h));
            sender->start();
            return;
        }
        amis_master::options mo;
        const double speed = o.speed.value_or(0.0);
        const auto scaled = [&](double seconds) {
            return std::chrono::duration_cast<amis_master::clock::duration>(
                std::chrono::duration<double>(speed > 0 ? seconds / speed : 0.0));
        };
        mo.search_interval = scaled(o.search_interval_s);
        mo.push_interval = scaled(o.interval_s);
        master = std::make_unique<amis_master>(mo, amis_master::clock::now());
        auto* made_up = dynamic_cast<amis_source*>(source.get());
        auto make = [&, made_up](std::uint8_t access_number, bool fcb, push_bytes& p) {
            if (made_up) made_up->set_frame_header(access_number, fcb);
            return source->next(p);
        };
        amis_sender::handlers ah;
        ah.on_push = h.on_push;
        ah.on_done = h.on_done;
        ah.on_result = [&](const amis_master::result& r, std::uint64_t seq) { report.say(r, seq); };
        if (timing) timing->frame_gap_ms = 0;
        amis = std::make_unique<amis_sender>(io, port, make, faults, *master, timing, o.count,
                                             o.drop_ack, std::move(ah));
        amis->start();
    };
    bool stopping = false;  // a signal before the line was ready: nothing starts
    stop_signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        stopping = true;
        if (sender) sender->stop();
        if (amis) amis->stop();
        port.cancel();
    });
    if (port.is_listener()) {
        err << prefix << "waiting for a reader on " << port.name()
            << "; the pushes start when one connects" << std::endl;
    }
    port.async_wait_ready([&](const std::error_code& ec) {
        if (!ec && !stopping) start();
    });
    io.run();
    const std::error_code error = sender ? sender->error()
                                  : amis ? amis->error()
                                         : std::error_code{};
    const std::uint64_t failed_seq = sender ? sender->failed_seq() : amis ? amis->failed_seq() : 0;
    if (port.is_listener()) {
        lost.run_ends(port.dropped_bytes());
        err << prefix << lost.sent() << " push(es) sent to " << port.name() << ", " << lost.lost()
            << " of them lost (sent, at least in part, while no reader was "
            << "connected); " << port.connections() << " reader connection(s)\n";
    }
    if (master) {
        report.say_summary(master->statistics());
        if (!o.report.empty()) {
            std::ofstream file(o.report, std::ios::trunc);
            file << amis_report::figures(master->statistics()).dump() << "\n";
            if (!file.flush()) {
                err << prefix << "cannot write the report file " << o.report << " ("
                    << std::strerror(errno) << ")\n";
                return 1;
            }
        }
    }

    switch (result) {
        case push_sender::outcome::completed:
            return 0;
        case push_sender::outcome::stopped:
            err << prefix << "stopped\n";
            return 0;
        case push_sender::outcome::build_failed:
            err << prefix << "could not build push " << failed_seq << ": " << error.message()
                << "\n";
            return 1;
        case push_sender::outcome::write_failed:
            if (error == std::errc::operation_not_supported) {
                err << prefix << "an AMIS meter needs its reader's answers: --device must be a "
                    << "serial port, not a file or pipe (or leave it out for a pseudo-terminal)\n";
                return 1;
            }
            if (port.is_listener()) {
                err << prefix << "writing to " << port.name() << " failed: " << error.message()
                    << "\n";
                return 1;
            }
            err << prefix << "writing to " << port.name() << " failed: " << error.message() << ". "
                << (port.is_pty() ? "The pseudo-terminal was closed unexpectedly."
                                  : "The serial adapter may have been unplugged, or the reader "
                                    "of the file or pipe went away; check it and start again.")
                << "\n";
            return 1;
        case push_sender::outcome::refused:
            return 1;
    }
    return 1;
}

}  // namespace evn_mbus

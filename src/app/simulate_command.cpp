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
#include <ostream>
#include <random>
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

// Opens the pty or the device; the exit status if that fails (its message written), else 0.
int open_port(meter_port& port, const simulate_options& o, std::ostream& out, std::ostream& err) {
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
    if (const int status = open_port(port, o, out, err); status != 0) return status;
    say_what_is_sent(o, port, what, key, seed, err);

    std::optional<line_timing> timing;
    if (o.speed) timing = line_timing{o.baud, o.frame_gap_ms, o.interval_s, *o.speed};
    line_pacer pacer(timing, line_pacer::clock::now());

    push_sender::outcome result = push_sender::outcome::stopped;
    push_sender::handlers h;
    h.on_push = [&](std::uint64_t seq, const char* fault, const nlohmann::json& expected) {
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
    // An AMIS meter waits for its reader's answers; the others just send.
    std::unique_ptr<push_sender> sender;
    std::unique_ptr<amis_master> master;
    std::unique_ptr<amis_sender> amis;
    amis_report report(err);
    if (o.framing == link_layer::amis) {
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
    } else {
        sender =
            std::make_unique<push_sender>(io, port, *source, faults, pacer, o.count, std::move(h));
    }
    stop_signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (sender) sender->stop();
        if (amis) amis->stop();
        port.cancel();
    });
    if (sender) sender->start();
    if (amis) amis->start();
    io.run();
    const std::error_code error = sender ? sender->error() : amis->error();
    const std::uint64_t failed_seq = sender ? sender->failed_seq() : amis->failed_seq();
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

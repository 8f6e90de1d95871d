#include <cstdlib>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "simulate_command.hpp"

namespace evn_mbus {

command add_simulate_command(CLI::App& parent) {
    struct state {
        simulate_options options;
        std::string speed = "1";
        std::uint64_t seed = 0;
        bool pty = false;  // the default anyway; accepted so scripts can say it
        std::string framing = "mbus";
    };
    auto s = std::make_shared<state>();
    simulate_options& o = s->options;
    CLI::App* sub = parent.add_subcommand(
        "simulate",
        "Pretend to be an EVN Kaifa MA309M smart meter (or, with --link-layer amis, an AMIS "
        "meter of Netz OOe that waits for answers): send encrypted pushes to a pseudo-terminal "
        "(its path is printed on the first line), a serial port, a file or, like a meter behind "
        "a serial-to-network bridge, over TCP");
    auto* device = sub->add_option("--device", o.device,
                                   "send to this serial port (set to baud, 8E1) or file instead "
                                   "of a pseudo-terminal");
    auto* pty = sub->add_flag("--pty", s->pty, "create a pseudo-terminal (the default)");
    device->excludes(pty);
    auto* listen = sub->add_option(
        "--listen", o.listen,
        "be a meter behind a raw serial-to-network bridge (like ser2net): listen on "
        "tcp://HOST:PORT (tcp://[::1]:PORT for IPv6; port 0 picks a free one) and print the "
        "address on the first line; the pushes start when the first reader connects, one reader "
        "at a time (a new one replaces the old), and pushes sent while none is connected are "
        "lost, as on a real bridge, and counted at the end (with --speed max they wait for the "
        "next reader). Raw TCP only: for rfc2217:// put ser2net in front of a pseudo-terminal");
    listen->excludes(pty);
    sub->add_option("--link", o.link,
                    "also make this symlink to the pseudo-terminal, e.g. /tmp/meter (removed "
                    "on exit)");
    sub->add_option("--link-layer", s->framing,
                    "frame the made-up pushes as M-Bus long frames (mbus, like EVN's Kaifa), "
                    "HDLC frames (hdlc), HDLC frames carrying general-block-transfer blocks "
                    "(hdlc-gbt, like the Landis+Gyr E450) or as a P1 port's bare APDU with a "
                    "DSMR text (apdu, like Energienetze Steiermark's meters; --baud 115200), or "
                    "be an AMIS meter of Netz OOe (amis: EN 13757-3 pushes in OMS mode 5 at "
                    "9600 baud, one a second, each only after the reader answered the last "
                    "with E5h; a search with SND_NKE once a minute until it does)")
        ->check(CLI::IsMember({"mbus", "hdlc", "hdlc-gbt", "apdu", "amis"}))
        ->capture_default_str();
    sub->add_option("--replay", o.replay,
                    "send the telegrams of this capture file (hex text or raw bytes) in a loop "
                    "instead of made-up values (repeats keep their frame counter: evn-mbus run "
                    "publishes each telegram once)");
    sub->add_option("--key", o.key,
                    "AES key to encrypt with (32 hex digits); default: the key of EVN's "
                    "published example");
    sub->add_option("--meter-number", o.meter_number, "meter number to send");
    sub->add_option("--count", o.count, "stop after this many pushes (default: run until stopped)");
    auto* interval = sub->add_option("--interval", o.interval_s,
                                     "seconds from one push to the next (amis: 1 by default)")
                         ->capture_default_str();
    sub->add_option("--speed", s->speed,
                    "run this many times faster than real time, or 'max' for no pacing at all")
        ->capture_default_str();
    auto* baud = sub->add_option("--baud", o.baud,
                                 "line speed; bytes take 11 bits (8E1) (amis: 9600 by default)")
                     ->capture_default_str();
    sub->add_option("--frame-gap-ms", o.frame_gap_ms, "pause between the frames of one push")
        ->capture_default_str();
    sub->add_flag("--noise", o.noise, "send random bytes between pushes");
    sub->add_option("--corrupt", o.corrupt, "probability that a frame gets one bit flipped");
    sub->add_option("--drop-frame", o.drop_frame,
                    "probability that a push loses its continuation frame");
    sub->add_option("--truncate", o.truncate,
                    "probability that a push has one frame cut short (the rest never sent)");
    sub->add_option("--oversize", o.oversize,
                    "probability that a push's first frame is longer than an M-Bus frame may be");
    sub->add_option("--search-interval", o.search_interval_s,
                    "amis: seconds between the meter's searches (SND_NKE) while no reader answers")
        ->capture_default_str();
    sub->add_option("--drop-ack", o.drop_ack,
                    "amis: probability that the meter does not hear the reader's E5h (it sends "
                    "the push again)");
    sub->add_option("--report", o.report,
                    "amis: at the end, write the acknowledgement figures (answered, late, "
                    "missing, latency p50/p99/max) to this file as JSON");
    auto* seed = sub->add_option("--seed", s->seed,
                                 "start the made-up values and faults from this number, to "
                                 "repeat a run (default: random, printed at the start)");
    sub->add_option("--expect", o.expect,
                    "write one JSON line per push to this file: its number, its fault and what "
                    "it should decode to");
    return {sub, [s, seed, interval, baud]() -> int {
                simulate_options& opts = s->options;
                opts.framing = s->framing == "mbus"   ? link_layer::mbus
                               : s->framing == "apdu" ? link_layer::apdu
                               : s->framing == "amis" ? link_layer::amis
                                                      : link_layer::hdlc;
                if (opts.framing == link_layer::amis) {
                    // The IR interface's line and the meter's pace, unless told otherwise.
                    if (interval->count() == 0) opts.interval_s = 1.0;
                    if (baud->count() == 0) opts.baud = 9600;
                }
                opts.block_transfer = s->framing == "hdlc-gbt";
                if (seed->count() > 0) opts.seed = s->seed;
                if (s->speed == "max") {
                    opts.speed.reset();
                } else {
                    char* end = nullptr;
                    const double v = std::strtod(s->speed.c_str(), &end);
                    if (end == s->speed.c_str() || *end != '\0' || !(v > 0)) {
                        std::cerr << "evn-mbus simulate: --speed takes a number above 0 (2 = "
                                     "twice as fast) or 'max'\n";
                        return 2;
                    }
                    opts.speed = v;
                }
                return run_simulate(opts, std::cout, std::cerr);
            }};
}

}  // namespace evn_mbus

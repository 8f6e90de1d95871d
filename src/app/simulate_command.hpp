// `evn-mbus simulate`: an EVN Kaifa MA309M on a pseudo-terminal (or a serial port or a file),
// so the daemon can be tried, tested and bugs reproduced without a smart meter.
//
// An AMIS meter (--link-layer amis) searches for its reader with SND_NKE and sends its pushes
// only while the reader answers each with E5h; missing, late and wrong answers are said, and
// the figures written at the end.
//
// Pushes are synthesized from a load_profile and encrypted with the given key like the real
// meter's (system title "KFM...", security control 20h, increasing frame counter, two M-Bus
// frames of 256 and 26 bytes), or replayed from a capture file. Timing is the real line's by
// default: 11 bits per byte (8E1) at the baud rate, a gap between the frames of a push, a
// push every `interval_s`.
//
// Readers that open the pty late lose nothing: the simulator holds the slave side open, so
// bytes wait in the kernel until read (see pty_device.hpp). So scripts and tests may start
// the simulator, read the path it prints and open it then; no start delay is needed. At the
// end of a --count run it waits until the reader has taken every byte (at most a few seconds
// if nobody reads), because closing a pty discards what is still buffered.
//
// With --listen tcp://HOST:PORT it is a meter behind a raw serial-to-network bridge instead:
// the pushes start when the first reader connects, a new reader replaces the old one, and
// pushes sent while none is connected are lost as on a real bridge, and counted at the end.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "evn_mbus/link_layer.hpp"

namespace evn_mbus {

struct simulate_options {
    std::string device;  // write to this serial port or file; empty: create a pty
    // tcp://HOST:PORT: listen there for one reader at a time, like a serial-to-network bridge
    // with the meter behind it (tcp_meter_line.hpp); port 0 picks a free one.
    std::string listen;
    std::string link;    // pty only: a symlink to its slave, removed on exit
    std::string replay;  // capture file (hex text or raw) to send in a loop instead
    // The key of EVN's published example telegram: `evn-mbus decode` users already have it.
    std::string key = "36C66639E48A8CA4D6BC8B282A793BBB";
    std::string meter_number;           // empty: derived from the seed
    std::uint64_t count = 0;            // pushes to send; 0: until stopped
    double interval_s = 5.0;            // from the start of one push to the next
    std::optional<double> speed = 1.0;  // divides every time; nullopt: no pacing at all
    unsigned baud = 2400;
    double frame_gap_ms = 160.0;  // between the frames of one push
    bool noise = false;           // random bytes between pushes
    double corrupt = 0.0;         // probability that a frame gets one bit flipped
    double drop_frame = 0.0;      // probability that a push loses a continuation frame
    double truncate = 0.0;        // probability that a push has a frame cut short
    double oversize = 0.0;        // probability that a push's first frame outgrows the M-Bus limit
    std::optional<std::uint64_t> seed;  // nullopt: a random one, printed for reproduction
    std::string expect;                 // JSON Lines file: what each push should decode to
    // --link-layer: how made-up pushes are framed: M-Bus long frames like EVN's Kaifa (mbus),
    // HDLC frames (hdlc), or HDLC with general-block-transfer blocks like the Landis+Gyr E450;
    // amis: an AMIS meter of Netz OOe, the M-Bus master that waits for the reader's E5h
    // (amis_master.hpp; `interval_s` is then the time between its SND_UD, 1 s by default).
    link_layer framing = link_layer::mbus;
    bool block_transfer = false;      // with framing hdlc
    double search_interval_s = 60.0;  // amis: between searches while nobody answers
    double drop_ack = 0.0;            // amis: probability that the meter does not hear an E5h
    std::string report;               // amis: a JSON file with the acknowledgement figures
};

// Prints the pty's slave path, or the address listened on (tcp://127.0.0.1:41234), as the
// first line of `out` (flushed) when it creates one; messages go to `err`. A listener sends
// nothing before the first reader has connected. Exit status: 0 done or stopped by SIGINT/SIGTERM,
// 1 an I/O error, 2 unusable options.
int run_simulate(const simulate_options& options, std::ostream& out, std::ostream& err);

}  // namespace evn_mbus

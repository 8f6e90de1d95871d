#include "decode_command.hpp"

#include <algorithm>
#include <ostream>
#include <set>

#include "capture_reader.hpp"
#include "evn_mbus/apdu_tag.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "input_file.hpp"
#include "key_text.hpp"
#include "reading_json.hpp"
#include "reading_text.hpp"

namespace evn_mbus {
namespace {

constexpr const char* prefix = "evn-mbus decode: ";

std::string ordinal(unsigned n) {
    static const char* const words[] = {"first", "second", "third", "fourth", "fifth"};
    if (n >= 1 && n <= 5) return words[n - 1];
    return "frame " + std::to_string(n);
}

// A push cut short at the end of the input: say how much of it came, in frames.
std::string incomplete_message(const decode_event& ev) {
    if (ev.frames == 0) return ev.error.message();
    std::string s;
    if (ev.frames_expected > ev.frames) {
        s = ev.frames == 1 ? "first frame" : "first " + std::to_string(ev.frames) + " frames";
        s += " of " + std::to_string(ev.frames_expected) + " only: the push continues in a ";
        s += ev.frames_expected == ev.frames + 1 ? ordinal(ev.frames + 1) + " frame"
                                                 : "further frame";
    } else {
        s = std::to_string(ev.frames) +
            " frame(s) of a push only: it continues in a further "
            "frame";
    }
    return s + ", which is not in the input (capture the whole push); push dropped";
}

void report(std::ostream& err, std::size_t telegram, const decode_event& ev) {
    const std::string message =
        ev.error == errc::incomplete_push ? incomplete_message(ev) : ev.error.message();
    err << prefix << "telegram " << telegram << ": " << message << " [" << error_name(ev.error)
        << "]\n";
}

}  // namespace

int run_decode(const decode_options& options, input_file& in, std::ostream& out,
               std::ostream& err) {
    decoder_keys keys;
    const key_check key = check_key_text(options.key, true);
    if (!key.key) {
        err << prefix << options.key_from << ": the key " << key.problem << "\n";
        return 2;
    }
    keys.key = *key.key;
    if (options.auth_key) {
        const key_check auth = check_key_text(*options.auth_key, false);
        if (!auth.key) {
            err << prefix << options.auth_key_from << ": the authentication key " << auth.problem
                << "\n";
            return 2;
        }
        keys.auth_key = *auth.key;
    }

    telegram_decoder decoder(keys, decoder_options{options.link, options.layout});
    std::set<std::string> advised_shapes;  // said once per push shape, as the daemon does
    capture_reader reader;
    std::vector<std::uint8_t> bytes;
    std::size_t telegrams = 0;
    std::size_t failed = 0;
    std::size_t total = 0;
    std::size_t since_frame = 0;  // line bytes since the last event
    // An input that starts like a bare 0Fh or E0h APDU (a peer's dump, an operator's
    // document) may be one: it has no framing to find it by. It is held back, up to
    // `head_max` bytes, and decoded whole at the end; if it is longer or does not decode as
    // one, it goes through the decoder as any capture (a raw capture may start mid-frame).
    std::vector<std::uint8_t> head;
    constexpr std::size_t head_max = 16384;
    // Not from a serial device or terminal, which never ends: its pushes are printed as they
    // come.
    bool holding = (options.link == link_layer::auto_detect || options.link == link_layer::apdu) &&
                   !in.is_device();
    bool started = false;
    const auto print = [&](const reading& r) {
        // Flushed line by line: a reader at the other end of a pipe sees each telegram as it
        // completes.
        out << to_json(r).dump() << std::endl;
        if (r.layout == value_layout::untagged && r.untagged_values > 0) {
            if (advised_shapes.insert(shape_key(r)).second) {
                err << prefix << "telegram " << telegrams << ": "
                    << layout_advice(r, layout_setting_text(options.layout))
                    << " (here: --layout \"[...]\")\n";
            }
        }
    };
    const auto drain = [&] {
        for (;;) {
            const decode_event ev = decoder.next();
            if (ev.what == decode_event::kind::need_more) break;
            if (ev.what == decode_event::kind::answer) continue;  // a capture is not answered
            // Nor is a recorded search a problem of the capture (--link mbus only listens).
            if (ev.what == decode_event::kind::error && ev.error == errc::amis_not_answered) {
                continue;
            }
            since_frame = 0;
            ++telegrams;
            if (ev.what == decode_event::kind::error) {
                ++failed;
                report(err, telegrams, ev);
                continue;
            }
            print(*ev.value);
        }
    };
    // Takes bytes of the input: held back while it may be one bare APDU, else decoded.
    const auto take = [&](const std::vector<std::uint8_t>& b) {
        if (!started && !b.empty()) {
            started = true;
            holding = holding && (b[0] == apdu_tag::data_notification ||
                                  b[0] == apdu_tag::general_block_transfer);
        }
        if (holding) {
            head.insert(head.end(), b.begin(), b.end());
            if (head.size() <= head_max) return;
            holding = false;  // too long for one APDU
            decoder.feed(head);
            drain();
            return;
        }
        decoder.feed(b);
        drain();
    };
    const auto bad_input = [&](const std::string& problem) {
        err << prefix << in.name() << " is not a capture (" << reader.format_name()
            << "): " << problem << "\n";
        return 1;
    };

    static char buffer[16384];
    std::string problem;
    for (;;) {
        const long n = in.read(buffer, problem);
        if (n < 0) {
            err << prefix << "the capture " << in.name() << " " << problem << "\n";
            return 2;
        }
        if (n == 0) break;
        bytes.clear();
        problem = reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)), bytes);
        if (!problem.empty()) return bad_input(problem);
        total += bytes.size();
        since_frame += bytes.size();
        take(bytes);
        if (since_frame > options.max_bytes_without_frame) {
            err << prefix << "stopped: " << since_frame << " bytes of " << in.name()
                << " without a single M-Bus or HDLC frame or APDU; this is not a capture of a "
                   "meter "
                   "(it reads at most "
                << options.max_bytes_without_frame << " bytes without one)\n";
            return 2;
        }
    }
    bytes.clear();
    problem = reader.finish(bytes);
    if (!problem.empty()) return bad_input(problem);
    total += bytes.size();
    take(bytes);
    std::error_code bare_error;
    if (holding && !head.empty()) {
        reading r;
        bare_error = decoder.decode_bare(head, r);
        if (!bare_error) {
            telegrams = 1;
            print(r);
            return 0;
        }
        decoder.feed(head);  // not one bare APDU, or a damaged one: as any capture
    }
    // The end of the input: partial frames and pushes are reported now.
    decoder.end_of_input();
    drain();
    if (telegrams == 0) {
        err << prefix << "no M-Bus telegram found in the input, nor an HDLC one, nor a bare APDU ("
            << total << " bytes";
        if (reader.detected() != capture_reader::format::undecided) {
            err << " of " << reader.format_name();
        }
        err << ")\n";
        if (bare_error) {
            // It starts like a bare APDU: what is wrong with it as one.
            err << prefix << "read as one bare APDU (it starts with "
                << (head[0] == apdu_tag::data_notification ? "0F" : "E0")
                << "), it fails: " << bare_error.message() << " [" << error_name(bare_error)
                << "]\n";
        }
        // Auto-detection takes a bare APDU only when a tag or a DSMR CRC checked it.
        if (options.link == link_layer::auto_detect && decoder.statistics().unchecked_apdus > 0) {
            err << prefix
                << "the input holds a bare APDU (DB 08 ...) that nothing checked (no "
                   "authentication key, no DSMR checksum): give --link apdu to decode it as one\n";
        }
        return 1;
    }
    return failed == 0 ? 0 : 1;
}

}  // namespace evn_mbus

#include "decode_command.hpp"

#include <istream>
#include <ostream>

#include "capture_input.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "reading_json.hpp"

namespace evn_mbus {
namespace {

void report(std::ostream& err, std::size_t telegram, const std::error_code& ec) {
    err << "evn-mbus decode: telegram " << telegram << ": " << ec.message() << " ["
        << error_name(static_cast<errc>(ec.value())) << "]\n";
}

}  // namespace

int run_decode(const decode_options& options, std::istream& in, std::ostream& out,
               std::ostream& err) {
    decoder_keys keys;
    if (parse_key(options.key, keys.key)) {
        err << "evn-mbus decode: --key: " << make_error_code(errc::bad_key).message() << "\n";
        return 2;
    }
    if (options.auth_key) {
        aes_key ak{};
        if (parse_key(*options.auth_key, ak)) {
            err << "evn-mbus decode: --auth-key: " << make_error_code(errc::bad_key).message()
                << "\n";
            return 2;
        }
        keys.auth_key = ak;
    }

    std::vector<std::uint8_t> capture;
    if (auto ec = read_capture(in, capture)) {
        err << "evn-mbus decode: the input looks like hex text but is not valid hex (an odd "
               "number of digits or a stray character)\n";
        return 1;
    }

    telegram_decoder decoder(keys);
    decoder.feed(capture);
    // End of input is the end of the line's activity: let partial frames be reported.
    decoder.on_idle_gap();
    std::size_t telegrams = 0;
    std::size_t failed = 0;
    for (;;) {
        const decode_event ev = decoder.next();
        if (ev.what == decode_event::kind::need_more) break;
        ++telegrams;
        if (ev.what == decode_event::kind::error) {
            ++failed;
            report(err, telegrams, ev.error);
            continue;
        }
        out << to_json(*ev.value).dump() << "\n";
    }
    out.flush();
    if (telegrams == 0) {
        err << "evn-mbus decode: no M-Bus telegram found in the input, nor an HDLC one ("
            << capture.size() << " bytes)\n";
        return 1;
    }
    return failed == 0 ? 0 : 1;
}

}  // namespace evn_mbus

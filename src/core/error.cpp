#include "evn_mbus/error.hpp"

#include <string>

namespace evn_mbus {
namespace {

// The message is what a user reads in the journal: say what happened and what to do.
const char* message_for(errc e) noexcept {
    switch (e) {
        case errc::ok:
            return "success";
        case errc::bad_checksum:
            return "M-Bus frame checksum wrong (line noise or a loose wire); frame dropped";
        case errc::bad_stop_byte:
            return "M-Bus frame did not end with the stop byte 16h (line noise); frame dropped";
        case errc::truncated_frame:
            return "M-Bus frame cut off: the line went quiet before the frame was complete";
        case errc::unsupported_ci:
            return "M-Bus frame is not a DLMS segment (CI field not 00h..1Fh); ignored";
        case errc::frame_too_short:
            return "M-Bus frame too short to carry a DLMS segment";
        case errc::missing_segment:
            return "part of a push was lost on the wire (a segment is missing); push dropped";
        case errc::truncated_telegram:
            return "push ended before its DLMS length was reached; push dropped";
        case errc::telegram_too_long:
            return "push longer than any meter sends; dropped";
        case errc::length_mismatch:
            return "push carries more bytes than its DLMS length says; dropped";
        case errc::unsupported_apdu:
            return "DLMS message type not supported";
        case errc::bad_security_header:
            return "malformed DLMS security header";
        case errc::unsupported_security:
            return "DLMS security suite or options not supported (only AES-128-GCM)";
        case errc::tag_mismatch:
            // The GCM tag covers the key and the authentication key alike: a wrong key fails
            // here too, not as not_a_valid_apdu.
            return "authentication tag does not match: the key or the authentication key is "
                   "wrong (the tag checks both: compare meter.key and meter.auth_key, or --key "
                   "and --auth-key, with your grid operator's portal), or the data was altered "
                   "on the way";
        case errc::not_a_valid_apdu:
            return "decrypted, but the result is not valid meter data: the key is most likely "
                   "wrong; copy the key for this meter from your grid operator's web portal";
        case errc::crypto_failure:
            return "OpenSSL refused the AES-GCM operation";
        case errc::axdr_truncated:
            return "meter data ends in the middle of a value";
        case errc::axdr_unknown_type:
            return "meter data contains an unknown data type";
        case errc::axdr_too_deep:
            return "meter data is nested deeper than any meter sends";
        case errc::axdr_too_many_nodes:
            return "meter data has more values than any meter sends";
        case errc::bad_notification:
            return "malformed data-notification header";
        case errc::trailing_bytes:
            return "unexpected bytes after the meter data";
        case errc::bad_key:
            return "a key must be 32 hex digits (16 bytes); spaces and 0x are allowed";
        case errc::bad_hex:
            return "not valid hex text";
        case errc::hdlc_bad_format:
            return "HDLC frame header impossible (length or address field damaged, line noise); "
                   "frame dropped";
        case errc::hdlc_bad_hcs:
            return "HDLC frame header checksum (HCS) wrong (line noise or a loose wire); frame "
                   "dropped";
        case errc::hdlc_bad_fcs:
            return "HDLC frame checksum (FCS) wrong (line noise or a loose wire); frame dropped";
        case errc::hdlc_missing_flag:
            return "HDLC frame did not end with the flag 7Eh where its length says (bytes lost "
                   "on the line); frame dropped";
        case errc::hdlc_truncated_frame:
            return "HDLC frame cut off: the line went quiet before the frame was complete";
        case errc::bad_block_transfer:
            return "malformed general-block-transfer block (the meter sends its push in "
                   "numbered blocks); push dropped";
        case errc::incomplete_push:
            return "the input ended in the middle of a push: the push continues in a further "
                   "frame that is not in the input (capture the whole push); push dropped";
    }
    return "unknown error";
}

class core_category_impl final : public std::error_category {
  public:
    const char* name() const noexcept override { return "evn_mbus"; }
    std::string message(int ev) const override { return message_for(static_cast<errc>(ev)); }
};

}  // namespace

std::string_view error_name(errc e) noexcept {
    switch (e) {
        case errc::ok:
            return "ok";
        case errc::bad_checksum:
            return "bad_checksum";
        case errc::bad_stop_byte:
            return "bad_stop_byte";
        case errc::truncated_frame:
            return "truncated_frame";
        case errc::unsupported_ci:
            return "unsupported_ci";
        case errc::frame_too_short:
            return "frame_too_short";
        case errc::missing_segment:
            return "missing_segment";
        case errc::truncated_telegram:
            return "truncated_telegram";
        case errc::telegram_too_long:
            return "telegram_too_long";
        case errc::length_mismatch:
            return "length_mismatch";
        case errc::unsupported_apdu:
            return "unsupported_apdu";
        case errc::bad_security_header:
            return "bad_security_header";
        case errc::unsupported_security:
            return "unsupported_security";
        case errc::tag_mismatch:
            return "tag_mismatch";
        case errc::not_a_valid_apdu:
            return "not_a_valid_apdu";
        case errc::crypto_failure:
            return "crypto_failure";
        case errc::axdr_truncated:
            return "axdr_truncated";
        case errc::axdr_unknown_type:
            return "axdr_unknown_type";
        case errc::axdr_too_deep:
            return "axdr_too_deep";
        case errc::axdr_too_many_nodes:
            return "axdr_too_many_nodes";
        case errc::bad_notification:
            return "bad_notification";
        case errc::trailing_bytes:
            return "trailing_bytes";
        case errc::bad_key:
            return "bad_key";
        case errc::bad_hex:
            return "bad_hex";
        case errc::hdlc_bad_format:
            return "hdlc_bad_format";
        case errc::hdlc_bad_hcs:
            return "hdlc_bad_hcs";
        case errc::hdlc_bad_fcs:
            return "hdlc_bad_fcs";
        case errc::hdlc_missing_flag:
            return "hdlc_missing_flag";
        case errc::hdlc_truncated_frame:
            return "hdlc_truncated_frame";
        case errc::bad_block_transfer:
            return "bad_block_transfer";
        case errc::incomplete_push:
            return "incomplete_push";
    }
    return "unknown";
}

const std::error_category& core_category() noexcept {
    static const core_category_impl instance;
    return instance;
}

std::string_view error_name(const std::error_code& ec) noexcept {
    if (ec.category() != core_category()) return "other";
    return error_name(static_cast<errc>(ec.value()));
}

}  // namespace evn_mbus

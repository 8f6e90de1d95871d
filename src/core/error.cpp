#include "evn_mbus/error.hpp"

#include <array>
#include <string>

namespace evn_mbus {
namespace {

struct error_entry {
    errc code;
    std::string_view name;  // short and stable: counters, JSON, diagnostics
    const char* message;    // what a user reads in the journal: what happened, what to do
};

// One row per errc, in the order of the enum: the name and the message live together.
constexpr std::array error_table = std::to_array<error_entry>({
    {errc::ok, "ok", "success"},
    {errc::bad_checksum, "bad_checksum",
     "M-Bus frame checksum wrong (line noise or a loose wire); frame dropped"},
    {errc::bad_stop_byte, "bad_stop_byte",
     "M-Bus frame did not end with the stop byte 16h (line noise); frame dropped"},
    {errc::truncated_frame, "truncated_frame",
     "M-Bus frame cut off: the line went quiet before the frame was complete"},
    {errc::unsupported_ci, "unsupported_ci",
     "M-Bus frame is not a DLMS segment (CI field not 00h..1Fh); ignored"},
    {errc::frame_too_short, "frame_too_short", "M-Bus frame too short to carry a DLMS segment"},
    {errc::missing_segment, "missing_segment",
     "part of a push was lost on the wire (a segment is missing); push dropped"},
    {errc::truncated_telegram, "truncated_telegram",
     "push ended before its DLMS length was reached; push dropped"},
    {errc::telegram_too_long, "telegram_too_long", "push longer than any meter sends; dropped"},
    {errc::length_mismatch, "length_mismatch",
     "push carries more bytes than its DLMS length says; dropped"},
    {errc::unsupported_apdu, "unsupported_apdu", "DLMS message type not supported"},
    {errc::bad_security_header, "bad_security_header", "malformed DLMS security header"},
    {errc::unsupported_security, "unsupported_security",
     "DLMS security suite or options not supported (only AES-128-GCM)"},
    // The GCM tag covers the key and the authentication key alike: a wrong key fails
    // here too, not as not_a_valid_apdu.
    {errc::tag_mismatch, "tag_mismatch",
     "authentication tag does not match: the key or the authentication key is "
     "wrong (the tag checks both: compare meter.key and meter.auth_key, or --key "
     "and --auth-key, with your grid operator's portal), or the data was altered "
     "on the way"},
    {errc::not_a_valid_apdu, "not_a_valid_apdu",
     "decrypted, but the result is not valid meter data: the key is most likely "
     "wrong; copy the key for this meter from your grid operator's web portal"},
    {errc::crypto_failure, "crypto_failure", "OpenSSL refused the AES-GCM operation"},
    {errc::axdr_truncated, "axdr_truncated", "meter data ends in the middle of a value"},
    {errc::axdr_unknown_type, "axdr_unknown_type", "meter data contains an unknown data type"},
    {errc::axdr_too_deep, "axdr_too_deep", "meter data is nested deeper than any meter sends"},
    {errc::axdr_too_many_nodes, "axdr_too_many_nodes",
     "meter data has more values than any meter sends"},
    {errc::bad_notification, "bad_notification", "malformed data-notification header"},
    {errc::trailing_bytes, "trailing_bytes", "unexpected bytes after the meter data"},
    {errc::bad_key, "bad_key", "a key must be 32 hex digits (16 bytes); spaces and 0x are allowed"},
    {errc::bad_hex, "bad_hex", "not valid hex text"},
    {errc::hdlc_bad_format, "hdlc_bad_format",
     "HDLC frame header impossible (length or address field damaged, line noise); "
     "frame dropped"},
    {errc::hdlc_bad_hcs, "hdlc_bad_hcs",
     "HDLC frame header checksum (HCS) wrong (line noise or a loose wire); frame "
     "dropped"},
    {errc::hdlc_bad_fcs, "hdlc_bad_fcs",
     "HDLC frame checksum (FCS) wrong (line noise or a loose wire); frame dropped"},
    {errc::hdlc_missing_flag, "hdlc_missing_flag",
     "HDLC frame did not end with the flag 7Eh where its length says (bytes lost "
     "on the line); frame dropped"},
    {errc::hdlc_truncated_frame, "hdlc_truncated_frame",
     "HDLC frame cut off: the line went quiet before the frame was complete"},
    {errc::bad_block_transfer, "bad_block_transfer",
     "malformed general-block-transfer block (the meter sends its push in "
     "numbered blocks); push dropped"},
    {errc::incomplete_push, "incomplete_push",
     "the input ended in the middle of a push: the push continues in a further "
     "frame that is not in the input (capture the whole push); push dropped"},
    {errc::apdu_truncated, "apdu_truncated",
     "meter message cut off: the line went quiet before the message was as long as it "
     "says; dropped"},
    {errc::dsmr_bad_crc, "dsmr_bad_crc",
     "DSMR telegram checksum (CRC after \"!\") wrong (data altered on the way); telegram "
     "dropped"},
    {errc::dsmr_malformed, "dsmr_malformed",
     "DSMR telegram text malformed (no \"/\" header, no \"!\" end, or a line that is not "
     "OBIS(value)); telegram dropped"},
    {errc::oms_bad_header, "oms_bad_header",
     "M-Bus meter data header cut off, or its encrypted part not whole AES blocks; telegram "
     "dropped"},
    {errc::oms_unsupported_mode, "oms_unsupported_mode",
     "M-Bus meter data encrypted in a way evn-mbus does not decode (only OMS mode 5, "
     "AES-128-CBC); telegram dropped"},
    {errc::oms_not_decrypted, "oms_not_decrypted",
     "M-Bus meter data could not be decrypted: the key is wrong (compare meter.key with the "
     "key in your grid operator's portal) or the data was damaged; telegram dropped"},
    {errc::mbus_bad_record, "mbus_bad_record",
     "M-Bus meter data malformed (a record runs past the end or is not EN 13757-3); telegram "
     "dropped"},
    {errc::amis_not_answered, "amis_not_answered",
     "an AMIS meter (Netz Oberoesterreich) is looking for its reader, but serial.link is mbus, "
     "which only listens: the meter sends no values until it is answered; set serial.link: "
     "amis (or auto)"},
});

// The rows are indexed by value: a row out of place is a compile error, not a wrong name.
constexpr bool table_in_order() {
    for (std::size_t i = 0; i < error_table.size(); ++i) {
        if (static_cast<std::size_t>(error_table[i].code) != i) return false;
    }
    return true;
}
static_assert(table_in_order(), "error_table must list every errc in order");
static_assert(error_table.back().code == last_errc, "error_table misses an errc");

const error_entry* find(errc e) noexcept {
    const auto i = static_cast<std::size_t>(e);
    return i < error_table.size() ? &error_table[i] : nullptr;
}

class core_category_impl final : public std::error_category {
  public:
    const char* name() const noexcept override { return "evn_mbus"; }
    std::string message(int ev) const override {
        const error_entry* entry = find(static_cast<errc>(ev));
        return entry != nullptr ? entry->message : "unknown error";
    }
};

}  // namespace

std::string_view error_name(errc e) noexcept {
    const error_entry* entry = find(e);
    return entry != nullptr ? entry->name : "unknown";
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

// Error codes of the evn-mbus core. The core never throws: every failure is one of these,
// carried in a std::error_code so that adapters can log, count and compare them.
#pragma once

#include <string_view>
#include <system_error>

namespace evn_mbus {

// Each value names one way input can be bad. Keep the numbering stable: the daemon counts
// failures by name and the names appear in diagnostics.
enum class errc {
    ok = 0,
    // Link layer (EN 13757-2 long frame 68 L L 68 C A CI ... CS 16).
    bad_checksum = 1,  // frame checksum byte does not match the sum of the user data
    bad_stop_byte,     // byte after the checksum is not 16h
    truncated_frame,   // the line went idle before the frame was complete
    // Transport (segmentation by CI) and reassembly.
    unsupported_ci,      // CI field is not a DLMS segment (00h..1Fh)
    frame_too_short,     // frame has no room for C, A, CI, STSAP and DTSAP
    missing_segment,     // a segment number was skipped or a continuation came without a start
    truncated_telegram,  // the last segment came before the DLMS length was satisfied
    telegram_too_long,   // more data than any meter sends: bounded to stop memory growth
    length_mismatch,     // the segments carry more bytes than the DLMS length says
    // DLMS security (IEC 62056-5-3 general-glo/ded-ciphering).
    unsupported_apdu,      // APDU tag that the core does not decode
    bad_security_header,   // system title or ciphered-content length malformed
    unsupported_security,  // security suite or control bits that are not AES-128-GCM
    tag_mismatch,          // GCM tag did not verify: authentication key wrong or data altered
    not_a_valid_apdu,      // decrypted without a tag, but the result does not parse: wrong key
    crypto_failure,        // OpenSSL refused an operation (should not happen)
    // A-XDR (IEC 62056-6-2) and APDU structure.
    axdr_truncated,       // a length or count points beyond the end of the data
    axdr_unknown_type,    // a type tag that is not a COSEM data type
    axdr_too_deep,        // nesting deeper than any meter sends
    axdr_too_many_nodes,  // more elements than any meter sends
    bad_notification,     // data-notification header malformed
    trailing_bytes,       // bytes left after the notification body
    // Configuration-type input handled by the core.
    bad_key,  // a key that is not 32 hex digits
    bad_hex,  // hex text with a character that is not a hex digit
    // HDLC link layer: IEC 62056-46, MAC sub-layer, HDLC frame format type 3 (ISO/IEC 13239
    // Annex H.4): 7E | format | dst | src | control | HCS | info | FCS | 7E.
    hdlc_bad_format,       // frame length too short for its addresses and check sequences, or
                           // an address longer than 4 bytes (address field extension bit)
    hdlc_bad_hcs,          // header check sequence (CRC-16 over format..control) wrong
    hdlc_bad_fcs,          // frame check sequence (CRC-16 over format..information) wrong
    hdlc_missing_flag,     // no closing flag 7Eh where the frame length says the frame ends
    hdlc_truncated_frame,  // the line went idle before the frame was complete
    // DLMS general-block-transfer (IEC 62056-5-3, GBT: E0h | block-control | block-number |
    // block-number-ack | block-data). A missing block is missing_segment.
    bad_block_transfer,  // block header malformed or block-data length not the rest of the APDU
    // End of input (a capture, not the line: its idle gap falls between frames too).
    incomplete_push,  // the input ended in the middle of a push of several frames
    // Bare APDUs on the line, no link layer (the P1 port of Energienetze Steiermark's
    // Sagemcom T210-D-R: DBh 08h system-title A-XDR-length ...).
    apdu_truncated,  // the line went idle before the APDU's own length was reached
    // DSMR 5 text telegrams (NEN-EN-IEC 62056-21 mode D lines; DSMR P1 5.0.2 clause 6.12),
    // the plaintext of the P1 APDU.
    dsmr_bad_crc,    // the CRC-16 after "!" does not match the telegram
    dsmr_malformed,  // no "/" header, no "!" end, or a line that is not OBIS(value)
    // EN 13757-3 application layer with OMS security (AMIS meters of Netz Oberoesterreich:
    // CI 5Bh, short header, mode 5 AES-128-CBC, DIF/VIF records).
    oms_bad_header,        // short header cut off, or an encrypted length not whole blocks
    oms_unsupported_mode,  // a security mode other than none or 5 (AES-128-CBC)
    oms_not_decrypted,     // the plaintext does not start with 2F 2F: the key is wrong
    mbus_bad_record,       // a DIF/VIF record runs past the end or is malformed
    amis_not_answered,     // serial.link mbus (listen only) and an AMIS meter searching: said once
};

// The last code: the error table (error.cpp) and its test check that every code up to it
// has a row.
inline constexpr errc last_errc = errc::amis_not_answered;

// Short, stable, machine-readable name ("bad_checksum"), used for counters and JSON.
std::string_view error_name(errc e) noexcept;
// The same for any error code: "other" for codes outside the core's category.
std::string_view error_name(const std::error_code& ec) noexcept;

const std::error_category& core_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), core_category()};
}

}  // namespace evn_mbus

template <>
struct std::is_error_code_enum<evn_mbus::errc> : std::true_type {};

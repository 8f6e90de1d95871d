#include "synthesized_source.hpp"

namespace evn_mbus {

synthesized_source::synthesized_source(const load_profile_options& profile, const aes_key& key,
                                       std::chrono::milliseconds interval,
                                       std::uint32_t first_frame_counter)
    : profile_(profile), key_(key), interval_(interval), frame_counter_(first_frame_counter) {
    // "KFM" and a serial, like EVN's Kaifa (4B464D 6750000009); the serial follows the meter
    // number so that two simulated meters differ.
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

std::error_code synthesized_source::next(push_bytes& out) {
    simulated_push s = profile_.next(interval_);
    std::vector<std::uint8_t> apdu;
    if (framing_ == link_layer::apdu) {
        // A P1 port's push: the DSMR text, encrypted alone, no link layer around it. The DSMR
        // text names the clock and the meter number by OBIS code, so they are values too.
        const std::string text = telegram_encoder::encode_dsmr_push(s.push, "KFM5\\SIMULATED");
        if (auto ec =
                encoder_.encrypt({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                                 key_, std::nullopt, title_, frame_counter_++, 0x20, apdu)) {
            return ec;
        }
        s.expected["obis"]["0-0:1.0.0.255"] = {{"value", s.expected["clock"]}};
        s.expected["obis"]["0-0:96.1.0.255"] = {{"value", s.expected["meter_number"]}};
        s.expected["obis"]["1-3:0.2.8.255"] = {{"value", 50}};
        s.expected["device_name"] = "KFM5\\SIMULATED";
        out.frames = {std::move(apdu)};
        out.expected = std::move(s.expected);
        return {};
    }
    if (auto ec = encoder_.encrypt(telegram_encoder::encode_kaifa_notification(s.push), key_,
                                   std::nullopt, title_, frame_counter_++, 0x20, apdu)) {
        return ec;
    }
    if (framing_ == link_layer::hdlc) {
        // 120 data bytes per block, one block per frame, like the Landis+Gyr E450; or frames
        // of at most 128 information bytes (IEC 62056-46's default).
        out.frames = block_transfer_ ? telegram_encoder::segment_hdlc_blocks(apdu, 120, 128)
                                     : telegram_encoder::segment_hdlc(apdu, 128);
    } else {
        // 245 APDU bytes per frame: 256 + 26 bytes on the line, like the real meter.
        out.frames = telegram_encoder::segment_mbus(apdu, 245);
    }
    out.expected = std::move(s.expected);
    return {};
}

void synthesized_source::set_framing(link_layer framing, bool block_transfer) {
    framing_ = framing;
    block_transfer_ = block_transfer;
}

}  // namespace evn_mbus

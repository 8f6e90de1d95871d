// Made-up pushes of an EVN Kaifa MA309M: a load_profile's values, encrypted like the real
// meter's (system title "KFM...", security control 20h, a frame counter counting up), framed
// as two M-Bus long frames of 256 and 26 bytes, or as HDLC frames (with or without general
// block transfer, like the Landis+Gyr E450), or as a P1 port sends them: the same values as
// a DSMR text, encrypted as one bare APDU (like Energienetze Steiermark's Sagemcom T210-D-R).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "evn_mbus/link_layer.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "load_profile.hpp"
#include "push_source.hpp"

namespace evn_mbus {

class synthesized_source final : public push_source {
  public:
    // `interval`: the meter time between two pushes, whatever the simulator's speed.
    synthesized_source(const load_profile_options& profile, const aes_key& key,
                       std::chrono::milliseconds interval, std::uint32_t first_frame_counter);

    std::error_code next(push_bytes& out) override;

    const std::string& meter_number() const noexcept { return profile_.meter_number(); }
    void set_framing(link_layer framing, bool block_transfer);

  private:
    link_layer framing_ = link_layer::mbus;
    bool block_transfer_ = false;
    load_profile profile_;
    telegram_encoder encoder_;
    aes_key key_;
    std::chrono::milliseconds interval_;
    std::uint32_t frame_counter_;
    system_title title_{};
};

}  // namespace evn_mbus

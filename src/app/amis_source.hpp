// Made-up pushes of an AMIS meter of Netz Oberoesterreich (Siemens TD-3511) for
// `evn-mbus simulate --link-layer amis`: a load_profile's household, its values as the AMIS
// records (oms_encoder.hpp), with what each push must decode to, built from the values put in.
// The meter's master logic (search, acknowledgements, repeats) is amis_master's.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

#include "evn_mbus/oms_encoder.hpp"
#include "load_profile.hpp"
#include "push_source.hpp"

namespace evn_mbus {

class amis_source final : public push_source {
  public:
    // `interval`: the meter time between two pushes, whatever the simulator's speed.
    amis_source(const load_profile_options& profile, const aes_key& key,
                std::chrono::milliseconds interval);

    // The access number and frame count bit of the pushes from now on (the master's).
    void set_frame_header(std::uint8_t access_number, bool fcb) noexcept {
        access_number_ = access_number;
        fcb_ = fcb;
    }
    // The next push, as one SND_UD frame.
    std::error_code next(push_bytes& out) override;

    // The identification number the pushes carry: the last eight digits of the profile's.
    const std::string& meter_number() const noexcept { return id_text_; }

  private:
    load_profile profile_;
    oms_encoder encoder_;
    aes_key key_;
    std::chrono::milliseconds interval_;
    std::uint32_t id_ = 0;
    std::string id_text_;
    std::uint8_t access_number_ = 0;
    bool fcb_ = false;
    double reactive_varh_ = 0.0;  // R+, fractional; the meter shows whole varh
};

}  // namespace evn_mbus

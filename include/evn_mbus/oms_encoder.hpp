// Builds pushes the way an AMIS meter of Netz Oberoesterreich sends them (the inverse of
// oms_frame.hpp and mbus_records.hpp): the records of the operator's interface specification,
// encrypted with OMS security mode 5 (OMS Vol. 2 clause 9.4.3: AES-128-CBC, no padding, 2F 2F
// fillers), in an M-Bus SND_UD long frame to the reader at F0h (EN 13757-2 5.4) with CI 5Bh and
// the 12-byte header of EN 13757-3:2018 clause 7.5.2. For the simulator and tests; everything it
// makes is synthetic.
#pragma once

#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/hex.hpp"

struct evp_cipher_ctx_st;

namespace evn_mbus {

struct amis_push {
    std::uint32_t id = 0;                 // identification number, BCD (0x12345678: "12345678")
    std::uint16_t manufacturer = 0x4C2D;  // "SAM", Siemens
    std::uint8_t version = 0x01;
    std::uint8_t device_type = 0x0E;  // as the operator's example sends it
    std::uint8_t access_number = 0;
    std::uint8_t status = 0;
    bool fcb = false;  // frame count bit: C 73h instead of 53h
    // The meter's clock in Austrian local time; status_daylight_saving sets the summer-time
    // bit. Sent as type I (06 6Dh, EN 13757-3 Annex A).
    cosem_datetime clock;
    // In the specification's order: A+ and A- (Wh), R+ and R- (varh, tariff 1), P+ and P- (W),
    // Q+ and Q- (var), then the manufacturer's register 1-0:1.128.0 (FFh 04h).
    // DIF 04h is a signed 32-bit integer (type B): at most 2^31 - 1.
    std::uint32_t w_p = 0, w_n = 0, r_p = 0, r_n = 0, p_p = 0, p_n = 0, q_p = 0, q_n = 0;
    std::int32_t vendor_register = 0;
};

class oms_encoder {
  public:
    oms_encoder();
    ~oms_encoder();
    oms_encoder(const oms_encoder&) = delete;
    oms_encoder& operator=(const oms_encoder&) = delete;

    // The plain records, 2F 2F first and filled with 2Fh to whole 16-byte blocks (80 bytes).
    static std::vector<std::uint8_t> records(const amis_push& push);

    // The whole long frame, 68h to 16h, its records encrypted with `key` (mode 5, every block).
    // Errors: crypto_failure.
    std::error_code encode(const amis_push& push, const aes_key& key,
                           std::vector<std::uint8_t>& frame);

  private:
    struct ctx_deleter {
        void operator()(evp_cipher_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<evp_cipher_ctx_st, ctx_deleter> ctx_;
};

// The meter's search for its reader: SND_NKE to F0h (EN 13757-2 5.4, short frame).
inline constexpr std::uint8_t amis_snd_nke[] = {0x10, 0x40, 0xF0, 0x30, 0x16};

}  // namespace evn_mbus

// The EN 13757-3 application layer of AMIS meters (oms_frame.hpp, mbus_records.hpp) on what
// follows the CI field: the header, OMS mode 5 decryption with the Netz Oberoesterreich example
// key, and the DIF/VIF records, both of the decryption and of the raw input (seeds: the five
// AMIS frames' user data and plaintexts). Checked besides memory errors and undefined
// behaviour: a decryption that succeeds starts with 2F 2F; the same input gives the same
// reading twice; every value's accessors work.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "evn_mbus/mbus_records.hpp"
#include "evn_mbus/oms_frame.hpp"
#include "fuzz_support.hpp"

namespace {

std::string describe(const evn_mbus::reading& r) {
    std::string s = r.clock ? std::to_string(r.clock->time_since_epoch().count()) : "-";
    s += "/" + std::to_string(r.untagged_values);
    for (const auto& v : r.values) {
        s += "|" + v.code.to_string() + "/" + std::to_string(v.raw_signed) + "/" +
             std::to_string(v.raw_unsigned) + "/" + v.text + "/" + std::to_string(v.scaler);
        (void)v.scaled();
        (void)v.scaled_integer();
    }
    (void)r.named("w_p");
    return s;
}

std::string records(std::span<const std::uint8_t> in, std::error_code& ec) {
    evn_mbus::reading r;
    ec = evn_mbus::parse_mbus_records(in, r);
    return describe(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    std::error_code first_ec, second_ec;
    const std::string first = records(in, first_ec);
    const std::string second = records(in, second_ec);
    EVN_MBUS_FUZZ_CHECK(first == second && first_ec == second_ec);

    static const evn_mbus::aes_key key = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                          0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
    evn_mbus::oms_header header;
    if (evn_mbus::parse_oms_header(in, header)) return 0;
    evn_mbus::oms_decryptor d;
    d.set_key(key);
    std::vector<std::uint8_t> plain;
    if (d.decrypt(header, plain)) return 0;
    if (header.mode() == 5)
        EVN_MBUS_FUZZ_CHECK(plain.size() >= 2 && plain[0] == 0x2F && plain[1] == 0x2F);
    std::error_code ec;
    (void)records(plain, ec);
    return 0;
}

// Ciphered APDUs (general-glo/ded-ciphering): parse_security_header and dlms_decryptor, with
// the key and authentication key of the fixture whose system title the input carries (else the
// first), once with the authentication key and once without. Seeds are the fixtures' APDUs.
// Checked besides memory errors and undefined behaviour: content and tag lie inside the input,
// the A-XDR length covers exactly the rest, a verified tag needs an authentication key, and the
// plaintext has the ciphertext's length.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "evn_mbus/dlms_security.hpp"
#include "fixture_keys.hpp"
#include "fuzz_support.hpp"

namespace {

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> apdu(data, size);

    std::size_t pos = size > 0 ? data[0] % (size + 1) : 0;
    std::size_t length = 0;
    const std::size_t start = pos;
    if (evn_mbus::read_axdr_length(apdu, pos, length)) {
        EVN_MBUS_FUZZ_CHECK(pos > start && pos <= size);
    }

    evn_mbus::security_header header;
    if (evn_mbus::parse_security_header(apdu, header)) return 0;
    EVN_MBUS_FUZZ_CHECK(inside(header.content, apdu) && inside(header.auth_tag, apdu));
    EVN_MBUS_FUZZ_CHECK(header.auth_tag.empty() ||
                        header.auth_tag.size() == evn_mbus::gcm_tag_size);
    EVN_MBUS_FUZZ_CHECK(header.auth_tag.empty() ||
                        header.content.data() + header.content.size() == header.auth_tag.data());

    const evn_mbus::decoder_keys* keys = &evn_mbus::fuzz::fixture_key_sets[0].keys;
    for (const auto& f : evn_mbus::fuzz::fixture_key_sets) {
        if (f.title == header.title) keys = &f.keys;
    }
    // Reused like the daemon reuses its one decryptor: state must not leak between telegrams.
    static evn_mbus::dlms_decryptor with_auth;
    static evn_mbus::dlms_decryptor without_auth;
    with_auth.set_keys(keys->key, keys->auth_key ? keys->auth_key : keys->key);
    without_auth.set_keys(keys->key, std::nullopt);

    std::vector<std::uint8_t> plaintext;
    bool verified = true;
    if (!without_auth.decrypt(header, plaintext, verified)) {
        EVN_MBUS_FUZZ_CHECK(!verified);
        EVN_MBUS_FUZZ_CHECK(plaintext.size() == header.content.size());
    }
    if (!with_auth.decrypt(header, plaintext, verified)) {
        EVN_MBUS_FUZZ_CHECK(plaintext.size() == header.content.size());
        EVN_MBUS_FUZZ_CHECK(verified == !header.auth_tag.empty());
    }
    return 0;
}

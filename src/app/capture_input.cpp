#include "capture_input.hpp"

#include <iterator>
#include <string>
#include <string_view>

#include "evn_mbus/hex.hpp"

namespace evn_mbus {

std::error_code read_capture(std::istream& in, std::vector<std::uint8_t>& out) {
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size());
    if (looks_like_hex_text(bytes)) return parse_hex(data, out);
    out.assign(bytes.begin(), bytes.end());
    return {};
}

}  // namespace evn_mbus

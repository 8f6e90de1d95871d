// Reads a capture as users have them: hex text (as published or copied from a log) or the
// raw bytes a serial dump produced.
#pragma once

#include <cstdint>
#include <istream>
#include <system_error>
#include <vector>

namespace evn_mbus {

// Reads all of `in`; hex text is decoded, anything else is taken as raw binary.
std::error_code read_capture(std::istream& in, std::vector<std::uint8_t>& out);

}  // namespace evn_mbus

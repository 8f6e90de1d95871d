// Reads a capture file whole, as users have them: hex text (as published or copied from a
// log), an xxd dump, or the raw bytes a serial dump produced (see capture_reader).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace evn_mbus {

// The largest capture read whole: hours of pushes.
inline constexpr std::size_t max_capture_bytes = 16 * 1024 * 1024;

// "" with the line bytes in `out`, else what is wrong, as a sentence that follows the file's
// name ("is a folder, not a file", "cannot be read (Input/output error)", "line 3: 'g' is
// not a hex digit ...").
std::string read_capture_file(const std::string& path, std::vector<std::uint8_t>& out);

}  // namespace evn_mbus

// Reading the small files a configuration names (the configuration itself, key and password
// files), with messages a home owner can act on. Devices and pipes are refused: they could
// block or never end.
#pragma once

#include <cstddef>
#include <string>

namespace evn_mbus {

// "" if path names a regular file, else what is wrong with it ("does not exist", "is a
// folder, not a file", ...), to follow the file's name in a message.
std::string file_problem(const std::string& path);

// Reads a small regular file whole into out. "" on success, else what is wrong, as above.
std::string read_small_file(const std::string& path, std::size_t max_bytes, std::string& out);

}  // namespace evn_mbus

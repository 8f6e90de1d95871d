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

// A password or key file's content without the line end and blanks an editor leaves at its
// end (they are the editor's, not the secret's). The loader and the MQTT publisher both use it.
void trim_secret_file_text(std::string& content);

}  // namespace evn_mbus

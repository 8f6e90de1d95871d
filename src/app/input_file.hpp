// A capture read in chunks as it arrives: a regular file, a pipe, a pty or a serial device
// (not a folder), or standard input. Every failure is a sentence that follows the file's name
// ("... is a folder, not a file", "... cannot be read (Input/output error)"), never an
// exception: libstdc++'s filebuf throws on a read error (EISDIR, EIO) whatever the stream's
// exception mask says.
#pragma once

#include <termios.h>

#include <optional>
#include <span>
#include <string>

namespace evn_mbus {

class input_file {
  public:
    input_file() = default;
    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;
    ~input_file();

    // "" on success, else what is wrong with the file. Standard input for "" and "-".
    std::string open(const std::string& path);
    // What to call the input in a message: the path, or "standard input".
    const std::string& name() const noexcept { return name_; }
    // A terminal or serial device: it never ends, so nothing may wait for its end.
    bool is_device() const noexcept;
    // Waits for bytes: how many were read into `buffer`, 0 at the end of the input, -1 on an
    // error (then `problem` says what, as "cannot be read (Input/output error)").
    long read(std::span<char> buffer, std::string& problem);

  private:
    int fd_ = -1;
    bool owned_ = false;
    std::string name_;
    std::optional<termios> saved_terminal_;  // restored on close
};

}  // namespace evn_mbus

// A pseudo-terminal standing in for the meter's serial port: programs open the slave side
// (/dev/pts/N, or a stable symlink) as if it were /dev/ttyUSB0, the simulator writes to the
// master side.
//
// The pty keeps a slave descriptor of its own open for its whole life. Without it, the
// terminal would be torn down whenever the reader closes it, writes would fail with EIO, and
// bytes written before the first reader opened it would be lost. With it, bytes wait in the
// kernel's buffer (about 20 KB) until a reader takes them; once that is full, writes block.
#pragma once

#include <string>
#include <system_error>

namespace evn_mbus {

class pty_device {
  public:
    pty_device() = default;
    ~pty_device();
    pty_device(const pty_device&) = delete;
    pty_device& operator=(const pty_device&) = delete;

    // Creates the pty in raw mode (no echo, no line editing, 8 bits through). With a non-empty
    // `link`, also a symlink there to the slave; an existing symlink is replaced, anything
    // else at that path is left alone and reported as file_exists.
    std::error_code open(const std::string& link = {});

    // Removes the symlink (if it still points to our slave) and closes both sides. Readers
    // then see end of file. Safe to call twice.
    void close() noexcept;

    int master_fd() const noexcept { return master_; }
    const std::string& slave_path() const noexcept { return slave_path_; }
    const std::string& link_path() const noexcept { return link_; }

    // Bytes written but not yet read by anyone, as far as the kernel's line buffer tells.
    std::size_t unread_bytes() const noexcept;

  private:
    int master_ = -1;
    int slave_ = -1;
    std::string slave_path_;
    std::string link_;
};

}  // namespace evn_mbus

// A serial line for tests: a pseudo-terminal whose slave side is reached through a stable
// symlink (as a USB adapter's /dev/serial/by-id link would be). The test writes to the master
// side as a meter would; the program under test opens the link like a UART.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace evn_mbus::test {

class fake_uart {
  public:
    explicit fake_uart(std::filesystem::path link);
    ~fake_uart();
    fake_uart(const fake_uart&) = delete;
    fake_uart& operator=(const fake_uart&) = delete;

    const std::filesystem::path& link() const noexcept { return link_; }

    // A new pseudo-terminal behind the link.
    void plug();
    // Closing the master makes the reader's reads fail with EIO and the device disappear,
    // like pulling a USB adapter.
    void unplug();

    // Writes like a 2400 baud 8E1 line: 11 bit times per byte.
    void write_paced(const std::vector<std::uint8_t>& data, unsigned baud = 2400);
    void write_now(const std::vector<std::uint8_t>& data);
    // Each frame at line speed with `gap_ms` between frames, as the Kaifa MA309M sends a push.
    void send_push(const std::vector<std::vector<std::uint8_t>>& frames, unsigned gap_ms = 160);
    // What the program wrote back (an AMIS reader's acknowledgements): waits up to `within`
    // for `want` bytes and returns what came.
    std::vector<std::uint8_t> read_back(std::size_t want, std::chrono::milliseconds within);

  private:
    std::filesystem::path link_;
    int master_ = -1;
};

}  // namespace evn_mbus::test

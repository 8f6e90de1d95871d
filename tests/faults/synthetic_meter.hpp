// An EVN Kaifa MA309M inside the test (or benchmark) process: synthetic pushes, encrypted with
// an always increasing frame counter, written to a pseudo-terminal behind a stable link that
// the daemon opens as its serial device. The device can be unplugged (pty closed, link gone:
// the reader gets EIO) and plugged again (a new pty behind the same link).
//
// Unlike `evn-mbus simulate`, the writer here knows exactly when each push's last byte went
// out, which is what latency and resume-time measurements start from.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "evn_mbus/telegram_encoder.hpp"
#include "load_profile.hpp"
#include "pty_device.hpp"

namespace evn_mbus::test {

class synthetic_meter {
  public:
    struct push {
        std::vector<std::vector<std::uint8_t>> frames;  // 256 + 26 bytes, like the real meter
        nlohmann::json expected;                        // what the daemon must publish
    };

    // `key_hex`: 32 hex digits. Throws std::invalid_argument for a bad key.
    synthetic_meter(std::string link, const std::string& key_hex, std::uint64_t seed = 1);
    ~synthetic_meter();
    synthetic_meter(const synthetic_meter&) = delete;
    synthetic_meter& operator=(const synthetic_meter&) = delete;

    // A new pty behind the link (the master side non-blocking); throws if that fails.
    void plug();
    // Link removed and both sides closed, like pulling a USB adapter.
    void unplug();
    bool plugged() const noexcept { return pty_.master_fd() >= 0; }
    const std::string& link() const noexcept { return link_; }

    // The next push, `elapsed` of meter time after the previous one.
    push next_push(std::chrono::milliseconds elapsed = std::chrono::seconds(5));

    // Writes all of `data` at once. False when unplugged or the kernel buffer is full (then a
    // part may have been written: the line lost bytes, as a real one can).
    bool write(std::span<const std::uint8_t> data);
    // Writes at the pace of a 2400 baud 8E1 line (11 bits a byte), 8 bytes at a time; false as
    // for write().
    bool write_paced(std::span<const std::uint8_t> data, unsigned baud = 2400);
    // All frames of a push back to back (unpaced), or at line pace with `gap` between frames.
    bool send(const push& p);
    bool send_paced(const push& p, std::chrono::milliseconds gap = std::chrono::milliseconds(160));

    // Bytes written but not read yet.
    std::size_t unread() const noexcept { return pty_.unread_bytes(); }

  private:
    std::string link_;
    aes_key key_{};
    load_profile profile_;
    telegram_encoder encoder_;
    std::uint32_t frame_counter_ = 1;
    system_title title_{'K', 'F', 'M', 0x67, 0x50, 0x00, 0x00, 0x42};
    pty_device pty_;
};

}  // namespace evn_mbus::test

// The meter's line as `evn-mbus run` reads it, whatever carries it: a serial port on this
// machine (serial_reader) or a serial-to-network bridge over TCP (net_reader). Both frame by
// the idle gap, retry by themselves with capped backoff, report a state change once and never
// throw out of their callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace evn_mbus {

class meter_line {
  public:
    struct handlers {
        std::function<void(std::span<const std::uint8_t>)> on_bytes;
        // The line has been silent for serial.idle_gap_ms after bytes arrived.
        std::function<void()> on_idle;
        // The line was opened (first time or again).
        std::function<void()> on_open;
        // Opening failed or the open line failed; `first` is false for the repeats of the same
        // failure while retrying, so the caller logs a state change once.
        std::function<void(const std::string& what, bool first)> on_failure;
        // Something worth a log line that is not a failure (what a bridge said to the line
        // settings); `warning` when the user must act.
        std::function<void(const std::string& what, bool warning)> on_note;
    };

    virtual ~meter_line() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
    // Writes `bytes` to the meter (an AMIS meter's acknowledgement) after what is still being
    // written; dropped, and false, while the line is closed.
    virtual bool write(std::span<const std::uint8_t> bytes) = 0;
    // How often the line was opened again after it had been open (device or bridge lost and
    // back).
    virtual std::uint64_t reopen_count() const noexcept = 0;
};

}  // namespace evn_mbus

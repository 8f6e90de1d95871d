// Whether the meter's values are current, for <prefix>/meter_status (Home Assistant shows the
// sensors unavailable while not): online from a published reading until none came for the
// silence limit (serial.no_data_warning_s; 0: no limit) or the port is lost. Sans-I/O: the
// service calls it with `now` and keeps a timer at deadline().
#pragma once

#include <chrono>
#include <optional>

namespace evn_mbus {

class meter_availability {
  public:
    using clock = std::chrono::steady_clock;

    explicit meter_availability(std::chrono::seconds limit) : limit_(limit) {}

    void set_limit(std::chrono::seconds limit) { limit_ = limit; }
    bool online() const noexcept { return online_; }

    // A reading was published. True when the meter just became available.
    bool on_reading(clock::time_point now);
    // The serial port is gone (or the line stopped). True when the meter just became
    // unavailable.
    bool on_port_lost();
    // True when the meter just became unavailable: no reading for the limit.
    bool check(clock::time_point now);
    // When check() can next change anything; none while offline or without a limit.
    std::optional<clock::time_point> deadline() const;

  private:
    std::chrono::seconds limit_;
    bool online_ = false;  // unknown at start: not available until a reading shows it is
    clock::time_point last_reading_{};
};

}  // namespace evn_mbus

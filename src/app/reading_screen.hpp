// Decides which decoded telegrams `evn-mbus run` publishes, and tells the log why one is not:
// lost, repeated and replayed pushes by the GCM frame counter, impossible values of untagged
// meters, telegrams the decoder dropped. Its state (counters, levels) outlives reloads.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "daemon_stats.hpp"
#include "error_limiter.hpp"
#include "evn_mbus/frame_counter_monitor.hpp"
#include "evn_mbus/plausibility_gate.hpp"

namespace evn_mbus {

class reading_screen {
  public:
    // The figures are written into `stats`, which outlives this screen.
    explicit reading_screen(daemon_stats& stats) : stats_(stats) {}

    void set_logger(std::shared_ptr<spdlog::logger> log) { log_ = std::move(log); }
    void set_max_power_kw(unsigned kw);
    // The meter keys changed: the next counter gap may be pushes the old key could not read.
    void key_changed() { key_changed_ = true; }
    // meter.layout changed: readings with other values than before are intended now.
    void layout_changed() { gate_.forget_baselines(); }

    // false: not to be published (the log has said why).
    bool frame_counter_ok(const reading& r);
    bool plausible(const reading& r);
    // The decoder dropped a telegram.
    void dropped(const std::error_code& ec, std::span<const std::uint8_t> raw);

  private:
    void log_gap_of_failures(const counter_check& c, const std::string& meter, std::uint64_t failed,
                             std::chrono::steady_clock::time_point now);

    daemon_stats& stats_;
    std::shared_ptr<spdlog::logger> log_;
    error_limiter limiter_;
    frame_counter_monitor counters_;
    plausibility_gate gate_;
    unsigned max_power_kw_ = 0;
    // For telling a counter gap of dropped telegrams from pushes lost on the wire: the failure
    // count at the last reading, and whether the key changed since.
    std::uint64_t failures_at_last_reading_ = 0;
    bool key_changed_ = false;
};

}  // namespace evn_mbus

// `evn-mbus run`: the long-running service. One Asio loop, one thread: the serial reader feeds
// the core decoder, readings go to MQTT (and optionally stdout), signals stop or reload it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/logger.h>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "daemon_config.hpp"
#include "daemon_stats.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "meter_availability.hpp"
#include "publish_throttle.hpp"
#include "reading_screen.hpp"
#include "serial_watch.hpp"
#include "systemd_notifier.hpp"

namespace evn_mbus {

class mqtt_publisher;
class local_api;

struct run_options {
    std::string config_path;
    std::optional<log_target> log_target_override;
    std::optional<std::string> log_level_override;
    bool print_readings = false;  // one JSON line per reading on stdout
    bool mqtt_enabled = true;
};

// Exit status for an unusable configuration (sysexits EX_CONFIG); the unit file tells
// systemd not to restart on it, since a restart cannot fix the file.
inline constexpr int exit_config_error = 78;

class service {
  public:
    explicit service(run_options options);
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    // Runs until SIGTERM/SIGINT; returns the exit status.
    int run();

  private:
    bool load(daemon_config& out, bool at_start);
    serial_watch::handlers line_handlers();
    void on_idle();
    void drain();
    void on_reading(const reading& r, std::span<const std::uint8_t> raw);
    void wait_signals();
    void wait_reload();
    void reload();
    void shutdown();
    void schedule_summary();
    void schedule_diagnostics();
    void publish_diagnostics();
    void update_status();
    // The MQTT figures in stats_, of this publisher and of those replaced by reloads.
    void refresh_mqtt_stats();
    void mark_ready();  // READY=1, once
    void make_publisher(bool after_reload = false);
    // The HTTP API (local_api.hpp) as http.* says: started, restarted with new settings, or
    // off. A listen address that cannot be used is said and leaves the rest running.
    void make_local_api();
    // mqtt.min_interval_s (publish_throttle.hpp): to MQTT now, or held for the timer.
    void to_mqtt(const reading& r, std::span<const std::uint8_t> raw,
                 std::span<const std::uint8_t> plain);
    void arm_throttle();
    void send_throttled();  // the held reading, now
    // <prefix>/meter_status (meter_availability.hpp): a reading was published; the meter went
    // offline (`why`, for the log); the timer that notices a silent meter.
    void meter_seen();
    void meter_lost(const std::string& why);
    void watch_meter();

    run_options options_;
    daemon_config config_;
    boost::asio::io_context io_;
    boost::asio::signal_set stop_signals_;
    boost::asio::signal_set reload_signal_;
    boost::asio::steady_timer summary_timer_;
    boost::asio::steady_timer diagnostics_timer_;
    boost::asio::steady_timer shutdown_timer_;
    meter_availability meter_{std::chrono::seconds{0}};
    bool meter_was_lost_ = false;  // "offline" was logged: say when readings are back
    boost::asio::steady_timer meter_timer_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<telegram_decoder> decoder_;
    serial_watch line_;
    std::shared_ptr<mqtt_publisher> publisher_;
    std::unique_ptr<local_api> api_;
    publish_throttle throttle_{std::chrono::seconds{0}};
    boost::asio::steady_timer throttle_timer_;
    struct throttled_reading {
        reading value;
        std::vector<std::uint8_t> raw, plain;
    };
    std::optional<throttled_reading> throttled_;  // the newest reading of this interval
    std::uint64_t mqtt_dropped_before_ = 0;       // by replaced publishers, and from held_
    std::uint64_t mqtt_reconnects_before_ = 0;    // by replaced publishers
    systemd_notifier notifier_;
    daemon_stats stats_;
    reading_screen screen_;                 // which readings are published; kept across reloads
    std::set<std::string> advised_shapes_;  // push shapes the layout advice was logged for
    // A reload is replacing the MQTT connection; readings wait in held_ meanwhile.
    bool switching_publisher_ = false;
    std::deque<std::pair<reading, std::vector<std::uint8_t>>> held_;  // oldest dropped first
    bool ready_sent_ = false;
    bool stopping_ = false;
    int exit_status_ = 0;
};

}  // namespace evn_mbus

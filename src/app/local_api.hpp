// The daemon's side of the local HTTP API (http.listen): keeps the latest reading, answers
// /api/v1/reading, /api/v1/status and /metrics from it and from the daemon's figures, and
// streams every reading to /api/v1/events. The HTTP itself is http_server's. Not throttled:
// mqtt.min_interval_s and on_change_only thin MQTT only, the API always has the newest reading.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "daemon_config.hpp"
#include "evn_mbus/reading.hpp"
#include "http_server.hpp"
#include "prometheus_metrics.hpp"

namespace evn_mbus {

class local_api {
  public:
    // The daemon's figures at the moment of a request: stats (MQTT figures refreshed), mqtt
    // (of the current publisher), mqtt_enabled and version; the rest local_api fills in.
    using figures_source = std::function<metrics_snapshot()>;

    // Throws std::runtime_error (in words for the user) when http.listen cannot be used.
    local_api(boost::asio::io_context& io, const http_config& config, figures_source figures,
              std::shared_ptr<spdlog::logger> log);
    ~local_api();
    local_api(const local_api&) = delete;
    local_api& operator=(const local_api&) = delete;

    // A reading that passed the checks: the newest for every endpoint, and one event.
    void on_reading(const reading& r);

    http_server_stats stats() const;

    // The latest reading and when it came, carried to the next local_api on a reload.
    struct latest_reading {
        reading value;
        nlohmann::json json;
        std::chrono::steady_clock::time_point at;
        std::chrono::system_clock::time_point wall;
    };
    std::optional<latest_reading> latest() const;
    void restore(latest_reading latest);

  private:
    http_reply reading_reply() const;
    http_reply status_reply() const;
    http_reply metrics_reply() const;
    metrics_snapshot snapshot() const;

    figures_source figures_;
    std::optional<reading> latest_;
    nlohmann::json latest_json_;  // to_json(latest_), the same as <prefix>/state
    std::chrono::steady_clock::time_point latest_at_{};
    std::chrono::system_clock::time_point latest_wall_{};
    std::unique_ptr<http_server> server_;
};

}  // namespace evn_mbus

// Publishes readings to an MQTT broker (Eclipse Paho C++), on the topics of the ESP8266
// firmware evn-mbus replaces, plus Home Assistant discovery.
//
// Runs on one single-threaded Asio io_context: Paho calls back from its own threads, and
// every callback is only posted to the loop, where all state lives. Nothing here blocks the
// loop. While the broker is unreachable, readings wait in a bounded queue (mqtt.queue_size
// readings and mqtt.queue_max_mb MiB; the oldest is dropped when it is full, counted and said)
// and are delivered in order once it is back; a message leaves the
// queue only when Paho confirms it (qos 0: once sent), so a connection lost in mid-flight
// sends it again (duplicates are possible, loss is not). Reconnects use our own capped
// exponential backoff rather than Paho's, so that retries and log lines are ours. A broker that
// confirms nothing for a keepalive interval while messages wait is taken as frozen: the
// connection is dropped and made again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <utility>

#include "daemon_config.hpp"
#include "evn_mbus/reading.hpp"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace evn_mbus {

struct mqtt_stats {
    bool connected = false;
    std::size_t queued = 0;        // readings not yet confirmed by the broker
    std::size_t queued_bytes = 0;  // the memory they take (bounded by mqtt.queue_max_mb)
    std::uint64_t delivered = 0;   // readings confirmed (qos 0: sent)
    std::uint64_t dropped = 0;     // oldest readings dropped from a full queue
    std::uint64_t reconnects = 0;  // connections made again after a lost one
    std::uint64_t too_big = 0;     // messages dropped as larger than the broker takes
};

class mqtt_publisher {
  public:
    mqtt_publisher(boost::asio::io_context& io, const mqtt_config& config,
                   std::shared_ptr<spdlog::logger> log);
    // Call stop() first: without it, the destructor publishes "offline" itself and waits up to
    // half a second for it (the only place that blocks).
    ~mqtt_publisher();
    mqtt_publisher(const mqtt_publisher&) = delete;
    mqtt_publisher& operator=(const mqtt_publisher&) = delete;

    // What start() and stop() are for: the daemon starting and stopping, or switching to new
    // MQTT settings after a SIGHUP, which the log must not call a start or a stop.
    enum class occasion { run, reload };

    // Starts connecting in the background. Throws std::runtime_error, in words for the user,
    // when the settings cannot work at all (unknown URI scheme, unreadable password_file).
    void start(occasion why = occasion::run);

    // Queues the reading's messages: <prefix>/<name> for every named value the meter sent
    // (w_p ... phi, f: obis_code.hpp), /p_net (derived_values.hpp), /meter_number, /clock,
    // /raw (hex of `raw`, the link frames as received), /raw_plain (hex of `plain`, the
    // decrypted APDU) and /state (JSON), as the publish_* switches say.
    void publish_reading(const reading& r, std::span<const std::uint8_t> raw,
                         std::span<const std::uint8_t> plain = {});

    // Retained <prefix>/diagnostics; the latest one is sent again after a reconnect.
    void publish_diagnostics(const nlohmann::json& diagnostics);

    // Retained <prefix>/meter_status, "online" or "offline" (meter_availability.hpp): sent now
    // and again on every connect (a broker without persistence forgets it; a daemon that died
    // left an old "online"), and "offline" before the status on stop. The will can only cover
    // <prefix>/status, which the discovery therefore also requires.
    void set_meter_online(bool online);

    // Delivers what is queued (for at most mqtt.shutdown_timeout), publishes "offline",
    // disconnects, then calls `done` on the loop, within the timeout in any case. The
    // publisher may be destroyed from `done`.
    void stop(std::function<void()> done) { stop(occasion::run, std::move(done)); }
    void stop(occasion why, std::function<void()> done);

    mqtt_stats stats() const;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;  // shared so that posted callbacks can hold a weak guard
};

}  // namespace evn_mbus

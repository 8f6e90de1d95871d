// The MQTT publisher's state, shared by its two sources: mqtt_publisher.cpp (setup, the
// connection and its failures) and mqtt_publisher_send.cpp (publishing through the delivery
// queue, and the stop sequence). Private to the publisher: nothing else includes it.
#pragma once

#include <mqtt/async_client.h>
#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "broker_probe.hpp"
#include "change_filter.hpp"
#include "delivery_queue.hpp"
#include "ha_discovery.hpp"
#include "mqtt_publisher.hpp"
#include "mqtt_topics.hpp"
#include "oversize_guard.hpp"
#include "paho_listener.hpp"

namespace evn_mbus {

namespace publisher_timing {
using namespace std::chrono_literals;
inline constexpr std::size_t send_window = 20;  // reading messages handed to Paho at a time
inline constexpr int status_qos = 1;            // "online"/"offline" and the will
inline constexpr std::chrono::milliseconds first_backoff{1000};
inline constexpr std::chrono::milliseconds stop_retry{250};  // reconnect interval while stopping
inline constexpr std::chrono::milliseconds resend_delay{1000};
inline constexpr std::chrono::milliseconds watch_interval{1000};  // stalled-window checks
inline constexpr std::chrono::milliseconds disconnect_wait{500};  // "offline" without stop()
inline constexpr std::chrono::milliseconds stop_grace{1000};      // stop()'s final phase at most
}  // namespace publisher_timing

struct mqtt_publisher::impl : std::enable_shared_from_this<impl> {
    enum class state { idle, connecting, connected, waiting, draining, disconnecting, stopped };

    impl(boost::asio::io_context& io, const mqtt_config& config,
         std::shared_ptr<spdlog::logger> log);

    ~impl();

    op_listener* listener(op_listener::handler h) {
        return op_listener::make(listeners_, io_.get_executor(), std::move(h));
    }

    std::weak_ptr<impl> weak() { return weak_from_this(); }

    // Setup and connection (mqtt_publisher.cpp).
    void start();

    void connect();

    void on_connect_result(std::uint64_t gen, bool ok, int rc);

    // Looks for a broker that keeps the connection open but stopped confirming (frozen,
    // overloaded), every second while connected.
    void watch_window();

    // Drops the connection and makes a new one; the queue is sent again from its oldest
    // unconfirmed message.
    void on_stalled(std::chrono::steady_clock::duration d);

    void on_connect_failed(int rc);

    void log_connect_failure(const probe_result& r, int rc);

    void schedule_reconnect();

    void on_connection_lost(const std::string& cause);

    void on_message(const mqtt::message& msg);

    bool connected() const { return state_ == state::connected || state_ == state::draining; }

    // Publishing and stopping (mqtt_publisher_send.cpp).
    void publish_control(const std::string& topic, const std::string& payload, int qos) {
        if (too_big(topic, payload, qos)) return;
        const auto token = track(topic, payload, qos);
        auto w = weak();
        auto* l = listener([w, token](bool ok, int) {
            if (auto self = w.lock()) self->oversize_.settled(token, ok);
        });
        try {
            client_->publish(mqtt::make_message(topic, payload, qos, true), nullptr, *l);
        } catch (const mqtt::exception& e) {
            l->discard();
            oversize_.not_taken(token);
            log_->debug("MQTT: cannot publish {}: {}", topic, e.what());
        }
    }

    void publish_discovery();

    void publish_diagnostics(const nlohmann::json& d);

    void set_meter_online(bool online);

    void publish_meter_status();

    void publish_reading(const reading& r, std::span<const std::uint8_t> raw,
                         std::span<const std::uint8_t> plain);

    // Starts sending from the oldest unconfirmed message again: after a (re)connect, or when
    // Paho refused a message while connected.
    void restart_sending();

    // Hands Paho what the send window has room for.
    void pump();

    bool send(std::uint64_t id, const std::string& topic, const std::string& payload);

    void on_sent(std::uint64_t gen, std::uint64_t id, bool ok, int rc);

    // Dropped as too big for the broker, counted, and said once per topic.
    bool too_big(const std::string& topic, const std::string& payload, int qos);

    std::uint64_t track(const std::string& topic, const std::string& payload, int qos);

    // Why a connection ended, when the broker gave no reason: a message too big (said once,
    // when the limit is set), or another client with our id (returns true when it says so).
    bool diagnose_loss();

    void schedule_resend();

    void stop(std::function<void()> done);

    // Ends the drain: a connected publisher says "offline" and disconnects; one that never got
    // through gives up.
    void start_stop_timer(std::chrono::milliseconds drain);

    void give_up_stopping();

    void begin_disconnect();

    void disconnect_now();

    void report_unsent(const char* why);

    void finish_stop();

    mqtt_stats stats() const;

    boost::asio::io_context& io_;
    mqtt_config config_;
    std::shared_ptr<spdlog::logger> log_;
    const mqtt_topics topics_;
    std::optional<broker_address> address_;
    std::string client_id_;

    state state_ = state::idle;
    std::uint64_t gen_ = 0;  // connection attempt; completions of older ones are ignored
    std::chrono::milliseconds backoff_ = publisher_timing::first_backoff;
    bool ever_connected_ = false;
    bool failure_logged_ = false;        // the current outage was logged
    bool stopping_unreachable_ = false;  // stop() came while the broker was away
    bool abandoning_ = false;            // a stalled connection is being dropped
    bool reload_ = false;                // started or stopped for new settings, not for the daemon

    delivery_queue queue_;
    change_filter changes_;          // mqtt.on_change_only
    std::uint64_t failure_gen_ = 0;  // the connection whose unconfirmed message was logged
    std::uint64_t reconnects_ = 0;
    oversize_guard oversize_;

    std::vector<discovery_message> discovery_;
    std::optional<std::string> diagnostics_;
    std::optional<bool> meter_online_;  // none: the owner never said (no meter_status at all)
    bool unidentified_logged_ = false;
    std::function<void()> stop_done_;

    boost::asio::steady_timer reconnect_timer_;
    boost::asio::steady_timer resend_timer_;
    boost::asio::steady_timer stop_timer_;
    boost::asio::steady_timer watch_timer_;
    mqtt::connect_options connect_options_;
    std::shared_ptr<listener_registry> listeners_ = std::make_shared<listener_registry>();
    // Last, so that it is destroyed first, before anything its callbacks might reach.
    std::unique_ptr<mqtt::async_client> client_;
};

}  // namespace evn_mbus

#include "mqtt_publisher.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "broker_probe.hpp"
#include "delivery_queue.hpp"
#include "ha_discovery.hpp"
#include "mqtt_topics.hpp"
#include "oversize_guard.hpp"
#include "paho_connect.hpp"
#include "paho_listener.hpp"

namespace evn_mbus {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t send_window = 20;  // reading messages handed to Paho at a time
constexpr int status_qos = 1;            // "online"/"offline" and the will
constexpr std::chrono::milliseconds first_backoff{1000};
constexpr std::chrono::milliseconds stop_retry{250};  // reconnect interval while stopping
constexpr auto resend_delay = 1s;
constexpr auto watch_interval = 1s;  // how often a stalled publish window is looked for
constexpr std::chrono::milliseconds disconnect_wait{500};  // for "offline" without stop()
constexpr std::chrono::milliseconds stop_grace{1000};      // stop()'s final phase at most

}  // namespace

struct mqtt_publisher::impl : std::enable_shared_from_this<impl> {
    enum class state { idle, connecting, connected, waiting, draining, disconnecting, stopped };

    impl(asio::io_context& io, const mqtt_config& config, std::shared_ptr<spdlog::logger> log)
        : io_(io),
          config_(config),
          log_(std::move(log)),
          topics_(config),
          queue_(delivery_limits{config.queue_size, config.queue_max_mb << 20, send_window,
                                 config.keepalive},
                 std::chrono::steady_clock::now()),
          oversize_(config),
          reconnect_timer_(io),
          resend_timer_(io),
          stop_timer_(io),
          watch_timer_(io) {
        if (config_.queue_size == 0) config_.queue_size = 1;
    }

    ~impl() {
        if (!client_) return;
        try {
            client_->disable_callbacks();
            // Destroying a Paho client sends a clean DISCONNECT, which suppresses the will.
            // The owner should have called stop(); if not, say "offline" now, waiting briefly.
            if (connected()) {
                client_
                    ->publish(mqtt::make_message(topics_.status, std::string("offline"), status_qos,
                                                 true))
                    ->wait_for(disconnect_wait);
            }
        } catch (const mqtt::exception&) {
        }
        client_.reset();
        listeners_->delete_all();
    }

    op_listener* listener(op_listener::handler h) {
        return op_listener::make(listeners_, io_.get_executor(), std::move(h));
    }

    std::weak_ptr<impl> weak() { return weak_from_this(); }

    // ---- setup ---------------------------------------------------------------------------

    void start() {
        if (client_ || state_ == state::stopped) return;
        paho_setup setup = paho_connect_setup(config_, topics_.status);
        address_ = setup.address;
        client_id_ = setup.client_id;
        client_ = std::move(setup.client);
        connect_options_ = std::move(setup.options);

        const auto ex = io_.get_executor();
        auto w = weak();
        client_->set_connection_lost_handler([ex, w](const std::string& cause) {
            asio::post(ex, [w, cause] {
                if (auto self = w.lock()) self->on_connection_lost(cause);
            });
        });
        client_->set_message_callback([ex, w](mqtt::const_message_ptr msg) {
            asio::post(ex, [w, msg] {
                if (auto self = w.lock()) self->on_message(*msg);
            });
        });
        connect();
    }

    // ---- connection ----------------------------------------------------------------------

    void connect() {
        if (abandoning_) {  // Paho has not let go of a stalled connection yet: soon again
            state_ = state::waiting;
            reconnect_timer_.expires_after(stop_retry);
            auto w = weak();
            reconnect_timer_.async_wait([w](const boost::system::error_code& ec) {
                if (ec) return;
                if (auto self = w.lock()) {
                    if (self->state_ == state::waiting) self->connect();
                }
            });
            return;
        }
        state_ = state::connecting;
        const auto gen = ++gen_;
        auto w = weak();
        auto* l = listener([w, gen](bool ok, int rc) {
            if (auto self = w.lock()) self->on_connect_result(gen, ok, rc);
        });
        try {
            client_->connect(connect_options_, nullptr, *l);
        } catch (const mqtt::exception& e) {
            l->discard();
            const int rc = e.get_return_code();
            asio::post(io_, [w, gen, rc] {
                if (auto self = w.lock()) self->on_connect_result(gen, false, rc);
            });
        }
    }

    void on_connect_result(std::uint64_t gen, bool ok, int rc) {
        if (gen != gen_ || state_ != state::connecting) {
            // A connection that completed after stop(): end it the same way stop() does.
            if (ok && state_ == state::stopped) {
                try {
                    client_->publish(mqtt::make_message(topics_.status, std::string("offline"),
                                                        status_qos, true));
                    client_->disconnect(static_cast<int>(disconnect_wait.count()));
                } catch (const mqtt::exception&) {
                }
            }
            return;
        }
        if (!ok) {
            on_connect_failed(rc);
            return;
        }
        state_ = state::connected;
        queue_.connected();
        backoff_ = first_backoff;
        const std::uint64_t dropped = queue_.dropped_while_away();
        const std::string drop_note =
            dropped > 0 ? " (" + std::to_string(dropped) +
                              " dropped while it was unreachable because the queue was full)"
                        : std::string();
        oversize_.connected(std::chrono::steady_clock::now());
        if (ever_connected_) {
            ++reconnects_;
            log_->info("MQTT broker {} connected again; sending {} queued reading(s){}",
                       config_.uri, queue_.size(), drop_note);
        } else if (dropped > 0) {
            log_->warn(
                "MQTT broker {} connected after {} reading(s) were dropped: the queue was full "
                "while it was unreachable; publishing under '{}/', sending the {} queued",
                config_.uri, dropped, config_.topic_prefix, queue_.size());
        } else {
            log_->info("MQTT broker {} connected{}; publishing under '{}/'", config_.uri,
                       reload_ ? " with the new settings" : "", config_.topic_prefix);
        }
        ever_connected_ = true;
        failure_logged_ = false;

        if (config_.discovery.enabled) {
            try {
                client_->subscribe(topics_.ha_status, 0);
            } catch (const mqtt::exception& e) {
                log_->debug("MQTT: cannot subscribe to {}: {}", topics_.ha_status, e.what());
            }
        }
        if (stopping_unreachable_) {
            // Back while stopping: deliver the queue, then "offline" (no "online" first).
            stopping_unreachable_ = false;
            state_ = state::draining;
            if (queue_.empty()) {
                begin_disconnect();
                return;
            }
            restart_sending();
            return;
        }
        publish_control(topics_.status, "online", status_qos);
        publish_discovery();
        if (diagnostics_) publish_control(topics_.diagnostics, *diagnostics_, config_.qos);
        publish_meter_status();
        restart_sending();
        watch_window();
    }

    // Looks for a broker that keeps the connection open but stopped confirming (frozen,
    // overloaded), every second while connected.
    void watch_window() {
        watch_timer_.expires_after(watch_interval);
        auto w = weak();
        const auto gen = gen_;
        watch_timer_.async_wait([w, gen](const boost::system::error_code& ec) {
            if (ec) return;
            auto self = w.lock();
            if (!self || self->gen_ != gen || self->state_ != state::connected) return;
            if (const auto d = self->queue_.stalled(std::chrono::steady_clock::now())) {
                self->on_stalled(*d);
                return;
            }
            self->watch_window();
        });
    }

    // Drops the connection and makes a new one; the queue is sent again from its oldest
    // unconfirmed message.
    void on_stalled(std::chrono::steady_clock::duration d) {
        log_->warn(
            "the MQTT broker {} has not confirmed any message for {}: it is frozen or "
            "overloaded; reconnecting ({} reading(s) queued are sent again once it answers)",
            config_.uri, spoken_duration(d), queue_.size());
        ++gen_;
        queue_.lost(std::chrono::steady_clock::now());
        resend_timer_.cancel();
        failure_logged_ = true;  // like a lost connection: the next failures belong to this
        backoff_ = first_backoff;
        abandoning_ = true;
        auto w = weak();
        auto* l = listener([w](bool, int) {
            if (auto self = w.lock()) self->abandoning_ = false;
        });
        try {
            client_->disconnect(0, nullptr, *l);  // at once, without waiting for confirmations
        } catch (const mqtt::exception&) {
            l->discard();
            abandoning_ = false;
        }
        schedule_reconnect();
    }

    void on_connect_failed(int rc) {
        if (!failure_logged_) {
            failure_logged_ = true;
            if (const auto why = connack_reason(rc); !why.empty()) {
                log_connect_failure({why}, rc);
            } else {
                auto w = weak();
                probe_broker(io_, *address_, config_.tls, [w, rc](probe_result r) {
                    if (auto self = w.lock()) self->log_connect_failure(r, rc);
                });
            }
        } else {
            log_->debug("MQTT broker {} still unreachable (error {}); next try in {} s",
                        config_.uri, rc, std::chrono::duration<double>(backoff_).count());
        }
        schedule_reconnect();
    }

    void log_connect_failure(const probe_result& r, int rc) {
        if (state_ == state::connected || state_ == state::stopped) return;  // already moot
        // A connection being stopped has said that the broker is unreachable and how long it
        // keeps trying; "retrying in the background" would no longer be true.
        if (stopping_unreachable_) return;
        std::string advice;
        if (r.tls_untrusted) {
            advice =
                "Check mqtt.tls.ca_file: it must be the CA certificate that signed the broker's "
                "certificate, and the host name in mqtt.uri must be one the certificate names";
        } else if (rc == 4 || rc == 5) {
            advice = "Check mqtt.username and mqtt.password (or mqtt.password_file)";
        } else {
            advice = "Check mqtt.uri (" + std::string(address_->tls ? "ssl" : "tcp") +
                     "://host:port) and that the broker is running";
        }
        log_->warn(
            "cannot connect to MQTT broker {}: {}. {}. Retrying in the background (at least "
            "once every {} s); readings are queued meanwhile (up to {}).",
            config_.uri, r.reason.empty() ? mqtt::exception::error_str(rc) : r.reason, advice,
            std::max<long long>(1, config_.reconnect_max.count()), config_.queue_size);
    }

    void schedule_reconnect() {
        state_ = state::waiting;
        // While stopping, the bound is short: try every 250 ms, not with the growing backoff.
        reconnect_timer_.expires_after(stopping_unreachable_ ? stop_retry : backoff_);
        auto w = weak();
        reconnect_timer_.async_wait([w](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = w.lock()) {
                if (self->state_ == state::waiting) self->connect();
            }
        });
        const std::chrono::milliseconds cap =
            std::max<std::chrono::milliseconds>(first_backoff, config_.reconnect_max);
        backoff_ = std::min(backoff_ * 2, cap);
    }

    void on_connection_lost(const std::string& cause) {
        abandoning_ = false;
        if (state_ != state::connected && state_ != state::draining &&
            state_ != state::disconnecting) {
            return;
        }
        ++gen_;
        queue_.lost(std::chrono::steady_clock::now());
        resend_timer_.cancel();
        const std::string reason =
            cause.empty() ? "the broker closed the connection or the network failed" : cause;
        if (state_ != state::connected) {
            report_unsent("the connection to the broker was lost while stopping");
            finish_stop();
            return;
        }
        const bool churn_warning = diagnose_loss();
        log_->log(
            oversize_.churning() && !churn_warning ? spdlog::level::debug : spdlog::level::warn,
            "MQTT connection lost: {}; readings are queued ({} waiting) and sent when it "
            "is back",
            reason, queue_.size());
        failure_logged_ = true;  // the next failures belong to this outage
        backoff_ = first_backoff;
        schedule_reconnect();
    }

    void on_message(const mqtt::message& msg) {
        // Home Assistant announces a restart on <prefix>/status; a retained "online" is only
        // the old announcement, and connecting sent the discovery anyway.
        if (msg.get_topic() != topics_.ha_status || msg.is_retained()) return;
        if (msg.get_payload_str() != "online") return;
        log_->debug("Home Assistant (re)started: publishing the discovery config again");
        publish_discovery();
    }

    // ---- publishing ----------------------------------------------------------------------

    bool connected() const { return state_ == state::connected || state_ == state::draining; }

    void publish_control(const std::string& topic, const std::string& payload, int qos) {
        if (too_big(topic, payload, qos)) return;
        const auto token = track(topic, payload, qos);
        auto w = weak();
        auto* l = listener([w, token](bool ok, int) {
            if (auto self = w.lock(); self && ok) self->oversize_.confirmed(token);
        });
        try {
            client_->publish(mqtt::make_message(topic, payload, qos, true), nullptr, *l);
        } catch (const mqtt::exception& e) {
            l->discard();
            log_->debug("MQTT: cannot publish {}: {}", topic, e.what());
        }
    }

    void publish_discovery() {
        if (!connected()) return;
        for (const auto& m : discovery_)
            publish_control(m.topic, m.payload.dump(), config_.qos);
    }

    void publish_diagnostics(const nlohmann::json& d) {
        diagnostics_ = d.dump();
        if (connected()) publish_control(topics_.diagnostics, *diagnostics_, config_.qos);
    }

    void set_meter_online(bool online) {
        meter_online_ = online;
        publish_meter_status();
    }

    void publish_meter_status() {
        if (connected() && meter_online_) {
            publish_control(topics_.meter_status, *meter_online_ ? "online" : "offline",
                            status_qos);
        }
    }

    void publish_reading(const reading& r, std::span<const std::uint8_t> raw,
                         std::span<const std::uint8_t> plain) {
        if (state_ == state::stopped || state_ == state::disconnecting) return;
        if (config_.discovery.enabled && !ha_device_identified(r) && !unidentified_logged_) {
            unidentified_logged_ = true;
            log_->warn(
                "Home Assistant discovery is skipped: the meter sends neither a meter number "
                "nor a system title, so its sensors would have no stable identity; the values "
                "are still published under '{}/'",
                config_.topic_prefix);
        }
        if (config_.discovery.enabled) {
            auto d = ha_discovery_messages(r, config_);
            if (d != discovery_) {
                discovery_ = std::move(d);
                publish_discovery();  // before the values, so that the sensors exist for them
            }
        }
        for (const auto& text : queue_.push(reading_messages(r, raw, plain, config_),
                                            std::chrono::steady_clock::now()))
            log_->warn("{}", text);
        pump();
    }

    // Starts sending from the oldest unconfirmed message again: after a (re)connect, or when
    // Paho refused a message while connected.
    void restart_sending() {
        queue_.rewind();
        pump();
    }

    // Hands Paho what the send window has room for.
    void pump() {
        if (!connected()) return;
        const auto now = std::chrono::steady_clock::now();
        while (const auto m = queue_.next(now)) {
            if (too_big(m->topic, m->payload, config_.qos)) {
                queue_.discard(m->id);
                if (state_ == state::draining && queue_.empty()) {  // no on_sent() will come
                    asio::post(io_, [w = weak()] {
                        if (auto self = w.lock()) self->begin_disconnect();
                    });
                }
                continue;
            }
            if (!send(m->id, m->topic, m->payload)) return;
        }
    }

    bool send(std::uint64_t id, const std::string& topic, const std::string& payload) {
        const auto token = track(topic, payload, config_.qos);
        const auto gen = gen_;
        auto w = weak();
        auto* l = listener([w, gen, id, token](bool ok, int rc) {
            if (auto self = w.lock()) {
                if (ok) self->oversize_.confirmed(token);
                self->on_sent(gen, id, ok, rc);
            }
        });
        try {
            client_->publish(mqtt::make_message(topic, payload, config_.qos, config_.retain),
                             nullptr, *l);
        } catch (const mqtt::exception& e) {
            l->discard();
            log_->debug("MQTT: Paho did not take {} ({}); trying again", topic, e.what());
            queue_.refused(id);
            // Disconnected: the connection-lost callback is on its way. Else retry later.
            if (e.get_return_code() != MQTTASYNC_DISCONNECTED) schedule_resend();
            return false;
        }
        return true;
    }

    void on_sent(std::uint64_t gen, std::uint64_t id, bool ok, int rc) {
        if (gen != gen_) return;  // from before a reconnect
        if (!ok) {
            if (!queue_.failed(id)) return;
            // Usually the connection is ending (-11 for everything in flight): say it once.
            if (failure_gen_ != gen_) {
                failure_gen_ = gen_;
                log_->debug("MQTT: a message was not confirmed (error {}); sending again", rc);
            }
            schedule_resend();
            return;
        }
        if (!queue_.confirmed(id, std::chrono::steady_clock::now())) return;
        if (state_ == state::draining && queue_.empty()) {
            begin_disconnect();
            return;
        }
        pump();
    }

    // Dropped as too big for the broker, counted, and said once per topic.
    bool too_big(const std::string& topic, const std::string& payload, int qos) {
        auto c = oversize_.too_big(topic, payload.size(), qos);
        if (c.warning) log_->warn("{}", *c.warning);
        return c.drop;
    }

    std::uint64_t track(const std::string& topic, const std::string& payload, int qos) {
        return oversize_.sent(topic, payload.size(), qos, std::chrono::steady_clock::now());
    }

    // Why a connection ended, when the broker gave no reason: a message too big (said once,
    // when the limit is set), or another client with our id (returns true when it says so).
    bool diagnose_loss() {
        const auto l = oversize_.lost(std::chrono::steady_clock::now(), client_id_);
        if (l.too_big) log_->warn("{}", *l.too_big);
        if (l.churn) log_->warn("{}", *l.churn);
        return l.churn.has_value();
    }

    void schedule_resend() {
        if (!connected()) return;
        resend_timer_.expires_after(resend_delay);
        auto w = weak();
        const auto gen = gen_;
        resend_timer_.async_wait([w, gen](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = w.lock()) {
                if (self->gen_ == gen && self->connected()) self->restart_sending();
            }
        });
    }

    // ---- stopping ------------------------------------------------------------------------

    void stop(std::function<void()> done) {
        if (state_ == state::stopped || stop_done_) {
            asio::post(io_, std::move(done));
            return;
        }
        stop_done_ = std::move(done);
        const auto timeout =
            std::chrono::duration_cast<std::chrono::milliseconds>(config_.shutdown_timeout);
        const auto drain = timeout > stop_grace ? timeout - stop_grace : 0ms;
        if (state_ == state::waiting || state_ == state::connecting) {
            // The broker is away. Giving up at once would leave its retained "online" standing
            // (a crashed broker never sends the will, and a persistent one restores "online"),
            // and lose the queue; so keep trying, quickly, until the bound.
            if (drain.count() == 0) {
                give_up_stopping();
                return;
            }
            stopping_unreachable_ = true;
            log_->info(
                "{}: the MQTT broker {} is unreachable; trying for {} s more to deliver "
                "{} queued reading(s) and to say offline{}",
                reload_ ? "MQTT settings changed" : "stopping", config_.uri,
                std::chrono::duration<double>(drain).count(), queue_.size(),
                reload_ ? " before connecting with the new settings" : "");
            backoff_ = first_backoff;
            if (state_ == state::waiting) connect();
            start_stop_timer(drain);
            return;
        }
        reconnect_timer_.cancel();
        if (state_ != state::connected) {
            ++gen_;
            report_unsent("the broker is unreachable");
            finish_stop();
            return;
        }
        state_ = state::draining;
        if (queue_.empty() || drain.count() == 0) {
            begin_disconnect();
            return;
        }
        start_stop_timer(drain);
    }

    // Ends the drain: a connected publisher says "offline" and disconnects; one that never got
    // through gives up.
    void start_stop_timer(std::chrono::milliseconds drain) {
        stop_timer_.expires_after(drain);
        auto w = weak();
        stop_timer_.async_wait([w](const boost::system::error_code& ec) {
            if (ec) return;
            auto self = w.lock();
            if (!self) return;
            if (self->state_ == state::draining) {
                self->begin_disconnect();
            } else if (self->state_ == state::waiting || self->state_ == state::connecting) {
                self->give_up_stopping();
            }
        });
    }

    void give_up_stopping() {
        ++gen_;  // a connection completing later is ended by on_connect_result
        reconnect_timer_.cancel();
        report_unsent("the broker is unreachable");
        finish_stop();
    }

    void begin_disconnect() {
        if (state_ != state::draining) return;
        state_ = state::disconnecting;
        stop_timer_.cancel();
        resend_timer_.cancel();
        report_unsent("mqtt.shutdown_timeout ran out");
        auto w = weak();
        stop_timer_.expires_after(stop_grace - 200ms);  // done before the owner gives up
        stop_timer_.async_wait([w](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = w.lock()) self->finish_stop();
        });
        // A clean DISCONNECT suppresses the will, so say "offline" ourselves, and disconnect
        // once the broker has it. (Paho never reports a disconnect that had to wait for
        // messages in flight, so it gets none to wait for.)
        auto* l = listener([w](bool, int) {
            if (auto self = w.lock()) self->disconnect_now();
        });
        if (meter_online_) publish_control(topics_.meter_status, "offline", status_qos);
        try {
            client_->publish(
                mqtt::make_message(topics_.status, std::string("offline"), status_qos, true),
                nullptr, *l);
        } catch (const mqtt::exception&) {
            l->discard();
            disconnect_now();
        }
    }

    void disconnect_now() {
        if (state_ != state::disconnecting) return;
        auto w = weak();
        auto* l = listener([w](bool, int) {
            if (auto self = w.lock()) self->finish_stop();
        });
        try {
            client_->disconnect(0, nullptr, *l);
        } catch (const mqtt::exception&) {
            l->discard();
            finish_stop();
        }
    }

    void report_unsent(const char* why) {
        const auto unsent = queue_.close();
        if (unsent == 0) return;
        log_->warn("{} reading(s) were not delivered to the MQTT broker: {}{}", unsent, why,
                   reload_ ? " (while switching to the new MQTT settings)" : "");
    }

    void finish_stop() {
        if (state_ == state::stopped) return;
        const bool was_connected = state_ == state::disconnecting;
        state_ = state::stopped;
        ++gen_;
        queue_.lost(std::chrono::steady_clock::now());
        queue_.close();
        reconnect_timer_.cancel();
        resend_timer_.cancel();
        stop_timer_.cancel();
        watch_timer_.cancel();
        if (was_connected) {
            log_->info("MQTT: disconnected from {}{}", config_.uri,
                       reload_ ? " to connect with the new settings" : "");
        }
        // Posted, so that `done` may destroy the publisher without pulling the rug from
        // under this function.
        if (stop_done_) asio::post(io_, std::exchange(stop_done_, nullptr));
    }

    mqtt_stats stats() const {
        mqtt_stats s;
        s.connected = connected();
        const auto c = queue_.counters();
        s.queued = c.queued;
        s.delivered = c.delivered;
        s.dropped = c.dropped;
        s.queued_bytes = c.queued_bytes;
        s.reconnects = reconnects_;
        s.too_big = oversize_.dropped();
        return s;
    }

    asio::io_context& io_;
    mqtt_config config_;
    std::shared_ptr<spdlog::logger> log_;
    const mqtt_topics topics_;
    std::optional<broker_address> address_;
    std::string client_id_;

    state state_ = state::idle;
    std::uint64_t gen_ = 0;  // connection attempt; completions of older ones are ignored
    std::chrono::milliseconds backoff_ = first_backoff;
    bool ever_connected_ = false;
    bool failure_logged_ = false;        // the current outage was logged
    bool stopping_unreachable_ = false;  // stop() came while the broker was away
    bool abandoning_ = false;            // a stalled connection is being dropped
    bool reload_ = false;                // started or stopped for new settings, not for the daemon

    delivery_queue queue_;
    std::uint64_t failure_gen_ = 0;  // the connection whose unconfirmed message was logged
    std::uint64_t reconnects_ = 0;
    oversize_guard oversize_;

    std::vector<discovery_message> discovery_;
    std::optional<std::string> diagnostics_;
    std::optional<bool> meter_online_;  // none: the owner never said (no meter_status at all)
    bool unidentified_logged_ = false;
    std::function<void()> stop_done_;

    asio::steady_timer reconnect_timer_;
    asio::steady_timer resend_timer_;
    asio::steady_timer stop_timer_;
    asio::steady_timer watch_timer_;
    mqtt::connect_options connect_options_;
    std::shared_ptr<listener_registry> listeners_ = std::make_shared<listener_registry>();
    // Last, so that it is destroyed first, before anything its callbacks might reach.
    std::unique_ptr<mqtt::async_client> client_;
};

mqtt_publisher::mqtt_publisher(boost::asio::io_context& io, const mqtt_config& config,
                               std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<impl>(io, config, std::move(log))) {}

mqtt_publisher::~mqtt_publisher() = default;

void mqtt_publisher::start(occasion why) {
    impl_->reload_ = why == occasion::reload;
    impl_->start();
}

void mqtt_publisher::publish_reading(const reading& r, std::span<const std::uint8_t> raw,
                                     std::span<const std::uint8_t> plain) {
    impl_->publish_reading(r, raw, plain);
}

void mqtt_publisher::publish_diagnostics(const nlohmann::json& diagnostics) {
    impl_->publish_diagnostics(diagnostics);
}

void mqtt_publisher::set_meter_online(bool online) {
    impl_->set_meter_online(online);
}

void mqtt_publisher::stop(occasion why, std::function<void()> done) {
    impl_->reload_ = why == occasion::reload;
    impl_->stop(std::move(done));
}

mqtt_stats mqtt_publisher::stats() const {
    return impl_->stats();
}

}  // namespace evn_mbus

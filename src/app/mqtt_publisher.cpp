#include "mqtt_publisher.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "mqtt_publisher_impl.hpp"
#include "paho_connect.hpp"

namespace evn_mbus {
namespace asio = boost::asio;
using namespace publisher_timing;

mqtt_publisher::impl::impl(asio::io_context& io, const mqtt_config& config,
                           std::shared_ptr<spdlog::logger> log)
    : io_(io),
      config_(config),
      log_(std::move(log)),
      topics_(config),
      queue_(delivery_limits{config.queue_size, config.queue_max_mb << 20, send_window,
                             config.keepalive},
             std::chrono::steady_clock::now()),
      changes_(config.heartbeat),
      oversize_(config),
      reconnect_timer_(io),
      resend_timer_(io),
      stop_timer_(io),
      watch_timer_(io) {
    if (config_.queue_size == 0) config_.queue_size = 1;
}

mqtt_publisher::impl::~impl() {
    if (!client_) return;
    try {
        client_->disable_callbacks();
        // Destroying a Paho client sends a clean DISCONNECT, which suppresses the will.
        // The owner should have called stop(); if not, say "offline" now, waiting briefly.
        if (connected()) {
            client_
                ->publish(
                    mqtt::make_message(topics_.status, std::string("offline"), status_qos, true))
                ->wait_for(disconnect_wait);
        }
    } catch (const mqtt::exception&) {
    }
    client_.reset();
    listeners_->delete_all();
}

void mqtt_publisher::impl::start() {
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

void mqtt_publisher::impl::connect() {
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
        // Paho C's MQTTAsync_connect stores the new attempt's callbacks before it takes the
        // client's lock. A Paho thread still finishing a lost connection or a failed attempt
        // (nextOrClose, which holds that lock and has just called us back) then calls this
        // new attempt's failure callback too, and the attempt's real end calls it again: the
        // listener, already deleted, would be used (a SIGSEGV when stop() connected right after
        // "connection lost"). Taking the lock first (is_connected does) waits for that thread.
        (void)client_->is_connected();
        client_->connect(connect_options_, nullptr, *l);
    } catch (const mqtt::exception& e) {
        l->discard();
        const int rc = e.get_return_code();
        asio::post(io_, [w, gen, rc] {
            if (auto self = w.lock()) self->on_connect_result(gen, false, rc);
        });
    }
}

void mqtt_publisher::impl::on_connect_result(std::uint64_t gen, bool ok, int rc) {
    if (gen != gen_ || state_ != state::connecting) {
        // A connection that completed after stop(): end it the same way stop() does.
        if (ok && state_ == state::stopped) {
            try {
                client_->publish(
                    mqtt::make_message(topics_.status, std::string("offline"), status_qos, true));
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
        log_->info("MQTT broker {} connected again; sending {} queued reading(s){}", config_.uri,
                   queue_.size(), drop_note);
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
    // A broker restarted without persistence lost the retained values, and what the queue
    // dropped meanwhile never arrived: with on_change_only, the next reading sends every value.
    changes_.forget();

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
void mqtt_publisher::impl::watch_window() {
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
void mqtt_publisher::impl::on_stalled(std::chrono::steady_clock::duration d) {
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

void mqtt_publisher::impl::on_connect_failed(int rc) {
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
        log_->debug("MQTT broker {} still unreachable (error {}); next try in {} s", config_.uri,
                    rc, std::chrono::duration<double>(backoff_).count());
    }
    schedule_reconnect();
}

void mqtt_publisher::impl::log_connect_failure(const probe_result& r, int rc) {
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

void mqtt_publisher::impl::schedule_reconnect() {
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

void mqtt_publisher::impl::on_connection_lost(const std::string& cause) {
    abandoning_ = false;
    if (state_ != state::connected && state_ != state::draining && state_ != state::disconnecting) {
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
    log_->log(oversize_.churning() && !churn_warning ? spdlog::level::debug : spdlog::level::warn,
              "MQTT connection lost: {}; readings are queued ({} waiting) and sent when it "
              "is back",
              reason, queue_.size());
    failure_logged_ = true;  // the next failures belong to this outage
    backoff_ = first_backoff;
    schedule_reconnect();
}

void mqtt_publisher::impl::on_message(const mqtt::message& msg) {
    // Home Assistant announces a restart on <prefix>/status; a retained "online" is only
    // the old announcement, and connecting sent the discovery anyway.
    if (msg.get_topic() != topics_.ha_status || msg.is_retained()) return;
    if (msg.get_payload_str() != "online") return;
    log_->debug("Home Assistant (re)started: publishing the discovery config again");
    publish_discovery();
    // It forgot the values too (unless retained): with on_change_only, send each again.
    changes_.forget();
}

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

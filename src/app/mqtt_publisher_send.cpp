// The MQTT publisher's sending (readings through the delivery queue, the retained control
// messages) and its stop sequence (drain, "offline", disconnect). Its connection is in
// mqtt_publisher.cpp; the state both share in mqtt_publisher_impl.hpp.
#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <utility>

#include "mqtt_publisher_impl.hpp"

namespace evn_mbus {
namespace asio = boost::asio;
using namespace publisher_timing;
using namespace std::chrono_literals;

void mqtt_publisher::impl::publish_discovery() {
    if (!connected()) return;
    for (const auto& m : discovery_)
        publish_control(m.topic, m.payload.dump(), config_.qos);
}

void mqtt_publisher::impl::publish_diagnostics(const nlohmann::json& d) {
    diagnostics_ = d.dump();
    if (connected()) publish_control(topics_.diagnostics, *diagnostics_, config_.qos);
}

void mqtt_publisher::impl::set_meter_online(bool online) {
    meter_online_ = online;
    publish_meter_status();
}

void mqtt_publisher::impl::publish_meter_status() {
    if (connected() && meter_online_) {
        publish_control(topics_.meter_status, *meter_online_ ? "online" : "offline", status_qos);
    }
}

void mqtt_publisher::impl::publish_reading(const reading& r, std::span<const std::uint8_t> raw,
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
    const auto now = std::chrono::steady_clock::now();
    std::vector<mqtt_message> messages = reading_messages(r, raw, plain, config_);
    if (config_.on_change_only) {
        changes_.apply(messages, now,
                       [this](const std::string& topic) { return is_value_topic(topic, config_); });
        if (messages.empty()) return;  // nothing changed, and no state or raw topic is on
    }
    const std::uint64_t dropped_before = queue_.counters().dropped;
    for (const auto& text : queue_.push(std::move(messages), now))
        log_->warn("{}", text);
    // A dropped reading's values were taken as sent: the next reading sends them all.
    if (queue_.counters().dropped != dropped_before) changes_.forget();
    pump();
}

// Starts sending from the oldest unconfirmed message again: after a (re)connect, or when
// Paho refused a message while connected.
void mqtt_publisher::impl::restart_sending() {
    queue_.rewind();
    pump();
}

// Hands Paho what the send window has room for.
void mqtt_publisher::impl::pump() {
    if (!connected()) return;
    const auto now = std::chrono::steady_clock::now();
    while (const auto m = queue_.next(now)) {
        if (too_big(m->topic, m->payload, config_.qos)) {
            queue_.discard(m->id);
            changes_.forget();  // it never arrived: not "sent" for on_change_only
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

bool mqtt_publisher::impl::send(std::uint64_t id, const std::string& topic,
                                const std::string& payload) {
    const auto token = track(topic, payload, config_.qos);
    const auto gen = gen_;
    auto w = weak();
    auto* l = listener([w, gen, id, token](bool ok, int rc) {
        if (auto self = w.lock()) {
            self->oversize_.settled(token, ok);
            self->on_sent(gen, id, ok, rc);
        }
    });
    try {
        client_->publish(mqtt::make_message(topic, payload, config_.qos, config_.retain), nullptr,
                         *l);
    } catch (const mqtt::exception& e) {
        l->discard();
        oversize_.not_taken(token);
        log_->debug("MQTT: Paho did not take {} ({}); trying again", topic, e.what());
        queue_.refused(id);
        // Disconnected: the connection-lost callback is on its way. Else retry later.
        if (e.get_return_code() != MQTTASYNC_DISCONNECTED) schedule_resend();
        return false;
    }
    return true;
}

void mqtt_publisher::impl::on_sent(std::uint64_t gen, std::uint64_t id, bool ok, int rc) {
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
bool mqtt_publisher::impl::too_big(const std::string& topic, const std::string& payload, int qos) {
    auto c = oversize_.too_big(topic, payload.size(), qos);
    if (c.warning) log_->warn("{}", *c.warning);
    return c.drop;
}

std::uint64_t mqtt_publisher::impl::track(const std::string& topic, const std::string& payload,
                                          int qos) {
    return oversize_.sent(topic, payload.size(), qos, std::chrono::steady_clock::now());
}

// Why a connection ended, when the broker gave no reason: a message too big (said once,
// when the limit is set), or another client with our id (returns true when it says so).
bool mqtt_publisher::impl::diagnose_loss() {
    const auto l = oversize_.lost(std::chrono::steady_clock::now(), client_id_);
    if (l.too_big) log_->warn("{}", *l.too_big);
    if (l.churn) log_->warn("{}", *l.churn);
    return l.churn.has_value();
}

void mqtt_publisher::impl::schedule_resend() {
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

void mqtt_publisher::impl::stop(std::function<void()> done) {
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
void mqtt_publisher::impl::start_stop_timer(std::chrono::milliseconds drain) {
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

void mqtt_publisher::impl::give_up_stopping() {
    ++gen_;  // a connection completing later is ended by on_connect_result
    reconnect_timer_.cancel();
    report_unsent("the broker is unreachable");
    finish_stop();
}

void mqtt_publisher::impl::begin_disconnect() {
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
            mqtt::make_message(topics_.status, std::string("offline"), status_qos, true), nullptr,
            *l);
    } catch (const mqtt::exception&) {
        l->discard();
        disconnect_now();
    }
}

void mqtt_publisher::impl::disconnect_now() {
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

void mqtt_publisher::impl::report_unsent(const char* why) {
    const auto unsent = queue_.close();
    if (unsent == 0) return;
    log_->warn("{} reading(s) were not delivered to the MQTT broker: {}{}", unsent, why,
               reload_ ? " (while switching to the new MQTT settings)" : "");
}

void mqtt_publisher::impl::finish_stop() {
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

mqtt_stats mqtt_publisher::impl::stats() const {
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

}  // namespace evn_mbus

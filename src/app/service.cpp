#include "service.hpp"

#include <spdlog/fmt/fmt.h>

#include <boost/asio/post.hpp>
#include <iostream>

#include "config_loader.hpp"
#include "evn_mbus/hex.hpp"
#include "ha_discovery.hpp"
#include "local_api.hpp"
#include "log_setup.hpp"
#include "mqtt_publisher.hpp"
#include "reading_json.hpp"
#include "reading_text.hpp"
#include "serial_endpoint.hpp"
#include "startup_signals.hpp"
#include "uri_text.hpp"

namespace evn_mbus {
namespace {

namespace asio = boost::asio;

decoder_keys keys_of(const daemon_config& c) {
    decoder_keys k;
    if (c.meter.key) k.key = *c.meter.key;
    k.auth_key = c.meter.auth_key;
    return k;
}

}  // namespace

service::service(run_options options)
    : options_(std::move(options)),
      stop_signals_(io_, SIGTERM, SIGINT),
      reload_signal_(io_, SIGHUP),
      summary_timer_(io_),
      diagnostics_timer_(io_),
      shutdown_timer_(io_),
      meter_timer_(io_),
      line_(io_, line_handlers()),
      throttle_timer_(io_),
      notifier_(io_),
      screen_(stats_) {}

service::~service() = default;

bool service::load(daemon_config& out, bool at_start) {
    const config_result result = load_config_file(options_.config_path);
    if (!result.config) {
        if (!log_) log_ = make_logger(log_config{}, options_.log_target_override);
        for (const auto& p : result.problems)
            log_->error("{}", describe(p, options_.config_path));
        if (at_start) {
            log_->error(
                "evn-mbus cannot start: fix {} ('evn-mbus check-config --config {}' "
                "lists the problems)",
                options_.config_path, options_.config_path);
        } else {
            log_->error(
                "the new configuration in {} has problems and was NOT applied; the "
                "running configuration stays in force",
                options_.config_path);
        }
        return false;
    }
    out = *result.config;
    if (options_.log_level_override) out.log.level = *options_.log_level_override;
    for (const auto& w : result.warnings) {
        // The serial reader says itself, with what to do, when the device is missing.
        if (w.key == "serial.device") continue;
        if (!log_) log_ = make_logger(out.log, options_.log_target_override);
        log_->warn("{}", describe(w, options_.config_path));
    }
    return true;
}

void service::make_publisher(bool after_reload) {
    if (publisher_) {
        const auto s = publisher_->stats();
        mqtt_dropped_before_ += s.dropped;
        mqtt_reconnects_before_ += s.reconnects;
    }
    publisher_.reset();
    if (!options_.mqtt_enabled) return;
    publisher_ = std::make_shared<mqtt_publisher>(io_, config_.mqtt, log_);
    publisher_->set_meter_online(meter_.online());
    try {
        publisher_->start(after_reload ? mqtt_publisher::occasion::reload
                                       : mqtt_publisher::occasion::run);
    } catch (const std::exception& e) {
        // Settings that cannot work at all (the message says which): readings are still
        // decoded and logged, and a SIGHUP with a fixed file tries again.
        log_->error("MQTT disabled: {}", e.what());
        publisher_.reset();
    }
}

void service::make_local_api() {
    // The latest reading stays: a poller must not get "no reading yet" after a reload.
    std::optional<local_api::latest_reading> latest;
    if (api_) latest = api_->latest();
    api_.reset();  // frees the port before the new server binds it
    if (config_.http.listen.empty()) return;
    try {
        api_ = std::make_unique<local_api>(
            io_, config_.http,
            [this] {
                refresh_mqtt_stats();
                metrics_snapshot s;
                s.stats = stats_;
                s.mqtt_enabled = publisher_ != nullptr;
                if (publisher_) s.mqtt = publisher_->stats();
                s.version = EVN_MBUS_VERSION;
                return s;
            },
            log_);
        if (latest) api_->restore(std::move(*latest));
    } catch (const std::exception& e) {
        // The meter's readings still go to MQTT; the API waits for a fixed file and a SIGHUP.
        log_->error("HTTP API off: {}", e.what());
    }
}

void service::to_mqtt(const reading& r, std::span<const std::uint8_t> raw,
                      std::span<const std::uint8_t> plain) {
    if (throttle_.offer(std::chrono::steady_clock::now()) == publish_throttle::verdict::now) {
        publisher_->publish_reading(r, raw, plain);
        return;
    }
    // Registers only rise: the newest reading of the interval carries the others' energy.
    throttled_ = throttled_reading{r, {raw.begin(), raw.end()}, {plain.begin(), plain.end()}};
    arm_throttle();
}

void service::arm_throttle() {
    const auto due = throttle_.due();
    if (!due) return;
    throttle_timer_.expires_at(*due);
    throttle_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !throttle_.take_due(std::chrono::steady_clock::now())) return;
        if (throttled_ && publisher_) {
            publisher_->publish_reading(throttled_->value, throttled_->raw, throttled_->plain);
        }
        throttled_.reset();
    });
}

void service::send_throttled() {
    throttle_timer_.cancel();
    if (throttle_.take_held() && throttled_ && publisher_)
        publisher_->publish_reading(throttled_->value, throttled_->raw, throttled_->plain);
    throttled_.reset();
}

int service::run() {
    daemon_config config;
    if (!load(config, true)) return exit_config_error;
    config_ = config;
    meter_.set_limit(config_.serial.no_data_warning);
    log_ = make_logger(config_.log, options_.log_target_override);
    screen_.set_logger(log_);
    screen_.set_max_power_kw(config_.meter.max_power_kw);

    log_->info("evn-mbus {} starting: meter on {} ({}), {}", EVN_MBUS_VERSION,
               config_.serial.device, line_settings(config_.serial),
               options_.mqtt_enabled ? "MQTT broker " + uri_without_userinfo(config_.mqtt.uri) +
                                           " under topic '" + config_.mqtt.topic_prefix + "/'"
                                     : std::string("MQTT off"));
    if (config_.meter.auth_key) {
        log_->info("an authentication key is configured: GCM tags will be verified");
    }

    decoder_ = std::make_unique<telegram_decoder>(
        keys_of(config_), decoder_options{config_.serial.link, config_.meter.layout});
    throttle_ = publish_throttle(config_.mqtt.min_interval);
    make_publisher();
    make_local_api();
    line_.set_logger(log_);
    line_.start(config_.serial);
    wait_signals();
    schedule_summary();
    schedule_diagnostics();
    notifier_.start_watchdog();
    update_status();

    // The handlers (stop_signals_, reload_signal_) exist since the constructor; a signal of
    // the start-up has waited, blocked, and is handled by the loop now.
    release_startup_signals();
    io_.run();
    refresh_mqtt_stats();
    log_->info("evn-mbus stopped ({})", stats_.summary());
    return exit_status_;
}

serial_watch::handlers service::line_handlers() {
    serial_watch::handlers h;
    h.on_bytes = [this](std::span<const std::uint8_t> b) {
        decoder_->feed(b);
        drain();
    };
    h.on_idle = [this] { on_idle(); };
    h.on_open = [this] {
        stats_.serial_reopens = line_.reopen_count();
        mark_ready();
        update_status();
    };
    h.on_lost = [this] {
        if (meter_.on_port_lost())
            meter_lost("the " + describe_serial_device(config_.serial.device) + " is gone");
        // Ready even without the device: the service runs and waits for it; failing the
        // start would make systemd restart it in a loop while the adapter is unplugged.
        mark_ready();
        notifier_.status("waiting for " + describe_serial_device(config_.serial.device));
    };
    return h;
}

void service::meter_seen() {
    if (!meter_.on_reading(std::chrono::steady_clock::now())) return;
    if (publisher_) {
        publisher_->set_meter_online(true);
        if (meter_was_lost_) {
            log_->info("readings arrive again: Home Assistant shows the meter's values again");
        }
    }
    watch_meter();
}

void service::meter_lost(const std::string& why) {
    meter_timer_.cancel();
    if (!publisher_) return;
    publisher_->set_meter_online(false);
    meter_was_lost_ = true;
    log_->info(
        "{}: Home Assistant shows the meter's values as unavailable ({} is offline) until "
        "readings arrive again",
        why, ha_meter_status_topic(config_.mqtt));
}

void service::watch_meter() {
    const auto at = meter_.deadline();
    if (!at || stopping_) {
        meter_timer_.cancel();
        return;
    }
    // Armed at the deadline of the last reading seen when it was set, not on every reading:
    // when it fires early (readings came meanwhile), it is set again at the new deadline.
    meter_timer_.expires_at(*at);
    meter_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        if (!meter_.check(std::chrono::steady_clock::now())) {
            watch_meter();
            return;
        }
        meter_lost(fmt::format("no reading from the meter for {} s",
                               config_.serial.no_data_warning.count()));
    });
}

void service::on_idle() {
    decoder_->on_idle_gap();
    drain();
}

void service::drain() {
    for (;;) {
        const decode_event ev = decoder_->next();
        switch (ev.what) {
            case decode_event::kind::need_more:
                return;
            case decode_event::kind::reading:
                on_reading(*ev.value, ev.raw);
                break;
            case decode_event::kind::error:
                screen_.dropped(ev.error, ev.raw);
                break;
            case decode_event::kind::answer:
                // An AMIS meter waits for its acknowledgement (within 0.5 s): at once.
                if (line_.write(ev.answer)) ++stats_.answers;
                break;
        }
    }
}

void service::on_reading(const reading& r, std::span<const std::uint8_t> raw) {
    ++stats_.telegrams_ok;
    stats_.last_reading = std::chrono::system_clock::now();
    if (!screen_.frame_counter_ok(r) || !screen_.plausible(r)) {
        update_status();
        return;
    }
    if (stats_.telegrams_ok == 1) {
        log_->info("first reading from meter {}: {}: {}",
                   r.meter_number.empty() ? std::string("(number not sent)") : r.meter_number,
                   detected(r), named_values(r));
    }
    if (r.layout == value_layout::untagged && r.untagged_values > 0) {
        ++stats_.pushes_without_layout;
        // Once per shape: a meter pushes the same one every second.
        // (A bounded set: a line that garbles pushes into ever new shapes cannot fill memory.)
        if (std::string key = shape_key(r);
            advised_shapes_.size() < 64 && advised_shapes_.insert(std::move(key)).second) {
            log_->warn("{}", layout_advice(r, layout_setting_text(config_.meter.layout)));
        }
    }
    const bool debug = log_->should_log(spdlog::level::debug);
    if (debug || options_.print_readings) {
        const std::string text = to_json(r).dump();
        if (debug) {
            log_->debug("telegram {} bytes: {}", raw.size(), to_hex(raw));
            log_->debug("reading: {}", text);
        }
        if (options_.print_readings) std::cout << text << std::endl;
    }
    meter_seen();
    if (api_) api_->on_reading(r);
    if (switching_publisher_) {
        if (held_.size() >= config_.mqtt.queue_size) {
            held_.pop_front();
            ++mqtt_dropped_before_;
        }
        held_.emplace_back(r, std::vector<std::uint8_t>(raw.begin(), raw.end()));
    } else if (publisher_) {
        to_mqtt(r, raw, decoder_->last_plaintext());
    }
    update_status();
}

void service::wait_signals() {
    stop_signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        log_->info("received {}, stopping", signo == SIGINT ? "SIGINT" : "SIGTERM");
        shutdown();
    });
    wait_reload();
}

void service::wait_reload() {
    reload_signal_.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec || stopping_) return;
        reload();
        wait_reload();
    });
}

void service::reload() {
    notifier_.reloading();
    log_->info("SIGHUP: reloading {}", options_.config_path);
    daemon_config fresh;
    if (!load(fresh, false)) {
        notifier_.ready();
        return;
    }
    log_->set_level(parse_level(fresh.log.level));
    if (fresh.meter.key != config_.meter.key || fresh.meter.auth_key != config_.meter.auth_key) {
        decoder_->set_keys(keys_of(fresh));
        screen_.key_changed();
        log_->info("meter keys updated");
    }
    screen_.set_max_power_kw(fresh.meter.max_power_kw);
    if (fresh.meter.layout != config_.meter.layout) {
        decoder_->set_layout(fresh.meter.layout);
        screen_.layout_changed();
        advised_shapes_.clear();  // a push that still fits none is said again
        log_->info("meter.layout is now {}", layout_setting_text(fresh.meter.layout));
    }
    const bool serial_changed = fresh.serial != config_.serial;
    const bool mqtt_changed = fresh.mqtt != config_.mqtt;
    const bool http_changed = fresh.http != config_.http;
    if (mqtt_changed) {
        // The reading held for the interval goes with the settings it came under.
        send_throttled();
        throttle_ = publish_throttle(fresh.mqtt.min_interval);
    }
    config_ = fresh;
    if (!http_changed && !api_ && !config_.http.listen.empty()) {
        // It could not listen before (the port was taken, say): try again.
        make_local_api();
    } else if (http_changed) {
        log_->info("HTTP settings changed: {}", config_.http.listen.empty()
                                                    ? std::string("the HTTP API is now off")
                                                    : "listening again on " + config_.http.listen);
        make_local_api();
    }
    meter_.set_limit(config_.serial.no_data_warning);
    watch_meter();
    if (serial_changed) {
        log_->info("serial settings changed: reopening {} ({})", config_.serial.device,
                   line_settings(config_.serial));
        line_.start(config_.serial);
    }
    if (mqtt_changed && options_.mqtt_enabled) {
        log_->info("MQTT settings changed: reconnecting to {}",
                   uri_without_userinfo(config_.mqtt.uri));
        if (publisher_ && !switching_publisher_) {
            // The old connection first delivers what it holds and says "offline"; only then
            // does the new one connect (same client id: the broker would otherwise cut one
            // of them, and a late "offline" could overwrite the new "online"). Readings of
            // the meantime are held here and handed to the new connection.
            switching_publisher_ = true;
            auto old = publisher_;
            old->stop(mqtt_publisher::occasion::reload, [this, old] {
                switching_publisher_ = false;
                if (stopping_) {
                    if (!held_.empty()) {
                        log_->warn(
                            "{} readings received during the MQTT reconnect are lost "
                            "because evn-mbus is stopping",
                            held_.size());
                    }
                    shutdown_timer_.cancel();
                    io_.stop();
                    return;
                }
                make_publisher(true);
                if (publisher_) {
                    // Through the throttle, as if they had come now (min_interval_s holds).
                    for (const auto& [r, raw] : held_)
                        to_mqtt(r, raw, {});
                }
                held_.clear();
                schedule_diagnostics();
            });
        } else if (!switching_publisher_) {
            make_publisher(true);
            schedule_diagnostics();
        }
    }
    log_->info("configuration reloaded");
    notifier_.ready();
}

void service::shutdown() {
    if (stopping_) return;
    stopping_ = true;
    notifier_.stopping();
    notifier_.stop_watchdog();
    summary_timer_.cancel();
    diagnostics_timer_.cancel();
    meter_timer_.cancel();
    reload_signal_.cancel();
    line_.stop();
    api_.reset();
    // The newest reading of the interval is not lost to the stop.
    if (!switching_publisher_) send_throttled();
    // Pending readings get a bounded time to reach the broker; then the loop ends anyway.
    auto finish = [this] {
        shutdown_timer_.cancel();
        io_.stop();
    };
    shutdown_timer_.expires_after(config_.mqtt.shutdown_timeout);
    shutdown_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        log_->warn("MQTT did not confirm everything within {} s; readings still queued are lost",
                   config_.mqtt.shutdown_timeout.count());
        io_.stop();
    });
    if (switching_publisher_) {
        // The old connection is already stopping; its completion ends the loop.
    } else if (publisher_) {
        publisher_->stop(finish);
    } else {
        asio::post(io_, finish);
    }
}

void service::schedule_summary() {
    if (config_.log.summary_interval.count() <= 0) return;
    summary_timer_.expires_after(config_.log.summary_interval);
    summary_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        refresh_mqtt_stats();
        log_->info("summary: {}", stats_.summary());
        schedule_summary();
    });
}

void service::schedule_diagnostics() {
    if (!publisher_ || config_.mqtt.diagnostics_interval.count() <= 0) return;
    diagnostics_timer_.expires_after(config_.mqtt.diagnostics_interval);
    diagnostics_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        publish_diagnostics();
        schedule_diagnostics();
    });
}

void service::publish_diagnostics() {
    if (!publisher_) return;
    refresh_mqtt_stats();
    publisher_->publish_diagnostics(stats_.to_json(EVN_MBUS_VERSION));
}

void service::mark_ready() {
    if (ready_sent_) return;
    ready_sent_ = true;
    notifier_.ready();
}

void service::update_status() {
    refresh_mqtt_stats();
    notifier_.status(stats_.summary());
}

void service::refresh_mqtt_stats() {
    const auto s = publisher_ ? publisher_->stats() : mqtt_stats{};
    stats_.mqtt_dropped = mqtt_dropped_before_ + s.dropped;
    stats_.mqtt_reconnects = mqtt_reconnects_before_ + s.reconnects;
}

}  // namespace evn_mbus

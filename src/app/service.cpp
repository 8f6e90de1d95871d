#include "service.hpp"

#include <spdlog/fmt/fmt.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <iostream>

#include "config_loader.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"
#include "ha_discovery.hpp"
#include "log_setup.hpp"
#include "mqtt_publisher.hpp"
#include "plausibility_message.hpp"
#include "reading_json.hpp"
#include "serial_reader.hpp"
#include "startup_signals.hpp"
#include "uri_text.hpp"

namespace evn_mbus {
namespace {

namespace asio = boost::asio;

const char* parity_letter(serial_parity p) {
    switch (p) {
        case serial_parity::none:
            return "N";
        case serial_parity::even:
            return "E";
        case serial_parity::odd:
            return "O";
    }
    return "?";
}

std::string line_settings(const serial_config& s) {
    return fmt::format("{} baud {}{}{}, idle gap {} ms", s.baud, s.data_bits,
                       parity_letter(s.parity), s.stop_bits, s.idle_gap.count());
}

// "w_p 12937 Wh, p_p 0 W, u1 233.7 V, ..." for the values the meter sent.
std::string named_values(const reading& r) {
    std::string out;
    for (const auto& q : named_quantities()) {
        const auto v = r.named(q.name);
        if (!v) continue;
        if (!out.empty()) out += ", ";
        out += fmt::format("{} {}{}{}", q.name, *v, q.unit.empty() ? "" : " ", q.unit);
    }
    return out.empty() ? std::string("no named values") : out;
}

// "Landis+Gyr (LGZ), HDLC, general block transfer, layout obis-tagged, 17 values" and, for a
// layout evn-mbus does not know, what was left out and what to do.
std::string detected(const reading& r) {
    std::string out = r.manufacturer_label().empty() ? "no system title (plaintext push)"
                                                     : r.manufacturer_label();
    out += fmt::format(", {}, layout {}, {} values", describe_link(r.link, r.block_transfer),
                       layout_name(r.layout), r.values.size());
    if (r.untagged_values > 0) {
        out += fmt::format(
            " ({} more numbers without an OBIS code were left out: their meaning is unknown; "
            "please report your meter and grid operator so that this layout can be added)",
            r.untagged_values);
    }
    return out;
}

// "181220000009", or "with system title 4B464D..." for a meter that sends no number.
std::string meter_label(const reading& r) {
    return r.meter_number.empty() ? "with system title " + to_hex(r.title) : r.meter_number;
}

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
      silence_timer_(io_),
      meter_timer_(io_),
      notifier_(io_) {}

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

int service::run() {
    daemon_config config;
    if (!load(config, true)) return exit_config_error;
    config_ = config;
    meter_.set_limit(config_.serial.no_data_warning);
    log_ = make_logger(config_.log, options_.log_target_override);
    gate_.set_max_power_w(config_.meter.max_power_kw * 1000.0);

    log_->info("evn-mbus {} starting: meter on {} ({}), {}", EVN_MBUS_VERSION,
               config_.serial.device, line_settings(config_.serial),
               options_.mqtt_enabled ? "MQTT broker " + uri_without_userinfo(config_.mqtt.uri) +
                                           " under topic '" + config_.mqtt.topic_prefix + "/'"
                                     : std::string("MQTT off"));
    if (config_.meter.auth_key) {
        log_->info("an authentication key is configured: GCM tags will be verified");
    }

    decoder_ =
        std::make_unique<telegram_decoder>(keys_of(config_), decoder_options{config_.serial.link});
    make_publisher();
    start_serial();
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

void service::start_serial() {
    serial_reader::handlers h;
    h.on_bytes = [this](std::span<const std::uint8_t> b) { on_bytes(b); };
    h.on_idle = [this] { on_idle(); };
    h.on_open = [this] {
        const bool again = serial_ && serial_->reopen_count() > 0;
        log_->info("serial port {} {} ({})", config_.serial.device, again ? "is back" : "open",
                   line_settings(config_.serial));
        stats_.serial_reopens = serial_ ? serial_->reopen_count() : 0;
        last_data_ = std::chrono::steady_clock::now();
        line_silent_ = false;
        watch_silence();
        mark_ready();
        update_status();
    };
    h.on_failure = [this](const std::string& what, bool first) {
        if (first) log_->warn("{}", what);
        silence_timer_.cancel();  // the port is gone: that has its own message
        if (meter_.on_port_lost())
            meter_lost("the serial port " + config_.serial.device + " is gone");
        // Ready even without the device: the service runs and waits for it; failing the
        // start would make systemd restart it in a loop while the adapter is unplugged.
        mark_ready();
        notifier_.status("waiting for serial device " + config_.serial.device);
    };
    serial_ = std::make_unique<serial_reader>(io_, config_.serial, std::move(h));
    serial_->start();
}

void service::on_bytes(std::span<const std::uint8_t> bytes) {
    last_data_ = std::chrono::steady_clock::now();
    if (line_silent_) {
        line_silent_ = false;
        log_->info("data from the meter on {} again", config_.serial.device);
        watch_silence();
    }
    if (log_->should_log(spdlog::level::trace)) {
        log_->trace("read {} bytes: {}", bytes.size(), to_hex(bytes));
    }
    decoder_->feed(bytes);
    drain();
}

void service::watch_silence() {
    const auto limit = config_.serial.no_data_warning;
    if (limit.count() <= 0 || stopping_) return;
    // Re-armed from the last byte rather than on every read: a timer reset per chunk of
    // bytes would cost more than the data.
    silence_timer_.expires_at(last_data_ + limit);
    silence_timer_.async_wait([this, limit](const boost::system::error_code& ec) {
        if (ec) return;
        if (std::chrono::steady_clock::now() - last_data_ < limit) {
            watch_silence();
            return;
        }
        line_silent_ = true;
        log_->warn(
            "no data from the meter on {} for {} s: check that the customer interface is "
            "activated in your grid operator's portal, that the M-Bus wires are on pins 3 and 4 "
            "of the RJ12 plug, and that the interface board's TX goes to the "
            "Pi's RXD (GPIO 15, pin 10); this message comes once, until data arrives",
            config_.serial.device, limit.count());
    });
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
                on_error(ev.error, ev.raw);
                break;
        }
    }
}

void service::on_reading(const reading& r, std::span<const std::uint8_t> raw) {
    ++stats_.telegrams_ok;
    stats_.last_reading = std::chrono::system_clock::now();
    if (!check_frame_counter(r)) return;
    if (!check_plausibility(r)) return;
    if (stats_.telegrams_ok == 1) {
        log_->info("first reading from meter {}: {}: {}",
                   r.meter_number.empty() ? std::string("(number not sent)") : r.meter_number,
                   detected(r), named_values(r));
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
    if (switching_publisher_) {
        if (held_.size() >= config_.mqtt.queue_size) {
            held_.pop_front();
            ++mqtt_dropped_before_;
        }
        held_.emplace_back(r, std::vector<std::uint8_t>(raw.begin(), raw.end()));
    } else if (publisher_) {
        publisher_->publish_reading(r, raw, decoder_->last_plaintext());
    }
    update_status();
}

// Lost, repeated and replayed pushes, by the GCM frame counter (the rules are in
// frame_counter_monitor.hpp). A repeat or an old telegram is told once per push; gaps are
// rate-limited, since a bad wire loses pushes all the time.
bool service::check_frame_counter(const reading& r) {
    const auto now = std::chrono::steady_clock::now();
    const counter_check c = counters_.check(r, now);
    stats_.counters = counters_.stats();
    const std::string meter = meter_label(r);
    switch (c.verdict) {
        case counter_verdict::duplicate:
            log_->warn(
                "meter {} sent push counter {} again (last {}): a replayed or repeated "
                "telegram; not published",
                meter, c.counter, c.previous);
            break;
        case counter_verdict::backwards:
            log_->warn(
                "meter {} sent push counter {}, lower than the last one ({}): an old telegram "
                "replayed, or the meter was reset; not published (if the meter keeps counting "
                "up from there, it is taken as reset after a few pushes)",
                meter, c.counter, c.previous);
            break;
        case counter_verdict::reset_accepted:
            log_->warn(
                "meter {} keeps counting up from push counter {} (the last one before was {}): "
                "the meter was reset; publishing again",
                meter, c.counter, c.previous);
            break;
        case counter_verdict::jump:
            log_->info(
                "the push counter of meter {} jumped from {} to {}, further than pushes can "
                "have been lost in the meantime: the meter was probably restarted or replaced; "
                "counting on from here",
                meter, c.previous, c.counter);
            break;
        case counter_verdict::gap: {
            // Telegrams dropped since the last reading (a wrong key, damage) are pushes that
            // did arrive: only the rest can have been lost on the wire.
            const std::uint64_t failed = stats_.failures_total() - failures_at_last_reading_;
            if (failed > 0) {
                log_gap_of_failures(c, meter, failed, now);
                break;
            }
            std::uint64_t suppressed = 0;
            if (limiter_.should_log("lost_pushes", now, suppressed)) {
                log_->warn(
                    "{} {} from meter {} {} lost on the wire (counter {} -> {}){}: check the "
                    "wiring and the M-Bus interface if this repeats",
                    c.lost, c.lost == 1 ? "push" : "pushes", meter, c.lost == 1 ? "was" : "were",
                    c.previous, c.counter,
                    suppressed > 0
                        ? fmt::format(" ({} more gaps since the last such message)", suppressed)
                        : std::string());
            }
            break;
        }
        default:
            break;
    }
    if (!c.publish()) update_status();
    failures_at_last_reading_ = stats_.failures_total();
    key_changed_ = false;
    return c.publish();
}

// A counter gap with dropped telegrams in between: say what happened to the pushes (they
// came, but could not be decrypted or were damaged) instead of blaming the wire.
void service::log_gap_of_failures(const counter_check& c, const std::string& meter,
                                  std::uint64_t failed, std::chrono::steady_clock::time_point now) {
    std::uint64_t suppressed = 0;
    if (!limiter_.should_log("dropped_pushes", now, suppressed)) return;
    const std::string pushes = fmt::format("{} {}", c.lost, c.lost == 1 ? "push" : "pushes");
    const std::string more =
        suppressed > 0 ? fmt::format(" ({} more such gaps since the last such message)", suppressed)
                       : std::string();
    if (failed >= c.lost) {
        if (key_changed_) {
            log_->warn(
                "{} from meter {} (counter {} -> {}) could not be decrypted with the key in "
                "force before the reload and {} dropped; the new key works{}",
                pushes, meter, c.previous, c.counter, c.lost == 1 ? "was" : "were", more);
        } else {
            log_->warn(
                "{} from meter {} (counter {} -> {}) arrived but {} dropped as failed (see "
                "the 'telegram dropped' messages for why){}",
                pushes, meter, c.previous, c.counter, c.lost == 1 ? "was" : "were", more);
        }
        return;
    }
    log_->warn(
        "{} from meter {} are missing (counter {} -> {}): {} arrived but {} dropped as failed{}, "
        "the other {} {} lost on the wire: check the wiring and the M-Bus interface if this "
        "repeats{}",
        pushes, meter, c.previous, c.counter, failed, failed == 1 ? "was" : "were",
        key_changed_ ? " while the key was wrong" : "", c.lost - failed,
        c.lost - failed == 1 ? "was" : "were", more);
}

// Impossible readings of meters without a GCM tag (the rules are in plausibility_gate.hpp):
// not published, counted, and told once a minute per reason.
bool service::check_plausibility(const reading& r) {
    const auto now = std::chrono::steady_clock::now();
    const plausibility_check c = gate_.check(r, now);
    stats_.plausibility = gate_.stats();
    const std::string text = describe_plausibility(c, meter_label(r), config_.meter.max_power_kw,
                                                   gate_.options().accept_after);
    if (c.verdict == plausibility_verdict::new_level_accepted) {
        log_->warn("{}", text);
    } else if (!c.publish()) {
        std::uint64_t suppressed = 0;
        if (limiter_.should_log(std::string("implausible_") + to_string(c.verdict), now,
                                suppressed)) {
            log_->warn("{}{}", text,
                       suppressed > 0 ? fmt::format(" ({} more like this since the last such "
                                                    "message)",
                                                    suppressed)
                                      : std::string());
        }
        update_status();
    }
    return c.publish();
}

void service::on_error(const std::error_code& ec, std::span<const std::uint8_t> raw) {
    const std::string name(error_name(ec));
    ++stats_.failures[name];
    std::uint64_t suppressed = 0;
    if (limiter_.should_log(name, std::chrono::steady_clock::now(), suppressed)) {
        if (suppressed > 0) {
            log_->warn("telegram dropped: {} ({} more like this since the last such message)",
                       ec.message(), suppressed);
        } else {
            log_->warn("telegram dropped: {}", ec.message());
        }
    }
    if (!raw.empty() && log_->should_log(spdlog::level::debug)) {
        log_->debug("dropped bytes ({}): {}", name, to_hex(raw));
    }
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
        key_changed_ = true;
        log_->info("meter keys updated");
    }
    gate_.set_max_power_w(fresh.meter.max_power_kw * 1000.0);
    const bool serial_changed = fresh.serial != config_.serial;
    const bool mqtt_changed = fresh.mqtt != config_.mqtt;
    config_ = fresh;
    meter_.set_limit(config_.serial.no_data_warning);
    watch_meter();
    if (serial_changed) {
        log_->info("serial settings changed: reopening {} ({})", config_.serial.device,
                   line_settings(config_.serial));
        serial_->stop();
        start_serial();
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
                    for (const auto& [r, raw] : held_)
                        publisher_->publish_reading(r, raw);
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
    silence_timer_.cancel();
    meter_timer_.cancel();
    reload_signal_.cancel();
    if (serial_) serial_->stop();
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

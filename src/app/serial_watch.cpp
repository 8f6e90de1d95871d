#include "serial_watch.hpp"

#include "evn_mbus/hex.hpp"
#include "net_reader.hpp"
#include "reading_text.hpp"
#include "serial_reader.hpp"

namespace evn_mbus {

serial_watch::serial_watch(boost::asio::io_context& io, handlers h)
    : io_(io), handlers_(std::move(h)), silence_timer_(io) {}

serial_watch::~serial_watch() = default;

std::uint64_t serial_watch::reopen_count() const noexcept {
    return reader_ ? reader_->reopen_count() : 0;
}

void serial_watch::start(const serial_config& config) {
    if (reader_) reader_->stop();
    config_ = config;
    stopped_ = false;
    // The configuration has checked the address; a bad one here is a programming error, and
    // is read as a path (which then does not exist, and says so).
    auto parsed = parse_serial_endpoint(config_.device);
    endpoint_ = std::holds_alternative<serial_endpoint>(parsed)
                    ? std::get<serial_endpoint>(parsed)
                    : serial_endpoint{serial_transport::device, config_.device, {}, 0};
    meter_line::handlers h;
    h.on_bytes = [this](std::span<const std::uint8_t> b) { on_bytes(b); };
    h.on_idle = [this] { handlers_.on_idle(); };
    h.on_open = [this] {
        const bool back = reopen_count() > 0;
        switch (endpoint_.transport) {
            case serial_transport::device:
                log_->info("serial port {} {} ({})", config_.device, back ? "is back" : "open",
                           line_settings(config_));
                break;
            case serial_transport::tcp:
                // Raw TCP carries no line settings: the bridge's own configuration must match.
                log_->info(
                    "network bridge {} {} (raw TCP: the bridge's serial port must be set to "
                    "{} itself; idle gap {} ms)",
                    endpoint_.text(), back ? "is back" : "connected", line_format(config_),
                    config_.idle_gap.count());
                break;
            case serial_transport::rfc2217:
                log_->info(
                    "network bridge {} {} (RFC 2217: setting its serial port to {}; idle "
                    "gap {} ms)",
                    endpoint_.text(), back ? "is back" : "connected", line_format(config_),
                    config_.idle_gap.count());
                break;
        }
        last_data_ = std::chrono::steady_clock::now();
        silent_ = false;
        watch_silence();
        handlers_.on_open();
    };
    h.on_failure = [this](const std::string& what, bool first) {
        if (first) log_->warn("{}", what);
        silence_timer_.cancel();  // the line is gone: that has its own message
        handlers_.on_lost();
    };
    h.on_note = [this](const std::string& what, bool warning) {
        if (warning) {
            log_->warn("{}", what);
        } else {
            log_->info("{}", what);
        }
    };
    if (endpoint_.is_network()) {
        reader_ = std::make_unique<net_reader>(io_, config_, endpoint_, std::move(h));
    } else {
        reader_ = std::make_unique<serial_reader>(io_, config_, std::move(h));
    }
    reader_->start();
}

void serial_watch::stop() {
    stopped_ = true;
    silence_timer_.cancel();
    if (reader_) reader_->stop();
}

bool serial_watch::write(std::span<const std::uint8_t> bytes) {
    return reader_ && reader_->write(bytes);
}

void serial_watch::on_bytes(std::span<const std::uint8_t> bytes) {
    last_data_ = std::chrono::steady_clock::now();
    if (silent_) {
        silent_ = false;
        log_->info("data from the meter on {} again", endpoint_.text());
        watch_silence();
    }
    if (log_->should_log(spdlog::level::trace)) {
        log_->trace("read {} bytes: {}", bytes.size(), to_hex(bytes));
    }
    handlers_.on_bytes(bytes);
}

void serial_watch::watch_silence() {
    const auto limit = config_.no_data_warning;
    if (limit.count() <= 0 || stopped_) return;
    // Re-armed from the last byte rather than on every read: a timer reset per chunk of
    // bytes would cost more than the data.
    silence_timer_.expires_at(last_data_ + limit);
    silence_timer_.async_wait([this, limit](const boost::system::error_code& ec) {
        if (ec) return;
        if (std::chrono::steady_clock::now() - last_data_ < limit) {
            watch_silence();
            return;
        }
        silent_ = true;
        if (endpoint_.is_network()) {
            // With raw TCP the bridge's own line settings must be the meter's; with RFC 2217
            // evn-mbus set them (and said whether the bridge took them).
            const std::string line =
                endpoint_.transport == serial_transport::tcp
                    ? " and set to " + line_format(config_) + " in the bridge's configuration"
                    : std::string();
            log_->warn(
                "no data from the meter through the network bridge {} for {} s, although it is "
                "connected: check that the bridge's serial side is wired to the meter's "
                "interface{}, and that the customer interface is activated in your grid "
                "operator's portal; this message comes once, until data arrives",
                endpoint_.text(), limit.count(), line);
            return;
        }
        log_->warn(
            "no data from the meter on {} for {} s: check that the customer interface is "
            "activated in your grid operator's portal, that the M-Bus wires are on pins 3 and 4 "
            "of the RJ12 plug, and that the interface board's TX goes to the "
            "Pi's RXD (GPIO 15, pin 10); this message comes once, until data arrives",
            config_.device, limit.count());
    });
}

}  // namespace evn_mbus

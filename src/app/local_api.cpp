#include "local_api.hpp"

#include <cmath>
#include <stdexcept>
#include <variant>

#include "http_listen_address.hpp"
#include "reading_json.hpp"

namespace evn_mbus {
namespace {

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
    const double s = std::chrono::duration<double>(to - from).count();
    return std::round(s * 1000.0) / 1000.0;  // ms are enough, and keep the JSON short
}

// Never throws: text the meter sent that is not UTF-8 is replaced, not an exception in the
// decode path (on_reading runs there).
std::string dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http_reply json_reply(unsigned status, const nlohmann::json& body) {
    return {status, "application/json", dump(body)};
}

}  // namespace

local_api::local_api(boost::asio::io_context& io, const http_config& config, figures_source figures,
                     std::shared_ptr<spdlog::logger> log)
    : figures_(std::move(figures)) {
    const auto parsed = parse_listen_address(config.listen);
    const auto* endpoint = std::get_if<boost::asio::ip::tcp::endpoint>(&parsed);
    if (endpoint == nullptr) {
        throw std::runtime_error("http.listen \"" + config.listen +
                                 "\": " + std::get<listen_problem>(parsed).message);
    }
    http_server_options options;
    options.endpoint = *endpoint;
    options.username = config.username;
    options.password = config.password;
    options.max_connections = config.max_connections;
    options.request_timeout = config.request_timeout;
    http_content content;
    content.reading = [this] { return reading_reply(); };
    content.status = [this] { return status_reply(); };
    content.metrics = [this] { return metrics_reply(); };
    content.latest_event = [this]() -> std::optional<std::string> {
        if (!latest_) return std::nullopt;
        return dump(latest_json_);
    };
    server_ =
        std::make_unique<http_server>(io, std::move(options), std::move(content), std::move(log));
    server_->start();
}

local_api::~local_api() = default;

void local_api::on_reading(const reading& r) {
    latest_ = r;
    latest_json_ = to_json(r);
    latest_at_ = std::chrono::steady_clock::now();
    latest_wall_ = std::chrono::system_clock::now();
    // The text only for someone to send it to: most pushes have no event client.
    if (server_->stats().event_clients > 0) server_->broadcast_reading(dump(latest_json_));
}

std::optional<local_api::latest_reading> local_api::latest() const {
    if (!latest_) return std::nullopt;
    return latest_reading{*latest_, latest_json_, latest_at_, latest_wall_};
}

void local_api::restore(latest_reading latest) {
    latest_ = std::move(latest.value);
    latest_json_ = std::move(latest.json);
    latest_at_ = latest.at;
    latest_wall_ = latest.wall;
}

http_server_stats local_api::stats() const {
    return server_->stats();
}

http_reply local_api::reading_reply() const {
    if (!latest_) {
        return json_reply(503, {{"error", "no_reading_yet"},
                                {"message",
                                 "no reading has arrived from the meter since evn-mbus started; "
                                 "see /api/v1/status and journalctl -u evn-mbus"}});
    }
    // The state topic's object, and when it arrived: a poller (a zero-export controller) must
    // not act on a value from a meter that went silent.
    nlohmann::json j = latest_json_;
    j["received"] = iso_utc(latest_wall_);
    j["age_s"] = seconds_between(latest_at_, std::chrono::steady_clock::now());
    return json_reply(200, j);
}

http_reply local_api::status_reply() const {
    const metrics_snapshot s = snapshot();
    nlohmann::json j = s.stats.to_json(s.version);
    if (s.mqtt_enabled) {
        j["mqtt"] = {{"connected", s.mqtt.connected},
                     {"queued", s.mqtt.queued},
                     {"delivered", s.mqtt.delivered},
                     {"too_big", s.mqtt.too_big}};
    } else {
        j["mqtt"] = nullptr;
    }
    j["http"] = {{"connections", s.http_connections_open},
                 {"requests", s.http_requests_total},
                 {"refused", s.http_refused_total}};
    j["last_reading_age_s"] =
        latest_ ? nlohmann::json(s.reading_age_seconds) : nlohmann::json(nullptr);
    return json_reply(200, j);
}

http_reply local_api::metrics_reply() const {
    return {200, "text/plain; version=0.0.4; charset=utf-8", prometheus_text(snapshot())};
}

metrics_snapshot local_api::snapshot() const {
    metrics_snapshot s = figures_();
    s.now = std::chrono::system_clock::now();
    s.steady_now = std::chrono::steady_clock::now();
    if (latest_) {
        s.latest = &*latest_;
        s.reading_age_seconds = seconds_between(latest_at_, s.steady_now);
        s.meter = prometheus_meter_label(*latest_);
    }
    const http_server_stats h = server_->stats();
    s.http_connections_open = h.open;
    s.http_requests_total = h.requests;
    s.http_refused_total = h.refused;
    return s;
}

}  // namespace evn_mbus

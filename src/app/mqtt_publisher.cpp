#include "mqtt_publisher.hpp"

#include "evn_mbus/hex.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "connection_churn.hpp"
#include "delivery_watch.hpp"
#include "drop_reporter.hpp"
#include "evn_mbus/cosem_datetime.hpp"
#include "ha_discovery.hpp"
#include "mqtt_packet_limit.hpp"
#include "queue_budget.hpp"
#include "reading_json.hpp"
#include "small_file.hpp"
#include "uri_text.hpp"

namespace evn_mbus {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t send_window = 20;  // reading messages handed to Paho at a time
constexpr int paho_max_inflight = 100;   // the window plus status, discovery, diagnostics
constexpr int status_qos = 1;            // "online"/"offline" and the will
constexpr auto connect_timeout = 10s;
constexpr std::chrono::milliseconds first_backoff{1000};
constexpr std::chrono::milliseconds stop_retry{250};  // reconnect interval while stopping
constexpr auto resend_delay = 1s;
constexpr auto watch_interval = 1s;  // how often a stalled publish window is looked for
constexpr auto probe_timeout = 5s;
constexpr std::chrono::milliseconds disconnect_wait{500};  // for "offline" without stop()
constexpr std::chrono::milliseconds stop_grace{1000};      // stop()'s final phase at most

std::string connack_reason(int rc) {
    switch (rc) {
        case 1:
            return "the broker does not accept MQTT 3.1.1";
        case 2:
            return "the broker rejected the client id (check mqtt.client_id)";
        case 3:
            return "the broker says its MQTT service is unavailable";
        case 4:
            return "the broker refused the login: bad user name or password";
        case 5:
            return "the broker refused the login: not authorized";
        default:
            return {};
    }
}

class op_listener;

// The listeners of Paho operations in progress. Paho keeps a raw pointer to a listener until
// it calls back, exactly once; the listener then removes itself. Paho does not call back for
// every operation (e.g. a disconnect that waited for messages in flight), so whatever is left
// when the Paho client is gone is deleted here.
struct listener_registry {
    std::mutex mutex;
    std::unordered_set<op_listener*> live;

    void forget(op_listener* l) {
        std::lock_guard lock(mutex);
        live.erase(l);
    }
    void delete_all();  // only once Paho can no longer call back
};

// One Paho operation's completion, handed to the loop (Paho calls from its own threads).
class op_listener final : public mqtt::iaction_listener {
  public:
    using handler = std::function<void(bool ok, int rc)>;

    static op_listener* make(const std::shared_ptr<listener_registry>& registry,
                             asio::io_context::executor_type ex, handler h) {
        auto* l = new op_listener(registry, ex, std::move(h));
        std::lock_guard lock(registry->mutex);
        registry->live.insert(l);
        return l;
    }
    // For an operation Paho refused to start: it will never call back.
    void discard() {
        registry_->forget(this);
        delete this;
    }

    void on_success(const mqtt::token&) override { finish(true, 0); }
    void on_failure(const mqtt::token& tok) override { finish(false, tok.get_return_code()); }

  private:
    op_listener(std::shared_ptr<listener_registry> registry, asio::io_context::executor_type ex,
                handler h)
        : registry_(std::move(registry)), ex_(ex), h_(std::move(h)) {}

    void finish(bool ok, int rc) {
        const auto ex = ex_;
        auto h = std::move(h_);
        discard();  // `this` is gone from here on
        asio::post(ex, [h = std::move(h), ok, rc] { h(ok, rc); });
    }

    std::shared_ptr<listener_registry> registry_;
    asio::io_context::executor_type ex_;
    handler h_;
};

void listener_registry::delete_all() {
    std::unordered_set<op_listener*> left;
    {
        std::lock_guard lock(mutex);
        left.swap(live);
    }
    for (auto* l : left)
        delete l;
}

struct probe_result {
    std::string reason;
    bool tls_untrusted = false;  // the certificate or host name did not verify
};

// Paho only says "TCP/TLS connect failure". When a failure is about to be logged, this finds
// out why: does the host name resolve, does the port accept a connection, does the TLS
// handshake with the same CA file and host name check succeed.
class connection_probe : public std::enable_shared_from_this<connection_probe> {
  public:
    using handler = std::function<void(probe_result)>;

    connection_probe(asio::io_context& io, broker_address addr, tls_config tls, handler h)
        : addr_(std::move(addr)),
          tls_(std::move(tls)),
          h_(std::move(h)),
          resolver_(io),
          socket_(io),
          timer_(io) {}

    void run() {
        auto self = shared_from_this();
        timer_.expires_after(probe_timeout);
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (ec) return;
            self->timed_out_ = true;
            self->resolver_.cancel();
            boost::system::error_code ignored;
            if (self->stream_) {
                self->stream_->next_layer().close(ignored);
            } else {
                self->socket_.close(ignored);
            }
        });
        resolver_.async_resolve(addr_.host, addr_.port,
                                [self](const boost::system::error_code& ec,
                                       const asio::ip::tcp::resolver::results_type& results) {
                                    self->on_resolved(ec, results);
                                });
    }

  private:
    std::string where() const { return addr_.host + ":" + addr_.port; }

    void on_resolved(const boost::system::error_code& ec,
                     const asio::ip::tcp::resolver::results_type& results) {
        if (timed_out_)
            return finish({"the host name " + addr_.host + " did not resolve within " +
                           std::to_string(probe_timeout.count()) + " s"});
        if (ec) {
            return finish(
                {"the host name " + addr_.host + " cannot be resolved (" + ec.message() + ")"});
        }
        auto self = shared_from_this();
        asio::async_connect(socket_, results,
                            [self](const boost::system::error_code& e,
                                   const asio::ip::tcp::endpoint&) { self->on_connected(e); });
    }

    void on_connected(const boost::system::error_code& ec) {
        if (timed_out_) {
            return finish({"no answer from " + where() + " within " +
                           std::to_string(probe_timeout.count()) + " s"});
        }
        if (ec == asio::error::connection_refused) {
            return finish({"nothing accepts connections at " + where() + " (connection refused)"});
        }
        if (ec) return finish({"cannot reach " + where() + " (" + ec.message() + ")"});
        if (!addr_.tls) {
            return finish({where() + " accepts connections, but the MQTT handshake failed"});
        }
        start_tls();
    }

    void start_tls() {
        boost::system::error_code ec;
        ssl_ctx_.emplace(asio::ssl::context::tls_client);
        if (tls_.verify) {
            ssl_ctx_->set_verify_mode(asio::ssl::verify_peer);
            if (tls_.ca_file.empty()) {
                ssl_ctx_->set_default_verify_paths(ec);
            } else {
                ssl_ctx_->load_verify_file(tls_.ca_file, ec);
            }
            if (ec) {
                return finish(
                    {"cannot use the CA file '" + tls_.ca_file + "' (" + ec.message() + ")", true});
            }
        } else {
            ssl_ctx_->set_verify_mode(asio::ssl::verify_none);
        }
        if (!tls_.cert_file.empty()) {
            ssl_ctx_->use_certificate_chain_file(tls_.cert_file, ec);
            if (ec) {
                return finish({"cannot use mqtt.tls.cert_file '" + tls_.cert_file + "' (" +
                               ec.message() + ")"});
            }
        }
        if (!tls_.key_file.empty()) {
            ssl_ctx_->use_private_key_file(tls_.key_file, asio::ssl::context::pem, ec);
            if (ec) {
                return finish({"cannot use mqtt.tls.key_file '" + tls_.key_file + "' (" +
                               ec.message() + ")"});
            }
        }
        stream_.emplace(std::move(socket_), *ssl_ctx_);
        SSL* ssl = stream_->native_handle();
        boost::system::error_code not_ip;
        asio::ip::make_address(addr_.host, not_ip);
        if (not_ip) {
            SSL_set_tlsext_host_name(ssl, addr_.host.c_str());
            if (tls_.verify) SSL_set1_host(ssl, addr_.host.c_str());
        } else if (tls_.verify) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), addr_.host.c_str());
        }
        auto self = shared_from_this();
        stream_->async_handshake(
            asio::ssl::stream_base::client,
            [self](const boost::system::error_code& e) { self->on_handshake(e); });
    }

    void on_handshake(const boost::system::error_code& ec) {
        if (timed_out_) {
            return finish({"the TLS handshake with " + where() + " did not finish within " +
                           std::to_string(probe_timeout.count()) + " s"});
        }
        if (ec) {
            const long verify = SSL_get_verify_result(stream_->native_handle());
            if (verify != X509_V_OK) {
                return finish({std::string("the broker's TLS certificate is not trusted (") +
                                   X509_verify_cert_error_string(verify) + ")",
                               true});
            }
            return finish({"the TLS handshake with " + where() + " failed (" + ec.message() +
                           "); is this the broker's TLS port?"});
        }
        boost::system::error_code ignored;
        stream_->next_layer().close(ignored);
        finish({"TLS to " + where() + " works, but the MQTT handshake failed"});
    }

    void finish(probe_result r) {
        timer_.cancel();
        if (h_) std::exchange(h_, nullptr)(std::move(r));
    }

    broker_address addr_;
    tls_config tls_;
    handler h_;
    asio::ip::tcp::resolver resolver_;
    asio::ip::tcp::socket socket_;
    asio::steady_timer timer_;
    std::optional<asio::ssl::context> ssl_ctx_;
    std::optional<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
    bool timed_out_ = false;
};

std::string default_client_id() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "evn-mbus";
    return std::string("evn-mbus-") + host;
}

std::string read_password_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read mqtt.password_file '" + path +
                                 "': " + std::strerror(errno) +
                                 ". Make sure it exists and the evn-mbus user may read it.");
    }
    std::string pw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    trim_secret_file_text(pw);
    return pw;
}

}  // namespace

struct mqtt_publisher::impl : std::enable_shared_from_this<impl> {
    enum class state { idle, connecting, connected, waiting, draining, disconnecting, stopped };

    struct queued_message {
        std::string topic;
        std::string payload;
        bool done = false;
    };
    struct queued_reading {
        std::vector<queued_message> messages;
        std::size_t remaining = 0;  // messages not yet confirmed
        std::size_t bytes = 0;      // memory it takes, as counted in budget_
    };
    struct send_ref {
        std::uint64_t seq;  // reading
        std::size_t index;  // message within it
    };

    impl(asio::io_context& io, const mqtt_config& config, std::shared_ptr<spdlog::logger> log)
        : io_(io),
          config_(config),
          log_(std::move(log)),
          status_topic_(config.topic_prefix + "/status"),
          diagnostics_topic_(config.topic_prefix + "/diagnostics"),
          ha_status_topic_(config.discovery.prefix + "/status"),
          meter_status_topic_(ha_meter_status_topic(config)),
          budget_(config.queue_size, config.queue_max_mb * std::size_t{1024 * 1024}),
          watch_(config.keepalive),
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
                    ->publish(
                        mqtt::make_message(status_topic_, std::string("offline"), status_qos, true))
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
        // Refused here too (the configuration refuses it first): no log line below may show a
        // password, and Paho cannot use one in the URI.
        if (uri_has_userinfo(config_.uri)) {
            throw std::runtime_error("mqtt.uri '" + uri_without_userinfo(config_.uri) +
                                     "' must not hold a user name or password: set "
                                     "mqtt.username and mqtt.password instead");
        }
        address_ = parse_broker_uri(config_.uri);
        if (!address_) {
            throw std::runtime_error("mqtt.uri '" + config_.uri +
                                     "' is not a broker address: write tcp://host:1883 or, "
                                     "for TLS, ssl://host:8883");
        }
        std::string password = config_.password;
        if (!config_.password_file.empty()) password = read_password_file(config_.password_file);
        const std::string client_id =
            config_.client_id.empty() ? default_client_id() : config_.client_id;
        client_id_ = client_id;
        try {
            client_ = std::make_unique<mqtt::async_client>(config_.uri, client_id);
        } catch (const mqtt::exception& e) {
            throw std::runtime_error("cannot use mqtt.uri '" + config_.uri + "' (" + e.what() +
                                     "): write tcp://host:1883 or, for TLS, ssl://host:8883");
        }

        mqtt::connect_options o;
        o.set_mqtt_version(MQTTVERSION_3_1_1);  // no silent fallback to 3.1 with a 2nd attempt
        o.set_keep_alive_interval(config_.keepalive);
        o.set_clean_session(config_.clean_session);
        o.set_connect_timeout(connect_timeout);
        o.set_automatic_reconnect(false);
        o.set_max_inflight(paho_max_inflight);
        o.set_will(mqtt::will_options(status_topic_, std::string("offline"), status_qos, true));
        if (!config_.username.empty()) o.set_user_name(config_.username);
        if (!password.empty()) o.set_password(password);
        if (address_->tls) {
            mqtt::ssl_options s;
            if (!config_.tls.ca_file.empty()) s.set_trust_store(config_.tls.ca_file);
            if (!config_.tls.cert_file.empty()) s.set_key_store(config_.tls.cert_file);
            if (!config_.tls.key_file.empty()) s.set_private_key(config_.tls.key_file);
            s.set_enable_server_cert_auth(config_.tls.verify);
            s.set_verify(config_.tls.verify);  // includes the host name check
            o.set_ssl(s);
        }
        connect_options_ = o;

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
                    client_->publish(mqtt::make_message(status_topic_, std::string("offline"),
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
        backlog_end_ = front_seq_ + queue_.size();
        backoff_ = first_backoff;
        const std::uint64_t dropped = drops_.total() - dropped_at_outage_;
        const std::string drop_note =
            dropped > 0 ? " (" + std::to_string(dropped) +
                              " dropped while it was unreachable because the queue was full)"
                        : std::string();
        packet_limit_.connected();
        churn_.connected(std::chrono::steady_clock::now());
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
                client_->subscribe(ha_status_topic_, 0);
            } catch (const mqtt::exception& e) {
                log_->debug("MQTT: cannot subscribe to {}: {}", ha_status_topic_, e.what());
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
        publish_control(status_topic_, "online", status_qos);
        publish_discovery();
        if (diagnostics_) publish_control(diagnostics_topic_, *diagnostics_, config_.qos);
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
            if (const auto d = self->watch_.stalled(std::chrono::steady_clock::now())) {
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
        inflight_.clear();
        watch_.reset();
        resend_timer_.cancel();
        dropped_at_outage_ = drops_.total();
        away_since_ = std::chrono::steady_clock::now();
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
                std::make_shared<connection_probe>(io_, *address_, config_.tls,
                                                   [w, rc](probe_result r) {
                                                       if (auto self = w.lock()) {
                                                           self->log_connect_failure(r, rc);
                                                       }
                                                   })
                    ->run();
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
        inflight_.clear();
        resend_timer_.cancel();
        const std::string reason =
            cause.empty() ? "the broker closed the connection or the network failed" : cause;
        if (state_ != state::connected) {
            report_unsent("the connection to the broker was lost while stopping");
            finish_stop();
            return;
        }
        dropped_at_outage_ = drops_.total();
        away_since_ = std::chrono::steady_clock::now();
        watch_.reset();
        const bool churn_warning = diagnose_loss();
        log_->log(churn_.churning() && !churn_warning ? spdlog::level::debug : spdlog::level::warn,
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
        if (msg.get_topic() != ha_status_topic_ || msg.is_retained()) return;
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
            if (auto self = w.lock(); self && ok) self->packet_limit_.confirmed(token);
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
        if (connected()) publish_control(diagnostics_topic_, *diagnostics_, config_.qos);
    }

    void set_meter_online(bool online) {
        meter_online_ = online;
        publish_meter_status();
    }

    void publish_meter_status() {
        if (connected() && meter_online_) {
            publish_control(meter_status_topic_, *meter_online_ ? "online" : "offline", status_qos);
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
        queued_reading q = build(r, raw, plain);
        if (q.messages.empty()) return;
        q.bytes = footprint(q);
        while (const auto bound = budget_.full_for(q.bytes))
            drop_oldest(*bound);
        budget_.add(q.bytes);
        queue_.push_back(std::move(q));
        pump();
    }

    queued_reading build(const reading& r, std::span<const std::uint8_t> raw,
                         std::span<const std::uint8_t> plain) const {
        queued_reading q;
        const std::string& p = config_.topic_prefix;
        if (config_.publish_values) {
            for (const auto& v : r.values) {
                if (!v.is_number()) continue;
                if (const auto name = name_for(v.code)) {
                    q.messages.push_back({p + "/" + std::string(name->name), value_json(v).dump()});
                }
            }
            if (!r.meter_number.empty())
                q.messages.push_back({p + "/meter_number", r.meter_number});
            if (r.clock) q.messages.push_back({p + "/clock", format_utc(*r.clock)});
        }
        if (config_.publish_raw && !raw.empty())
            q.messages.push_back({p + "/raw", to_hex(raw, true)});
        if (config_.publish_raw_plain && !plain.empty())
            q.messages.push_back({p + "/raw_plain", to_hex(plain, true)});
        if (config_.publish_json) q.messages.push_back({p + "/state", to_json(r).dump()});
        q.remaining = q.messages.size();
        return q;
    }

    // The memory a queued reading takes: the queue's element, the message array, and every
    // topic and payload that does not fit in its string.
    static std::size_t footprint(const queued_reading& q) {
        std::size_t n = sizeof(queued_reading) +
                        allocation_bytes(q.messages.capacity() * sizeof(queued_message));
        for (const auto& m : q.messages)
            n += heap_bytes(m.topic) + heap_bytes(m.payload);
        return n;
    }

    void drop_oldest(queue_bound bound) {
        budget_.remove(queue_.front().bytes);
        queue_.pop_front();
        ++front_seq_;
        const auto now = std::chrono::steady_clock::now();
        drop_context c;
        // Connected with a full queue: the broker confirms more slowly than readings come.
        // Connected, dropping a reading queued during the outage: the backlog, not a slow broker.
        c.cause = !connected()                ? drop_cause::broker_away
                  : front_seq_ < backlog_end_ ? drop_cause::catching_up
                                              : drop_cause::broker_slow;
        c.bound = bound;
        c.max_readings = config_.queue_size;
        c.max_mb = config_.queue_max_mb;
        c.queued = queue_.size();
        c.window = inflight_.size();
        c.never_connected = !ever_connected_;
        c.away_for = now - away_since_;
        if (const auto text = drops_.dropped(now, c)) log_->warn("{}", *text);
    }

    // Starts sending from the oldest unconfirmed message again: after a (re)connect, or when
    // Paho refused a message while connected.
    void restart_sending() {
        inflight_.clear();
        watch_.reset();
        cursor_seq_ = front_seq_;
        cursor_index_ = 0;
        pump();
    }

    void pump() {
        if (!connected()) return;
        while (inflight_.size() < send_window) {
            if (cursor_seq_ < front_seq_) {  // the cursor's reading was dropped
                cursor_seq_ = front_seq_;
                cursor_index_ = 0;
            }
            const std::uint64_t pos = cursor_seq_ - front_seq_;
            if (pos >= queue_.size()) return;
            auto& q = queue_[static_cast<std::size_t>(pos)];
            if (cursor_index_ >= q.messages.size()) {
                ++cursor_seq_;
                cursor_index_ = 0;
                continue;
            }
            if (!q.messages[cursor_index_].done && !send(cursor_seq_, cursor_index_)) return;
            ++cursor_index_;
        }
    }

    bool send(std::uint64_t seq, std::size_t index) {
        auto& q = queue_[static_cast<std::size_t>(seq - front_seq_)];
        const auto& m = q.messages[index];
        if (too_big(m.topic, m.payload, config_.qos)) {
            q.messages[index].done = true;
            if (--q.remaining == 0) pop_delivered();
            if (state_ == state::draining && queue_.empty()) {  // no on_sent() will come
                asio::post(io_, [w = weak()] {
                    if (auto self = w.lock()) self->begin_disconnect();
                });
            }
            return true;
        }
        const auto token = track(m.topic, m.payload, config_.qos);
        const auto id = next_send_id_++;
        const auto gen = gen_;
        auto w = weak();
        auto* l = listener([w, gen, id, token](bool ok, int rc) {
            if (auto self = w.lock()) {
                if (ok) self->packet_limit_.confirmed(token);
                self->on_sent(gen, id, ok, rc);
            }
        });
        try {
            client_->publish(mqtt::make_message(m.topic, m.payload, config_.qos, config_.retain),
                             nullptr, *l);
        } catch (const mqtt::exception& e) {
            l->discard();
            log_->debug("MQTT: Paho did not take {} ({}); trying again", m.topic, e.what());
            // Disconnected: the connection-lost callback is on its way. Else retry later.
            if (e.get_return_code() != MQTTASYNC_DISCONNECTED) schedule_resend();
            return false;
        }
        inflight_.emplace(id, send_ref{seq, index});
        watch_.sent(std::chrono::steady_clock::now());
        return true;
    }

    void on_sent(std::uint64_t gen, std::uint64_t id, bool ok, int rc) {
        const auto it = inflight_.find(id);
        if (it == inflight_.end() || gen != gen_) return;  // from before a reconnect
        const send_ref ref = it->second;
        inflight_.erase(it);
        if (!ok) {
            watch_.abandoned(inflight_.size());
            // Usually the connection is ending (-11 for everything in flight): say it once.
            if (failure_gen_ != gen_) {
                failure_gen_ = gen_;
                log_->debug("MQTT: a message was not confirmed (error {}); sending again", rc);
            }
            schedule_resend();
            return;
        }
        watch_.confirmed(std::chrono::steady_clock::now(), inflight_.size());
        if (ref.seq >= front_seq_) {
            auto& q = queue_[static_cast<std::size_t>(ref.seq - front_seq_)];
            auto& m = q.messages[ref.index];
            if (!m.done) {
                m.done = true;
                --q.remaining;
            }
            pop_delivered();
        }
        if (state_ == state::draining && queue_.empty()) {
            begin_disconnect();
            return;
        }
        pump();
    }

    void pop_delivered() {
        while (!queue_.empty() && queue_.front().remaining == 0) {
            budget_.remove(queue_.front().bytes);
            queue_.pop_front();
            ++front_seq_;
            ++delivered_;
        }
    }

    // ---- messages too big for the broker (mqtt_packet_limit) -----------------------------

    std::uint64_t track(const std::string& topic, const std::string& payload, int qos) {
        if (qos == 0) return 0;  // never confirmed: tells nothing
        return packet_limit_.sent(topic,
                                  mqtt_packet_limit::packet_size(topic.size(), payload.size(), qos),
                                  std::chrono::steady_clock::now());
    }

    // Dropped, counted, and said once per topic.
    bool too_big(const std::string& topic, const std::string& payload, int qos) {
        const auto size = mqtt_packet_limit::packet_size(topic.size(), payload.size(), qos);
        if (packet_limit_.fits(size)) return false;
        ++too_big_;
        // Once per topic; the discovery configs (one per value) once for all.
        const bool discovery = topic.rfind(config_.discovery.prefix + "/", 0) == 0;
        if (too_big_logged_.insert(discovery ? std::string("discovery") : topic).second) {
            log_->warn(
                "MQTT: not publishing {}{} ({} bytes): the broker takes only messages of less "
                "than {} bytes. {}. {} message(s) dropped for this so far.",
                topic, discovery ? " (and the other discovery configs that big)" : "", size,
                *packet_limit_.limit(), too_big_advice(topic), too_big_);
        }
        return true;
    }

    std::string too_big_advice(const std::string& topic) const {
        const auto ends_with = [&](const std::string& tail) {
            return topic.size() >= tail.size() &&
                   topic.compare(topic.size() - tail.size(), tail.size(), tail) == 0;
        };
        std::string off;
        if (topic == config_.topic_prefix + "/state") {
            off = "mqtt.publish_json: false";
        } else if (topic == config_.topic_prefix + "/raw") {
            off = "mqtt.publish_raw: false";
        } else if (topic == diagnostics_topic_) {
            off = "mqtt.diagnostics_interval_s: 0";
        } else if (ends_with("/config")) {
            off = "mqtt.discovery.enabled: false";
        }
        return "Raise the broker's limit (Mosquitto: max_packet_size in mosquitto.conf)" +
               (off.empty() ? std::string() : ", or turn the topic off with " + off);
    }

    // Why a connection ended, when the broker gave no reason: a message too big (said once,
    // when the limit is set), or another client with our id (returns true when it says so).
    bool diagnose_loss() {
        const auto now = std::chrono::steady_clock::now();
        const auto v = packet_limit_.lost(now);
        using kind = mqtt_packet_limit::verdict::kind;
        if (v.what == kind::too_big) {
            log_->warn(
                "MQTT: the broker {} closes the connection right after it is sent {} ({} bytes): "
                "it takes that as too big (Mosquitto's log says \"oversize packet\"). "
                "Messages of {} bytes or more are dropped from now on, and the rest is "
                "published. {}.",
                config_.uri, v.topic, v.size, v.size, too_big_advice(v.topic));
        }
        // Only a limit just set explains a loss: a mere suspect may be a kick by another client.
        if (!churn_.lost(now, v.what == kind::too_big)) return false;
        log_->warn(
            "MQTT: the broker {} keeps closing the connection within seconds of accepting it. "
            "Another client may be using the same client id '{}': a broker lets one client use "
            "an id at a time and closes the older connection when another one connects with "
            "it. Give every evn-mbus (and every other MQTT client) its own mqtt.client_id.",
            config_.uri, client_id_);
        return true;
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
        if (meter_online_) publish_control(meter_status_topic_, "offline", status_qos);
        try {
            client_->publish(
                mqtt::make_message(status_topic_, std::string("offline"), status_qos, true),
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
        if (queue_.empty()) return;
        log_->warn("{} reading(s) were not delivered to the MQTT broker: {}{}", queue_.size(), why,
                   reload_ ? " (while switching to the new MQTT settings)" : "");
    }

    void finish_stop() {
        if (state_ == state::stopped) return;
        const bool was_connected = state_ == state::disconnecting;
        state_ = state::stopped;
        ++gen_;
        inflight_.clear();
        watch_.reset();
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
        s.queued = queue_.size();
        s.delivered = delivered_;
        s.dropped = drops_.total();
        s.queued_bytes = budget_.bytes();
        s.reconnects = reconnects_;
        s.too_big = too_big_;
        return s;
    }

    asio::io_context& io_;
    mqtt_config config_;
    std::shared_ptr<spdlog::logger> log_;
    const std::string status_topic_;
    const std::string diagnostics_topic_;
    const std::string ha_status_topic_;
    const std::string meter_status_topic_;
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

    std::deque<queued_reading> queue_;
    std::uint64_t front_seq_ = 0;   // sequence number of queue_.front()
    std::uint64_t backlog_end_ = 0;  // the first reading queued after the last connect
    std::uint64_t cursor_seq_ = 0;  // next message to hand to Paho: reading ...
    std::size_t cursor_index_ = 0;  // ... and message within it
    std::unordered_map<std::uint64_t, send_ref> inflight_;  // by send id
    std::uint64_t next_send_id_ = 1;
    std::uint64_t failure_gen_ = 0;  // the connection whose unconfirmed message was logged

    std::uint64_t delivered_ = 0;
    std::uint64_t dropped_at_outage_ = 0;
    std::uint64_t reconnects_ = 0;
    drop_reporter drops_;
    queue_budget budget_;
    delivery_watch watch_;
    // Since when the broker has been away (start-up, or the last lost connection).
    std::chrono::steady_clock::time_point away_since_ = std::chrono::steady_clock::now();
    mqtt_packet_limit packet_limit_;
    connection_churn churn_;
    std::uint64_t too_big_ = 0;  // messages dropped as too big for the broker
    std::unordered_set<std::string> too_big_logged_;

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

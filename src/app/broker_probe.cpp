#include "broker_probe.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <utility>

namespace evn_mbus {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto probe_timeout = 5s;

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

}  // namespace

void probe_broker(asio::io_context& io, const broker_address& address, const tls_config& tls,
                  std::function<void(probe_result)> done) {
    std::make_shared<connection_probe>(io, address, tls, std::move(done))->run();
}

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

}  // namespace evn_mbus

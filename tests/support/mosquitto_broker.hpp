// A real Mosquitto broker for tests: started from a generated config on free 127.0.0.1 ports,
// with an optional TLS listener; it can be stopped, restarted on the same ports, or killed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {

struct tls_files {
    std::string ca_file;    // the CA that signed cert_file
    std::string cert_file;  // server (or client) certificate
    std::string key_file;   // its private key
};

// Makes a CA and a certificate it signs, with the openssl command-line tool, in `dir`:
// <prefix>ca.crt, <prefix>cert.crt, <prefix>cert.key. `san` names the hosts the certificate is
// valid for. Throws std::runtime_error when openssl fails.
tls_files make_test_pki(const std::string& dir, const std::string& prefix,
                        const std::string& san = "DNS:localhost,IP:127.0.0.1");

class mosquitto_broker {
  public:
    struct options {
        std::optional<tls_files> tls;           // adds a TLS listener with these files
        std::vector<std::string> extra_config;  // more lines for mosquitto.conf
    };

    // Starts the broker and waits until it accepts connections; throws if it does not.
    mosquitto_broker();
    explicit mosquitto_broker(options o);
    ~mosquitto_broker();
    mosquitto_broker(const mosquitto_broker&) = delete;
    mosquitto_broker& operator=(const mosquitto_broker&) = delete;

    std::uint16_t port() const { return port_; }
    std::uint16_t tls_port() const { return tls_port_; }               // 0 without TLS
    std::string uri() const;                                           // tcp://127.0.0.1:<port>
    std::string tls_uri(const std::string& host = "localhost") const;  // ssl://host:<tls port>

    void stop();     // SIGTERM, and wait until it has exited
    void restart();  // start again on the same ports
    void kill();     // SIGKILL: the broker vanishes without a goodbye
    void pause();    // SIGSTOP: connections stay open, but nothing is answered
    void resume();   // SIGCONT
    bool running() const { return child_ != nullptr; }

    std::string log() const;  // what mosquitto wrote
    const std::string& dir() const { return dir_.path(); }

  private:
    bool start();  // false when the ports turned out to be taken
    void wait_exit();

    options options_;
    temp_dir dir_{"evn-mbus-mosquitto"};
    std::uint16_t port_ = 0;
    std::uint16_t tls_port_ = 0;
    std::unique_ptr<child_process> child_;  // null when stopped or killed
};

}  // namespace evn_mbus::test

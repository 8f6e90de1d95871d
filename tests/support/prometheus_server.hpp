// A real Prometheus for tests: Debian's prometheus package, on a free 127.0.0.1 port, with its
// own storage in a temporary folder, scraping one target every second. Queried through its
// HTTP API with curl, as Grafana would.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::test {

class prometheus_server {
  public:
    struct target {
        std::string address;             // "127.0.0.1:PORT"
        std::string username, password;  // basic auth when username is set
    };

    // Starts Prometheus and waits until it is ready; throws with its log if it does not.
    explicit prometheus_server(target t);
    ~prometheus_server();
    prometheus_server(const prometheus_server&) = delete;
    prometheus_server& operator=(const prometheus_server&) = delete;

    std::uint16_t port() const { return port_; }
    // GET /api/v1/query?query=<promql>: the "data" object of a success, else nullopt.
    std::optional<nlohmann::json> query(const std::string& promql) const;
    // The single sample's value of an instant query, when there is exactly one.
    std::optional<double> scalar(const std::string& promql) const;
    std::string log() const;

  private:
    bool start();

    target target_;
    temp_dir dir_{"evn-mbus-prometheus"};
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> child_;
};

// curl's stdout for GET `url` (with --fail: nullopt on an HTTP error or no answer).
std::optional<std::string> curl_get(const std::string& url, const std::string& user = "");

}  // namespace evn_mbus::test

#include "prometheus_server.hpp"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "loopback_port.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

std::string url_encoded(const std::string& text) {
    std::string out;
    const char* hex = "0123456789ABCDEF";
    for (const unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace

std::optional<std::string> curl_get(const std::string& url, const std::string& user) {
    std::vector<std::string> argv = {"curl",   "--silent",   "--show-error",
                                     "--fail", "--max-time", "10"};
    if (!user.empty()) {
        argv.push_back("--user");
        argv.push_back(user);
    }
    argv.push_back(url);
    process_result r = run_process(argv);
    if (r.status != 0) return std::nullopt;
    return std::move(r.out);
}

prometheus_server::prometheus_server(target t) : target_(std::move(t)) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        if (start()) return;
    }
    throw std::runtime_error("prometheus did not start:\n" + log());
}

prometheus_server::~prometheus_server() {
    if (!child_) return;
    child_->signal(SIGTERM);
    if (!child_->wait(10s)) child_->signal(SIGKILL);
}

std::string prometheus_server::log() const {
    std::ifstream in(dir_.file("prometheus.out"));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool prometheus_server::start() {
    const std::string conf = dir_.file("prometheus.yml");
    {
        std::ofstream out(conf);
        out << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            << "scrape_configs:\n  - job_name: evn-mbus\n"
            << "    static_configs:\n      - targets: ['" << target_.address << "']\n";
        if (!target_.username.empty()) {
            out << "    basic_auth:\n      username: " << target_.username
                << "\n      password: " << target_.password << "\n";
        }
        if (!out) throw std::runtime_error("cannot write " + conf);
    }
    spawn_options o;
    o.argv = {"prometheus", "--config.file=" + conf, "--storage.tsdb.path=" + dir_.file("data"),
              "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    o.out = output_sink::append_to(dir_.file("prometheus.out"));
    o.err = o.out;
    child_ = std::make_unique<child_process>(std::move(o));
    if (child_->spawn_error() != 0 || !child_->running()) {
        child_.reset();
        throw std::runtime_error("cannot run prometheus (install it: apt-get install prometheus)");
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!child_->running()) {
            child_.reset();
            return false;  // most likely the port was taken meanwhile
        }
        if (curl_get("http://127.0.0.1:" + std::to_string(port_) + "/-/ready")) return true;
        std::this_thread::sleep_for(200ms);
    }
    throw std::runtime_error("prometheus did not get ready within 30 s:\n" + log());
}

std::optional<nlohmann::json> prometheus_server::query(const std::string& promql) const {
    const auto body = curl_get("http://127.0.0.1:" + std::to_string(port_) +
                               "/api/v1/query?query=" + url_encoded(promql));
    if (!body) return std::nullopt;
    const auto j = nlohmann::json::parse(*body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
    return j.at("data");
}

std::optional<double> prometheus_server::scalar(const std::string& promql) const {
    const auto data = query(promql);
    if (!data || !data->contains("result") || data->at("result").size() != 1) return std::nullopt;
    return std::stod(data->at("result").at(0).at("value").at(1).get<std::string>());
}

}  // namespace evn_mbus::test

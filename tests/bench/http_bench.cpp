// The local HTTP API's cost, measured on the daemon as a process: `evn-mbus simulate` on a pty
// -> `evn-mbus run` -> a real Mosquitto, with http.listen on a free loopback port.
//   - latency of GET /api/v1/reading (and /metrics) over N requests on one kept-alive
//     connection, and over new connections (connect, request, close): p50, p99, max;
//   - the daemon's memory (VmRSS, VmHWM) with the HTTP API off and on, after the same pushes
//     (and, when on, after the requests).
// Run by scripts/bench.sh; figures in docs/BENCHMARKS.md.
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_figures.hpp"
#include "child_process.hpp"
#include "loopback_port.hpp"
#include "mosquitto_broker.hpp"
#include "mqtt_subscriber.hpp"
#include "temp_dir.hpp"

namespace evn_mbus::bench {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using json = nlohmann::json;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using test::child_process;

// The EVN Kaifa MA309M documentation key (fixtures/vectors.json: evn_kaifa_ma309_doc): the
// simulator encrypts with it, the daemon decrypts.
const std::string key = "36C66639E48A8CA4D6BC8B282A793BBB";

long status_field(pid_t pid, const std::string& name) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1));
    }
    return 0;
}

struct options {
    std::size_t requests = 10000;
    std::size_t fresh_connections = 1000;
    std::string binary = EVN_MBUS_BINARY;
    std::string json_path;
};

struct daemon_under_test {
    test::temp_dir dir{"evn-mbus-http-bench"};
    test::mosquitto_broker broker;
    test::mqtt_subscriber sub{broker.uri(), {"evn/state"}};
    std::uint16_t port = 0;
    std::unique_ptr<child_process> simulator;
    std::unique_ptr<child_process> daemon;

    daemon_under_test(const options& o, bool http_on) {
        simulator = std::make_unique<child_process>(std::vector<std::string>{
            o.binary, "simulate", "--link", dir.file("meter"), "--key", key, "--interval", "1",
            "--meter-number", "123456789012", "--seed", "3"});
        if (!simulator->wait_for_stdout_lines(1, 10s)) fail("simulator: " + simulator->err());
        const std::string config = dir.file("evn-mbus.yaml");
        std::ofstream out(config);
        out << "serial:\n  device: " << dir.file("meter") << "\nmeter:\n  key: \"" << key
            << "\"\nmqtt:\n  uri: " << broker.uri() << "\n";
        if (http_on) {
            port = test::free_port();
            out << "http:\n  listen: 127.0.0.1:" << port << "\n";
        }
        out << "log:\n  level: warn\n";
        out.close();
        daemon = std::make_unique<child_process>(std::vector<std::string>{
            o.binary, "run", "--config", config, "--log-target", "stderr"});
    }

    void wait_readings(std::size_t n) {
        if (!sub.wait_for_count("evn/state", n, std::chrono::seconds(10 + 2 * n)))
            fail("the daemon published no reading:\n" + daemon->err());
    }
};

// One HTTP/1.1 client; a new connection when `fresh`.
class client {
  public:
    explicit client(std::uint16_t port) : endpoint_(asio::ip::make_address("127.0.0.1"), port) {}

    std::string get(const std::string& target, bool fresh) {
        if (fresh || !socket_.is_open()) {
            if (socket_.is_open()) socket_.close();
            socket_.connect(endpoint_);
        }
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (fresh) req.set(http::field::connection, "close");
        http::write(socket_, req);
        http::response<http::string_body> res;
        http::read(socket_, buffer_, res);
        if (res.result_int() != 200) fail(target + ": HTTP " + std::to_string(res.result_int()));
        if (fresh) {
            boost::system::error_code ignored;
            socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            socket_.close();
        }
        return std::move(res.body());
    }

  private:
    asio::io_context io_;
    asio::ip::tcp::endpoint endpoint_;
    asio::ip::tcp::socket socket_{io_};
    boost::beast::flat_buffer buffer_;
};

json timings(const std::vector<double>& v) {
    return {{"requests", v.size()},
            {"p50_ms", percentile(v, 0.50)},
            {"p99_ms", percentile(v, 0.99)},
            {"max_ms", percentile(v, 1.0)}};
}

json measure(client& c, const std::string& target, std::size_t n, bool fresh) {
    std::vector<double> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto t0 = steady::now();
        c.get(target, fresh);
        v.push_back(ms(steady::now() - t0));
    }
    return timings(v);
}

json memory(pid_t pid) {
    return {{"vm_rss_kib", status_field(pid, "VmRSS")}, {"vm_hwm_kib", status_field(pid, "VmHWM")}};
}

void print_timing(const char* what, const json& t) {
    std::printf("  %-44s p50 %.3f ms, p99 %.3f ms, max %.2f ms (%zu requests)\n", what,
                t["p50_ms"].get<double>(), t["p99_ms"].get<double>(), t["max_ms"].get<double>(),
                t["requests"].get<std::size_t>());
}

json run(const options& o) {
    json r;
    {
        daemon_under_test off(o, false);
        off.wait_readings(10);
        r["memory_http_off"] = memory(off.daemon->pid());
    }
    daemon_under_test on(o, true);
    on.wait_readings(10);
    r["memory_http_on_idle"] = memory(on.daemon->pid());
    client c(on.port);
    c.get("/api/v1/reading", false);  // warm up
    r["reading_keepalive"] = measure(c, "/api/v1/reading", o.requests, false);
    r["metrics_keepalive"] =
        measure(c, "/metrics", std::max<std::size_t>(1, o.requests / 10), false);
    r["reading_new_connection"] = measure(c, "/api/v1/reading", o.fresh_connections, true);
    r["memory_http_on_after"] = memory(on.daemon->pid());
    if (!on.daemon->running()) fail("the daemon ended:\n" + on.daemon->err());

    std::printf("\nHTTP API (loopback, one client at a time):\n");
    print_timing("GET /api/v1/reading, kept-alive connection", r["reading_keepalive"]);
    print_timing("GET /metrics, kept-alive connection", r["metrics_keepalive"]);
    print_timing("GET /api/v1/reading, a new connection each", r["reading_new_connection"]);
    std::printf(
        "  memory: HTTP off VmRSS %ld KiB (VmHWM %ld); on, idle %ld KiB (VmHWM %ld); on, after "
        "the requests %ld KiB (VmHWM %ld)\n",
        r["memory_http_off"]["vm_rss_kib"].get<long>(),
        r["memory_http_off"]["vm_hwm_kib"].get<long>(),
        r["memory_http_on_idle"]["vm_rss_kib"].get<long>(),
        r["memory_http_on_idle"]["vm_hwm_kib"].get<long>(),
        r["memory_http_on_after"]["vm_rss_kib"].get<long>(),
        r["memory_http_on_after"]["vm_hwm_kib"].get<long>());
    return r;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail(a + " needs a value");
            return argv[++i];
        };
        if (a == "--requests") {
            o.requests = std::max<std::size_t>(1, std::stoull(value()));
        } else if (a == "--new-connections") {
            o.fresh_connections = std::max<std::size_t>(1, std::stoull(value()));
        } else if (a == "--json") {
            o.json_path = value();
        } else if (a == "--binary") {
            o.binary = value();
        } else {
            std::puts(
                "usage: evn_mbus_http_bench [--requests N (10000)] [--new-connections N (1000)] "
                "[--json FILE] [--binary PATH]");
            fail("unknown argument " + a);
        }
    }
    return o;
}

}  // namespace
}  // namespace evn_mbus::bench

int main(int argc, char** argv) {
    using namespace evn_mbus::bench;
    try {
        const options o = parse(argc, argv);
        const json r = run(o);
        if (!o.json_path.empty()) std::ofstream(o.json_path) << r.dump(2) << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "evn_mbus_http_bench: %s\n", e.what());
        return 1;
    }
}

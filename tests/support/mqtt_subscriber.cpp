#include "mqtt_subscriber.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>

namespace evn_mbus::test {
namespace {

// A mosquitto client with its stdout and stderr on `out_fd` (-1: the test's own). The child
// gets none of the test's other descriptors: a Paho connection would outlive its close().
std::unique_ptr<child_process> spawn(std::vector<std::string> args, int out_fd) {
    spawn_options o;
    o.argv = std::move(args);
    o.out = output_sink::to_fd(out_fd);
    o.err = o.out;
    auto child = std::make_unique<child_process>(o);
    if (child->spawn_error() != 0) {
        throw std::runtime_error("cannot run " + o.argv[0] + " (mosquitto-clients?)");
    }
    return child;
}

std::string unhex(const std::string& h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    }
    return out;
}

}  // namespace

mqtt_subscriber::mqtt_subscriber(const std::string& uri, const std::vector<std::string>& filters)
    : mqtt_subscriber(uri, filters, session{}) {}

mqtt_subscriber::mqtt_subscriber(const std::string& uri, const std::vector<std::string>& filters,
                                 const session& s) {
    const std::string scheme = "tcp://";
    if (uri.rfind(scheme, 0) != 0) throw std::runtime_error("mqtt_subscriber wants tcp://");
    const auto colon = uri.rfind(':');
    host_ = uri.substr(scheme.size(), colon - scheme.size());
    port_ = uri.substr(colon + 1);

    static std::atomic<int> counter{0};
    // stdbuf: mosquitto_sub's stdout is a pipe here, and we need its lines as they happen
    // (the SUBACK line would otherwise sit in a buffer until the first message).
    std::vector<std::string> args{"stdbuf",
                                  "-oL",
                                  "mosquitto_sub",
                                  "-h",
                                  host_,
                                  "-p",
                                  port_,
                                  "-q",
                                  "2",
                                  "-d",
                                  "-i",
                                  s.client_id.empty() ? "test-sub-" + std::to_string(::getpid()) +
                                                            "-" + std::to_string(++counter)
                                                      : s.client_id,
                                  "-F",
                                  "MSG %r %q %t %x"};
    if (s.persistent) args.push_back("-c");
    for (const auto& f : filters) {
        args.push_back("-t");
        args.push_back(f);
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe() failed");
    try {
        child_ = spawn(args, fds[1]);
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
    reader_ = std::thread([this] { read_output(); });

    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, std::chrono::seconds(5), [&] { return subacks_ > 0 || ended_; }) ||
        subacks_ == 0) {
        const std::string out = output_;
        lock.unlock();
        shutdown();  // the destructor does not run for a constructor that throws
        throw std::runtime_error("mosquitto_sub did not subscribe:\n" + out);
    }
}

mqtt_subscriber::~mqtt_subscriber() {
    shutdown();
}

void mqtt_subscriber::shutdown() {
    if (child_) {
        child_->signal(SIGTERM);
        child_->wait();
        child_.reset();
    }
    if (reader_.joinable()) reader_.join();
    if (out_fd_ >= 0) {
        ::close(out_fd_);
        out_fd_ = -1;
    }
}

void mqtt_subscriber::read_output() {
    std::string pending;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            std::lock_guard lock(mutex_);
            if (line.rfind("MSG ", 0) == 0) {
                // MSG <retained> <qos> <topic> <payload hex>
                const auto a = line.find(' ', 4);
                const auto b = line.find(' ', a + 1);
                const auto c = line.find(' ', b + 1);
                received_message m;
                m.retained = line.substr(4, a - 4) == "1";
                m.qos = std::stoi(line.substr(a + 1, b - a - 1));
                m.topic = line.substr(b + 1, c == std::string::npos ? c : c - b - 1);
                if (c != std::string::npos) m.payload = unhex(line.substr(c + 1));
                messages_.push_back(std::move(m));
            } else {
                if (line.find("received SUBACK") != std::string::npos) ++subacks_;
                output_ += line + "\n";
            }
            changed_.notify_all();
        }
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
    changed_.notify_all();
}

std::vector<received_message> mqtt_subscriber::messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
}

std::vector<received_message> mqtt_subscriber::on(const std::string& topic) const {
    std::vector<received_message> out;
    for (auto& m : messages()) {
        if (m.topic == topic) out.push_back(m);
    }
    return out;
}

std::vector<std::string> mqtt_subscriber::payloads(const std::string& topic) const {
    std::vector<std::string> out;
    for (auto& m : on(topic))
        out.push_back(m.payload);
    return out;
}

void mqtt_subscriber::clear() {
    std::lock_guard lock(mutex_);
    messages_.clear();
}

bool mqtt_subscriber::wait_for(
    const std::function<bool(const std::vector<received_message>&)>& done,
    std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(messages_); });
}

bool mqtt_subscriber::wait_for_count(const std::string& topic, std::size_t n,
                                     std::chrono::milliseconds timeout) const {
    return wait_for(
        [&](const std::vector<received_message>& ms) {
            std::size_t count = 0;
            for (const auto& m : ms)
                count += m.topic == topic ? 1 : 0;
            return count >= n;
        },
        timeout);
}

void mqtt_subscriber::publish(const std::string& topic, const std::string& payload, bool retain) {
    std::vector<std::string> args{"mosquitto_pub", "-h", host_,  "-p", port_, "-q", "1", "-t",
                                  topic,           "-m", payload};
    if (retain) args.push_back("-r");
    if (spawn(args, -1)->wait() != 0) {
        throw std::runtime_error("mosquitto_pub failed to publish " + topic);
    }
}

}  // namespace evn_mbus::test

#include "mqtt_probe.hpp"

#include <mqtt/async_client.h>
#include <unistd.h>

#include <stdexcept>

namespace evn_mbus::bench {

mqtt_probe::mqtt_probe(std::uint16_t port, const std::vector<std::string>& filters) {
    client_ =
        std::make_unique<mqtt::async_client>("tcp://127.0.0.1:" + std::to_string(port),
                                             "evn-mbus-bench-probe-" + std::to_string(::getpid()),
                                             mqtt::create_options(MQTTVERSION_3_1_1));
    client_->set_message_callback([this](mqtt::const_message_ptr m) {
        const auto at = clock::now();
        std::lock_guard lock(mutex_);
        ++counts_[m->get_topic()];
        messages_.push_back({m->get_topic(), m->to_string(), at});
        changed_.notify_all();
    });
    auto options = mqtt::connect_options_builder()
                       .clean_session(true)
                       .keep_alive_interval(std::chrono::seconds(0))
                       .finalize();
    try {
        if (!client_->connect(options)->wait_for(std::chrono::seconds(5))) {
            throw std::runtime_error("no CONNACK within 5 s");
        }
        for (const auto& f : filters) {
            if (!client_->subscribe(f, 0)->wait_for(std::chrono::seconds(5))) {
                throw std::runtime_error("no SUBACK for " + f + " within 5 s");
            }
        }
    } catch (const std::exception& e) {
        throw std::runtime_error(
            "mqtt_probe: cannot subscribe at 127.0.0.1:" + std::to_string(port) + ": " + e.what());
    }
}

mqtt_probe::~mqtt_probe() {
    try {
        client_->disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const std::exception&) {
        // The broker may be gone already; nothing to tidy up then.
    }
}

std::size_t mqtt_probe::size() const {
    std::lock_guard lock(mutex_);
    return dropped_ + messages_.size();
}

std::size_t mqtt_probe::count(const std::string& topic) const {
    std::lock_guard lock(mutex_);
    const auto it = counts_.find(topic);
    return it == counts_.end() ? 0 : it->second;
}

std::vector<mqtt_probe::message> mqtt_probe::since(std::size_t first) const {
    std::lock_guard lock(mutex_);
    const std::size_t from = first > dropped_ ? first - dropped_ : 0;
    if (from >= messages_.size()) return {};
    return {messages_.begin() + static_cast<std::ptrdiff_t>(from), messages_.end()};
}

bool mqtt_probe::wait_count(const std::string& topic, std::size_t n,
                            std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    const auto reached = [&] {
        const auto it = counts_.find(topic);
        return it != counts_.end() && it->second >= n;
    };
    changed_.wait_for(lock, timeout, reached);
    return reached();
}

void mqtt_probe::drop_payloads() {
    std::lock_guard lock(mutex_);
    dropped_ += messages_.size();
    messages_.clear();
}

}  // namespace evn_mbus::bench

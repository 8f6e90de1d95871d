// The benchmarks' subscriber: a Paho client in the benchmark's process that stamps every
// message with the steady clock in Paho's delivery callback. In process (not mosquitto_sub
// behind a pipe, as the tests' mqtt_subscriber), so that the time measured is the daemon's
// and the broker's; subscribed at QoS 0, so nothing waits for acknowledgements.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mqtt {
class async_client;
}

namespace evn_mbus::bench {

class mqtt_probe {
  public:
    using clock = std::chrono::steady_clock;

    struct message {
        std::string topic;
        std::string payload;
        clock::time_point at;  // when Paho delivered it
    };

    // Connects to 127.0.0.1:port and subscribes to `filters`; throws std::runtime_error if
    // the broker does not accept both within 5 s.
    mqtt_probe(std::uint16_t port, const std::vector<std::string>& filters);
    ~mqtt_probe();
    mqtt_probe(const mqtt_probe&) = delete;
    mqtt_probe& operator=(const mqtt_probe&) = delete;

    std::size_t size() const;                           // messages received so far
    std::size_t count(const std::string& topic) const;  // on that topic
    std::vector<message> since(std::size_t first) const;
    // Waits until `n` messages arrived on `topic`, at most `timeout`.
    bool wait_count(const std::string& topic, std::size_t n,
                    std::chrono::milliseconds timeout) const;
    // Forgets the payloads received so far (counts and size() stay); for long runs.
    void drop_payloads();

  private:
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<message> messages_;
    std::size_t dropped_ = 0;  // messages_[0] is message number dropped_
    std::map<std::string, std::size_t, std::less<>> counts_;
    std::unique_ptr<mqtt::async_client> client_;  // last: its callbacks use the members above
};

}  // namespace evn_mbus::bench

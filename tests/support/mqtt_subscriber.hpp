// A test's view of the broker: a mosquitto_sub process subscribed to some topic filters,
// collecting every message (topic, payload, retained flag, qos) for the test to look at. A
// separate process, so that the code under test is the only MQTT client in the test process
// (as in the daemon) and its sockets are the only ones to the broker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"

namespace evn_mbus::test {

struct received_message {
    std::string topic;
    std::string payload;
    bool retained = false;
    int qos = 0;
};

class mqtt_subscriber {
  public:
    // Subscribes (qos 2) at tcp://host:port and returns once the broker confirmed the
    // subscription; throws if it does not within 5 s. mosquitto_sub reconnects and subscribes
    // again by itself if the broker restarts.
    mqtt_subscriber(const std::string& uri, const std::vector<std::string>& filters);
    // With a fixed client id and clean_session false (mosquitto_sub -c), the broker keeps the
    // subscription and queues messages while the subscriber is away (e.g. reconnecting after
    // a broker restart; the broker needs persistence to keep them across its own death).
    struct session {
        std::string client_id;  // empty: a unique one
        bool persistent = false;
    };
    mqtt_subscriber(const std::string& uri, const std::vector<std::string>& filters,
                    const session& s);
    ~mqtt_subscriber();
    mqtt_subscriber(const mqtt_subscriber&) = delete;
    mqtt_subscriber& operator=(const mqtt_subscriber&) = delete;

    std::vector<received_message> messages() const;
    std::vector<received_message> on(const std::string& topic) const;  // that topic only
    std::vector<std::string> payloads(const std::string& topic) const;
    void clear();

    // Waits until `done(messages())` holds, at most `timeout`; returns whether it held.
    bool wait_for(const std::function<bool(const std::vector<received_message>&)>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
    bool wait_for_count(const std::string& topic, std::size_t n,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    // Publishes with mosquitto_pub (qos 1) and waits until it is done.
    void publish(const std::string& topic, const std::string& payload, bool retain = false);

  private:
    void read_output();
    void shutdown();

    std::string host_;
    std::string port_;
    std::unique_ptr<child_process> child_;  // mosquitto_sub
    int out_fd_ = -1;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<received_message> messages_;
    int subacks_ = 0;
    bool ended_ = false;
    std::string output_;  // mosquitto_sub's own lines, for error messages
    std::thread reader_;
};

}  // namespace evn_mbus::test

// What the publisher sends where: the topics it uses (those of the ESP8266 firmware evn-mbus
// replaces, and Home Assistant's), a reading's messages as the mqtt.publish_* switches choose
// them, and which switch turns a topic off.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "daemon_config.hpp"
#include "delivery_queue.hpp"
#include "evn_mbus/reading.hpp"

namespace evn_mbus {

struct mqtt_topics {
    explicit mqtt_topics(const mqtt_config& config);

    std::string status;        // <prefix>/status: "online", "offline" and the will
    std::string diagnostics;   // <prefix>/diagnostics, retained
    std::string ha_status;     // <discovery prefix>/status: Home Assistant announcing a restart
    std::string meter_status;  // ha_meter_status_topic()
};

// <prefix>/<name> for every named value (obis_code.hpp's name_for) and every derived one
// (derived_values.hpp: /p_net, /p1_net ...), /meter_number, /clock,
// /raw (hex of `raw`), /raw_plain (hex of `plain`) and /state (JSON), as the switches say.
std::vector<mqtt_message> reading_messages(const reading& r, std::span<const std::uint8_t> raw,
                                           std::span<const std::uint8_t> plain,
                                           const mqtt_config& config);

// A per-value topic (<prefix>/w_p, /p_net, /clock, ...): not /state, /raw, /raw_plain, the
// status topics or discovery. mqtt.on_change_only filters these (change_filter.hpp).
bool is_value_topic(const std::string& topic, const mqtt_config& config);

// A discovery config (<discovery prefix>/...).
bool is_discovery_topic(const std::string& topic, const mqtt_config& config);

// For a message too big for the broker: raise its limit, or turn the topic off with ...
std::string too_big_advice(const std::string& topic, const mqtt_config& config);

}  // namespace evn_mbus

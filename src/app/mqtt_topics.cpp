#include "mqtt_topics.hpp"

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/hex.hpp"
#include "evn_mbus/obis_code.hpp"

#include <nlohmann/json.hpp>

#include "derived_values.hpp"
#include "ha_discovery.hpp"
#include "reading_json.hpp"

namespace evn_mbus {

mqtt_topics::mqtt_topics(const mqtt_config& config)
    : status(config.topic_prefix + "/status"),
      diagnostics(config.topic_prefix + "/diagnostics"),
      ha_status(config.discovery.prefix + "/status"),
      meter_status(ha_meter_status_topic(config)) {}

std::vector<mqtt_message> reading_messages(const reading& r, std::span<const std::uint8_t> raw,
                                           std::span<const std::uint8_t> plain,
                                           const mqtt_config& config) {
    std::vector<mqtt_message> out;
    const std::string& p = config.topic_prefix;
    if (config.publish_values) {
        for (const auto& v : r.values) {
            if (!v.is_number()) continue;
            if (const auto name = name_for(v.code))
                out.push_back({p + "/" + std::string(name->name), value_json(v).dump()});
        }
        for (const auto& d : derived_values(r))
            out.push_back({p + "/" + std::string(d.name), derived_json(d).dump()});
        if (!r.meter_number.empty()) out.push_back({p + "/meter_number", r.meter_number});
        if (r.clock) out.push_back({p + "/clock", format_utc(*r.clock)});
    }
    if (config.publish_raw && !raw.empty()) out.push_back({p + "/raw", to_hex(raw, true)});
    if (config.publish_raw_plain && !plain.empty())
        out.push_back({p + "/raw_plain", to_hex(plain, true)});
    if (config.publish_json) out.push_back({p + "/state", to_json(r).dump()});
    return out;
}

bool is_value_topic(const std::string& topic, const mqtt_config& config) {
    const std::string& p = config.topic_prefix;
    if (topic.size() <= p.size() + 1 || topic.compare(0, p.size(), p) != 0 ||
        topic[p.size()] != '/')
        return false;
    const std::string_view rest = std::string_view(topic).substr(p.size() + 1);
    return rest != "state" && rest != "raw" && rest != "raw_plain" && rest != "status" &&
           rest != "diagnostics" && rest != "meter_status" && !is_discovery_topic(topic, config);
}

bool is_discovery_topic(const std::string& topic, const mqtt_config& config) {
    return topic.rfind(config.discovery.prefix + "/", 0) == 0;
}

std::string too_big_advice(const std::string& topic, const mqtt_config& config) {
    std::string off;
    if (topic == config.topic_prefix + "/state") {
        off = "mqtt.publish_json: false";
    } else if (topic == config.topic_prefix + "/raw") {
        off = "mqtt.publish_raw: false";
    } else if (topic == config.topic_prefix + "/diagnostics") {
        off = "mqtt.diagnostics_interval_s: 0";
    } else if (topic.ends_with("/config")) {
        off = "mqtt.discovery.enabled: false";
    }
    return "Raise the broker's limit (Mosquitto: max_packet_size in mosquitto.conf)" +
           (off.empty() ? std::string() : ", or turn the topic off with " + off);
}

}  // namespace evn_mbus

#include "oversize_guard.hpp"

#include <spdlog/fmt/fmt.h>

#include "mqtt_topics.hpp"

namespace evn_mbus {

oversize_guard::check oversize_guard::too_big(const std::string& topic, std::size_t payload_bytes,
                                              int qos) {
    const auto size = mqtt_packet_limit::packet_size(topic.size(), payload_bytes, qos);
    check c;
    if (limit_.fits(size)) return c;
    c.drop = true;
    ++dropped_;
    // Once per topic; the discovery configs (one per value) once for all.
    const bool discovery = is_discovery_topic(topic, config_);
    if (logged_.insert(discovery ? std::string("discovery") : topic).second) {
        c.warning = fmt::format(
            "MQTT: not publishing {}{} ({} bytes): the broker takes only messages of less "
            "than {} bytes. {}. {} message(s) dropped for this so far.",
            topic, discovery ? " (and the other discovery configs that big)" : "", size,
            *limit_.limit(), too_big_advice(topic, config_), dropped_);
    }
    return c;
}

std::uint64_t oversize_guard::sent(const std::string& topic, std::size_t payload_bytes, int qos,
                                   clock::time_point now) {
    if (qos == 0) return 0;  // never confirmed: tells nothing
    return limit_.sent(topic, mqtt_packet_limit::packet_size(topic.size(), payload_bytes, qos),
                       now);
}

oversize_guard::loss oversize_guard::lost(clock::time_point now, const std::string& client_id) {
    loss l;
    const auto v = limit_.lost(now);
    using kind = mqtt_packet_limit::verdict::kind;
    if (v.what == kind::too_big) {
        l.too_big = fmt::format(
            "MQTT: the broker {} closes the connection right after it is sent {} ({} bytes): "
            "it takes that as too big (Mosquitto's log says \"oversize packet\"). "
            "Messages of {} bytes or more are dropped from now on, and the rest is "
            "published. {}.",
            config_.uri, v.topic, v.size, v.size, too_big_advice(v.topic, config_));
    }
    if (v.what == kind::resent && !resent_said_) {
        resent_said_ = true;
        l.too_big = fmt::format(
            "MQTT: the broker {} keeps closing the connection on {} ({} bytes), too big for it, "
            "and it goes again on every connection: with mqtt.clean_session false, every "
            "unconfirmed message is kept for the next connection, so nothing after it gets "
            "through. Set mqtt.clean_session: true, or raise the broker's limit (Mosquitto: "
            "max_packet_size in mosquitto.conf).",
            config_.uri, v.topic, v.size);
    }
    // Only a limit explains a loss: a mere suspect may be a kick by another client.
    const bool explained =
        v.what == kind::too_big || v.what == kind::known || v.what == kind::resent;
    if (churn_.lost(now, explained)) {
        l.churn = fmt::format(
            "MQTT: the broker {} keeps closing the connection within seconds of accepting it. "
            "Another client may be using the same client id '{}': a broker lets one client use "
            "an id at a time and closes the older connection when another one connects with "
            "it. Give every evn-mbus (and every other MQTT client) its own mqtt.client_id.",
            config_.uri, client_id);
    }
    return l;
}

}  // namespace evn_mbus

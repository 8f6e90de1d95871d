// Learns the largest MQTT packet a broker takes, from how it behaves. A broker with a packet
// size limit (Mosquitto's max_packet_size) closes the connection when a PUBLISH is larger, and
// MQTT 3.1.1 gives it no way to say so: the client sees only a lost connection, reconnects,
// sends the same message and loses the connection again, forever. Mosquitto answers every
// earlier message before it reads the next, so the culprit is the first message that was sent
// just before the loss, is still unconfirmed, and is larger than any the broker has confirmed.
// Two losses in a row with such a message set the limit (the smaller of the two): every
// message of that size or more is then dropped, and the rest keep flowing. Once the broker is
// known to have a limit, one such loss lowers it. Only QoS 1 and 2 messages count: QoS 0 has
// no confirmation. Messages under 128 bytes are never blamed: no broker is that strict, and a
// status message unconfirmed when another client with the same id took over must not set a
// limit.
//
// What Paho C (1.3.12, MQTT 3.1.1, one server) does when a connection ends, and this follows:
// with a clean session it fails every message it had written and not seen confirmed (-11; -1
// for one whose write failed) before it reports the loss, and keeps the ones it had not
// written, which it writes first on the next connection (MQTTAsync_cleanSession clears only
// what was in flight). So the culprit is among the failed ones, and the others are carried
// over; a carried one already known to be too big explains the next loss. With
// mqtt.clean_session false nothing fails: Paho writes the unconfirmed ones again itself, and a
// message too big comes back on every connection, which no limit can stop. Sans-I/O: driven by
// calls and `now`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace evn_mbus {

class mqtt_packet_limit {
  public:
    using clock = std::chrono::steady_clock;

    // The size of the PUBLISH packet that carries it, as the broker counts it.
    static std::size_t packet_size(std::size_t topic_bytes, std::size_t payload_bytes, int qos);

    struct verdict {
        enum class kind {
            unexplained,  // no message to blame
            suspect,      // a message may be too big; one more such loss sets the limit
            too_big,      // the limit is set now: messages of `size` bytes or more are dropped
            known,        // a message handed over before the limit was known, and too big
            resent,       // such a message again: the client sends it itself on every connection
        };
        kind what = kind::unexplained;
        std::string topic;  // the message blamed (all but unexplained)
        std::size_t size = 0;
    };

    // A new connection: what ended with the old one no longer counts; what the client had not
    // written yet is sent now, first.
    void connected(clock::time_point now);
    // A QoS 1 or 2 message handed to the client; returns its token for the calls below.
    std::uint64_t sent(const std::string& topic, std::size_t size, clock::time_point now);
    // What the client reported: confirmed, or failed (it ended with the connection, and was
    // written: blamable for that loss, not carried to the next connection).
    void settled(std::uint64_t token, bool confirmed);
    // The client refused it: never sent.
    void not_taken(std::uint64_t token);
    verdict lost(clock::time_point now);

    bool fits(std::size_t size) const { return !limit_ || size < *limit_; }
    std::optional<std::size_t> limit() const { return limit_; }  // sizes from here on are dropped

  private:
    struct in_flight {
        std::uint64_t token;
        std::string topic;
        std::size_t size;
        clock::time_point at;
        bool ended = false;  // failed (settled): not carried to the next connection
    };
    std::deque<in_flight>::iterator find(std::uint64_t token);
    static constexpr auto blame_window = std::chrono::seconds(3);  // sent this long before
    static constexpr std::size_t smallest_blamed = 128;

    std::deque<in_flight> flight_;  // in the order sent
    std::uint64_t next_token_ = 1;
    std::size_t largest_confirmed_ = 0;
    std::optional<verdict> first_strike_;
    std::uint64_t last_known_ = 0;  // the token of the last `known` verdict
    std::optional<std::size_t> limit_;
};

}  // namespace evn_mbus

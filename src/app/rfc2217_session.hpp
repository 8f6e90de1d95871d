// The Telnet side of a meter behind a network serial bridge (serial.device: rfc2217://host:port,
// e.g. ser2net's `telnet(rfc2217)` accepter), sans-I/O: the adapter that owns the socket hands
// in what it read and sends what outgoing() holds. libtelnet does the Telnet protocol (IAC
// escaping, RFC 1143 option negotiation, subnegotiations); this class adds RFC 2217
// (COM-PORT-OPTION): it asks for BINARY both ways, so every byte value passes unchanged, and
// sets the remote port's baud rate, data bits, parity, stop bits and no flow control.
//
// One session per TCP connection: a new connection needs a new session. Out of memory ends the
// program (the calls are noexcept), as everywhere in the daemon.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "daemon_config.hpp"

struct telnet_t;  // libtelnet's state; libtelnet.h stays out of this header

namespace evn_mbus {

// The settings wanted on the remote port.
struct rfc2217_line {
    unsigned baud = 2400;
    unsigned data_bits = 8;  // 5..8
    serial_parity parity = serial_parity::even;
    unsigned stop_bits = 1;  // 1 | 2
};

enum class rfc2217_setting { baud, data_bits, parity, stop_bits, flow_control };

enum class rfc2217_event_kind {
    line_confirmed,    // the server answered every setting with the value asked
    setting_mismatch,  // the server set another value than asked (setting, asked, got)
    option_refused,    // WONT/DONT COM-PORT-OPTION: a plain Telnet server, not RFC 2217
    protocol_error,    // libtelnet found the server's Telnet broken (its text in `what`)
};

struct rfc2217_event {
    rfc2217_event_kind kind;
    std::string what;  // one sentence for the log, in words a home owner can act on
    // setting_mismatch only: RFC 2217's values (parity 1 none, 2 odd, 3 even; control 1 none)
    rfc2217_setting setting = rfc2217_setting::baud;
    std::uint32_t asked = 0;
    std::uint32_t got = 0;
};

class rfc2217_session {
  public:
    explicit rfc2217_session(rfc2217_line wanted);
    ~rfc2217_session();
    // libtelnet keeps a pointer to the session: neither copied nor moved.
    rfc2217_session(const rfc2217_session&) = delete;
    rfc2217_session& operator=(const rfc2217_session&) = delete;

    // Queues the opening negotiation: WILL COM-PORT-OPTION, WILL/DO BINARY, WILL/DO SGA.
    void start() noexcept;
    // Bytes read from the socket, split anywhere: meter bytes go to data(), negotiation is
    // answered into outgoing(); DO COM-PORT-OPTION sends the line settings.
    void receive(std::span<const std::uint8_t> from_socket) noexcept;
    // Bytes for the meter, IAC-escaped into outgoing().
    void send(std::span<const std::uint8_t> to_meter) noexcept;

    std::span<const std::uint8_t> data() const noexcept { return data_; }
    void clear_data() noexcept { data_.clear(); }
    std::span<const std::uint8_t> outgoing() const noexcept { return outgoing_; }
    void clear_outgoing() noexcept { outgoing_.clear(); }
    std::span<const rfc2217_event> events() const noexcept { return events_; }
    void clear_events() noexcept { events_.clear(); }
    // Every setting answered as asked. ser2net does not answer a setting it cannot make (9 data
    // bits, 1.5 stop bits): the adapter's timeout asks these two and logs the second.
    bool line_confirmed() const noexcept { return confirmed_; }
    // The server answered at least one setting; it refused COM-PORT-OPTION.
    bool any_answer() const noexcept { return answered_ != 0; }
    bool was_refused() const noexcept { return refused_; }
    // The settings the server has not answered yet, in words ("data bits, stop bits"), or "".
    std::string unanswered_settings() const;

  private:
    struct telnet_deleter {
        void operator()(telnet_t* t) const noexcept;
    };
    struct callbacks;  // libtelnet's event handlers, in the .cpp

    void send_settings();
    void on_answer(std::span<const std::uint8_t> sub);
    void refused();

    rfc2217_line wanted_;
    std::unique_ptr<telnet_t, telnet_deleter> telnet_;
    // A second parser in proxy mode that only reports WONT/DONT COM-PORT-OPTION as received:
    // libtelnet's RFC 1143 state machine is silent when the server refuses what we asked for.
    std::unique_ptr<telnet_t, telnet_deleter> observer_;
    std::vector<std::uint8_t> data_;
    std::vector<std::uint8_t> outgoing_;
    std::vector<rfc2217_event> events_;
    unsigned answered_ = 0;    // a bit per rfc2217_setting
    unsigned mismatched_ = 0;  // a bit per rfc2217_setting
    bool settings_sent_ = false;
    bool refused_ = false;
    bool confirmed_ = false;
};

}  // namespace evn_mbus

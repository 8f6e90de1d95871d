// Reads the meter's line through a serial-to-network bridge (ser2net, an ESP stream server, an
// M-Bus gateway) on the Asio loop: serial.device tcp://host:port (raw bytes) or
// rfc2217://host:port (Telnet COM-PORT-OPTION, RFC 2217: the remote port gets serial.baud,
// data_bits, parity and stop_bits; Telnet's IAC is escaped both ways; rfc2217_session.hpp).
//
// The serial_reader's sibling, with the same contract (meter_line.hpp): idle-gap framing, a
// failure said once, reconnection with the same capped backoff, writes for an AMIS meter's
// answers. What differs for a network:
// - the host name is resolved asynchronously on every attempt (a bridge's DHCP address may
//   change), each address tried in turn, each given up after 10 s;
// - a connection is open once it held for a second: ser2net accepts one it cannot serve,
//   says why in a line of text and closes it (bridge_messages.hpp quotes it);
// - TCP keepalive (and TCP_USER_TIMEOUT for unacknowledged writes) so that a bridge that lost
//   power or network is noticed within a minute, not after the kernel's two hours;
// - TCP_NODELAY: an AMIS meter waits for its E5h.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "daemon_config.hpp"
#include "idle_gap_timer.hpp"
#include "meter_line.hpp"
#include "retry_state.hpp"
#include "serial_endpoint.hpp"

namespace evn_mbus {

class rfc2217_session;

class net_reader final : public meter_line {
  public:
    // Keepalive: the first probe after this much silence, then one every interval; the
    // connection is dropped after `count` unanswered ones (10 + 3 x 5 = 25 s).
    static constexpr std::chrono::seconds keepalive_idle{10};
    static constexpr std::chrono::seconds keepalive_interval{5};
    static constexpr int keepalive_count = 3;
    // A connection attempt to one address (of several, if the name has several).
    static constexpr std::chrono::seconds connect_timeout{10};
    // rfc2217://: how long the bridge may take to answer the Telnet negotiation.
    static constexpr std::chrono::seconds negotiation_timeout{5};
    // A connection counts as open once it held this long (ser2net closes one it cannot serve
    // within milliseconds).
    static constexpr std::chrono::seconds settle_time{1};

    net_reader(boost::asio::io_context& io, serial_config config, serial_endpoint endpoint,
               handlers h);
    ~net_reader() override;
    net_reader(const net_reader&) = delete;
    net_reader& operator=(const net_reader&) = delete;

    void start() override;
    void stop() override;
    bool write(std::span<const std::uint8_t> bytes) override;
    std::uint64_t reopen_count() const noexcept override { return reopens_; }
    bool is_open() const noexcept { return connected_; }
    // The connected socket, for tests that check its options; -1 when not connected.
    int native_handle() noexcept;

  private:
    void resolve();
    void connect(boost::asio::ip::tcp::resolver::results_type addresses);
    void connect_next();
    void remember(std::span<const std::uint8_t> bytes);
    void on_connected();
    void established();
    void schedule_reconnect();
    void watch_negotiation();
    void read_some();
    void on_read(std::span<const std::uint8_t> bytes);
    void lost(const std::string& what);
    void say_notes();
    void write_next();
    void send_outgoing();
    void fail(const std::string& what);
    void close();

    boost::asio::io_context& io_;
    serial_config config_;
    serial_endpoint endpoint_;
    handlers handlers_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::ip::tcp::socket socket_;
    idle_gap_timer idle_;
    boost::asio::steady_timer retry_timer_;  // the reconnect backoff and the connect timeout
    boost::asio::steady_timer negotiation_timer_;
    boost::asio::steady_timer settle_timer_;
    std::unique_ptr<rfc2217_session> telnet_;  // rfc2217:// only
    std::array<std::uint8_t, 1024> buffer_{};
    retry_state retry_;
    bool running_ = false;
    bool connected_ = false;
    bool established_ = false;  // connected_, and it held for settle_time
    std::vector<boost::asio::ip::tcp::endpoint> addresses_;  // the host's, tried in turn
    std::size_t next_address_ = 0;
    std::error_code last_connect_error_;
    bool only_timeouts_ = true;
    std::vector<std::uint8_t> first_bytes_;  // of this connection (ser2net's complaint)
    std::vector<std::uint8_t> last_bytes_;
    std::vector<std::uint8_t> delivered_;  // rfc2217://: the meter's bytes, handed on
    std::set<std::string> said_notes_;     // this connection's notes, said once
    bool opened_before_ = false;
    std::uint64_t reopens_ = 0;
    // rfc2217://: what the bridge answered, said once the connection holds.
    std::vector<std::pair<std::string, bool>> notes_;
    std::vector<std::uint8_t> to_write_;  // waiting for the write in progress
    std::vector<std::uint8_t> writing_;   // the write in progress
    // Guards the completion handlers against running after stop()/destruction.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace evn_mbus

// The simulator's meter behind a serial-to-network bridge: a TCP listener that behaves like a
// raw ser2net accepter (or an ESP stream server) with the meter on its serial side, so the
// daemon's tcp:// transport, the demo and the tests need no bridge.
//
// One reader at a time gets the meter's bytes, and what it sends goes to the meter. A new
// connection replaces the old one: a daemon that reconnects after a half-dead connection (a
// Wi-Fi drop leaves the old one open for minutes) must get in, as with ser2net's "kickolduser".
// While nobody is connected, a paced meter goes on and its bytes are lost, as on a real
// bridge; they are counted. An unpaced one (--speed max) has no pace to keep: its writes wait
// for the next reader instead of spinning through pushes nobody gets.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace evn_mbus {

class tcp_meter_line {
  public:
    // What happens to the meter's bytes while no reader is connected.
    enum class without_reader { drop, hold };

    struct events {
        // A reader connected ("127.0.0.1:5544", "[::1]:5544"); `replaced` is the one it pushed
        // out, empty if there was none.
        std::function<void(const std::string& peer, const std::string& replaced)> on_connect;
        // The reader went; `how`: "it closed the connection", or the error's message.
        std::function<void(const std::string& peer, const std::string& how)> on_disconnect;
    };

    explicit tcp_meter_line(boost::asio::io_context& io);
    ~tcp_meter_line();
    tcp_meter_line(const tcp_meter_line&) = delete;
    tcp_meter_line& operator=(const tcp_meter_line&) = delete;

    // Listens on `host` (an address, or a name: its first address) and `port` (0: a free one).
    std::error_code listen(const std::string& host, std::uint16_t port, without_reader mode,
                           events ev);
    // The address actually listened on: "tcp://127.0.0.1:41234", "tcp://[::1]:41234".
    const std::string& address() const noexcept { return address_; }

    // Runs `ready` once a reader is connected (soon, if one is); operation_canceled on cancel().
    void async_wait_reader(std::function<void(const std::error_code&)> ready);
    bool connected() const noexcept { return socket_.is_open(); }

    // Writes all of `data` (valid until `done` runs) to the reader. Bytes no reader gets (none
    // connected, or it went during the write) are dropped and counted, and are no error; in
    // hold mode, a write with no reader waits for one. `done` sees an error only after cancel().
    void async_write(std::span<const std::uint8_t> data,
                     std::function<void(const std::error_code&)> done);

    // Hands on what the readers send from now on, until cancel().
    void start_reading(std::function<void(std::span<const std::uint8_t>)> on_bytes);

    // At the end: waits until the kernel has sent all that was written (SIOCOUTQ 0), so
    // closing loses nothing. `done` gets the bytes still unsent when the queue has not moved
    // for 5 s (0 when all went, the reader left, or cancel() came first).
    void finish(std::function<void(std::size_t unsent)> done);

    // Stops listening and aborts the wait, the write and the finish in progress; the reader's
    // connection stays open until destruction (then it sees the end of the stream).
    void cancel();

    std::uint64_t dropped_bytes() const noexcept { return dropped_; }
    std::uint64_t connections() const noexcept { return connections_; }

  private:
    void accept_next();
    void adopt_reader(boost::asio::ip::tcp::socket incoming);
    void drop_reader(const std::string& how);
    void read_some();
    void on_read(std::uint64_t generation, const boost::system::error_code& ec, std::size_t n);
    void write_now();
    void post_write_done(const std::error_code& ec);
    void complete_write(const std::error_code& ec);
    std::size_t unsent_bytes();
    void watch_queue(std::size_t last, std::chrono::steady_clock::time_point last_change);
    void complete_finish(std::size_t unsent);

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::ip::tcp::socket socket_;    // the reader's connection, while there is one
    boost::asio::steady_timer timer_;        // the finish's polls
    boost::asio::steady_timer retry_timer_;  // an accept that failed
    std::string address_;
    without_reader mode_ = without_reader::drop;
    events events_;
    std::string peer_;
    // Counts connections taken over: completions of an older one find it changed.
    std::uint64_t generation_ = 0;
    std::uint64_t connections_ = 0;
    std::uint64_t dropped_ = 0;
    bool cancelled_ = false;
    std::vector<std::function<void(const std::error_code&)>> waiting_;
    // The write in progress (held, in hold mode, until a reader is there).
    std::span<const std::uint8_t> write_data_;
    std::function<void(const std::error_code&)> write_done_;
    bool held_ = false;  // hold mode: the write waits for a reader
    std::array<std::uint8_t, 512> read_buffer_{};
    std::function<void(std::span<const std::uint8_t>)> on_bytes_;
    std::function<void(std::size_t)> finish_done_;
    // Guards the completion handlers against running after destruction.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace evn_mbus

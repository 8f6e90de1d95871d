// The simulator's loop on Asio: takes pushes from a push_source, lets the fault_injector
// damage them, and writes them to the meter_port at the times the line_pacer says, until
// `count` pushes are sent, a write fails or stop() is called (a stop signal).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "fault_injector.hpp"
#include "line_pacer.hpp"
#include "meter_port.hpp"
#include "push_source.hpp"

namespace evn_mbus {

class push_sender {
  public:
    enum class outcome {
        completed,     // `count` pushes sent
        stopped,       // stop() came first
        build_failed,  // the source could not make push failed_seq(): error()
        write_failed,  // writing to the port failed: error()
        refused,       // on_push said no
    };
    struct handlers {
        // Each push, after its fault and before its bytes go out; false ends the run.
        std::function<bool(std::uint64_t seq, const char* fault, const nlohmann::json& expected)>
            on_push;
        std::function<void(outcome)> on_done;
    };

    // `count` 0: until stopped.
    push_sender(boost::asio::io_context& io, meter_port& port, push_source& source,
                fault_injector& faults, line_pacer& pacer, std::uint64_t count, handlers h);

    void start();
    // Ends the run at the next step; the port's write in progress is the caller's to cancel.
    void stop();

    const std::error_code& error() const noexcept { return error_; }
    std::uint64_t failed_seq() const noexcept { return seq_; }

  private:
    struct block {
        std::vector<std::uint8_t> bytes;
        bool after_gap = false;
    };

    void next_push();
    void make_push();
    void send_block();
    void begin_block();
    void write_due();
    // Runs `then` at `t` (at once if that has passed); the run stops instead if stop() comes.
    void wait_until(line_pacer::clock::time_point t, void (push_sender::*then)());
    void done(outcome o);

    meter_port& port_;
    push_source& source_;
    fault_injector& faults_;
    line_pacer& pacer_;
    std::uint64_t count_;
    handlers handlers_;
    boost::asio::steady_timer timer_;
    std::vector<block> blocks_;  // the push being sent: its frames, then any noise
    std::size_t block_ = 0;      // the block being sent
    std::size_t written_ = 0;    // of that block
    std::uint64_t seq_ = 0;
    std::error_code error_;
    bool stopped_ = false;
    bool finished_ = false;
};

}  // namespace evn_mbus

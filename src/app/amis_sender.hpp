// The simulator's AMIS loop on Asio: an amis_master decides what the meter sends and when,
// pushes come from a callback (made up or replayed), the fault_injector damages some, the
// bytes go out paced like the 9600-baud IR line, and what the reader writes back (its E5h)
// goes to the master. Runs until `count` pushes have been sent and answered (or not), a write
// fails or stop() is called.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>
#include <vector>

#include "amis_master.hpp"
#include "fault_injector.hpp"
#include "line_pacer.hpp"
#include "meter_port.hpp"
#include "push_sender.hpp"
#include "push_source.hpp"

namespace evn_mbus {

class amis_sender {
  public:
    using outcome = push_sender::outcome;
    // A new push with the master's access number and frame count bit.
    using push_maker =
        std::function<std::error_code(std::uint8_t access_number, bool fcb, push_bytes& out)>;
    struct handlers {
        // Each new push, after its fault and before its bytes go out; false ends the run.
        std::function<bool(std::uint64_t seq, const char* fault, const nlohmann::json& expected)>
            on_push;
        // Each wait for an acknowledgement that ended; `seq` is the push's (0 for a search).
        std::function<void(const amis_master::result&, std::uint64_t seq)> on_result;
        std::function<void(outcome)> on_done;
    };

    // `count` 0: until stopped. `timing` nullopt: no pacing.
    // `drop_ack`: the probability that the meter does not hear the reader's answer.
    amis_sender(boost::asio::io_context& io, meter_port& port, push_maker make,
                fault_injector& faults, amis_master& master, std::optional<line_timing> timing,
                std::uint64_t count, double drop_ack, handlers h);

    void start();
    void stop();

    const std::error_code& error() const noexcept { return error_; }
    std::uint64_t failed_seq() const noexcept { return seq_; }

  private:
    void step();
    void begin_frame(amis_master::frame f);
    void write_due();
    void after_frame();
    void report();
    void wait_until(line_pacer::clock::time_point t);
    void done(outcome o);

    meter_port& port_;
    push_maker make_;
    fault_injector& faults_;
    amis_master& master_;
    line_pacer pacer_;
    std::uint64_t count_;
    double drop_ack_;
    handlers handlers_;
    boost::asio::steady_timer timer_;
    std::vector<std::uint8_t> last_push_;  // intact, for a repeat
    std::vector<std::uint8_t> bytes_;      // on its way: a frame, then any noise
    std::size_t frame_size_ = 0;           // of bytes_, the frame
    std::size_t written_ = 0;
    bool damaged_ = false;
    bool last_damaged_ = false;   // the last wait ended on a damaged frame: it comes again
    bool writing_ = false;        // a frame (and its noise) is going out
    bool write_pending_ = false;  // an async_write of it is under way
    std::uint64_t wait_number_ = 0;
    std::uint64_t seq_ = 0;  // new pushes made
    std::error_code error_;
    bool stopped_ = false;
    bool finished_ = false;
};

}  // namespace evn_mbus

// The serial reader over a real pseudo-terminal: the test writes to the master side as a meter
// would (paced at 2400 baud 8E1, with the gap between the two frames of a push) while the
// reader, on its own Asio loop, opens the slave side like a UART and feeds the core decoder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "evn_mbus/error.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "fake_uart.hpp"
#include "fixture_loader.hpp"
#include "serial_reader.hpp"

namespace {

using namespace std::chrono_literals;
using evn_mbus::test::bytes;

using evn_mbus::test::fake_uart;

// The reader and a decoder on an Asio loop in a background thread; events are recorded in
// order for the test thread to wait on.
class reader_rig {
  public:
    struct event {
        enum kind { open, failure, reading, error, idle } what;
        std::string text;  // failure message, error name, or meter number
    };

    // The idle gap is wide (a second, against the 160 ms between a push's frames) where it is
    // not under test: a loaded machine can stall the paced writer for longer than a real
    // line's gap, and the reader would cut the frame ("M-Bus frame cut off").
    reader_rig(const std::string& device, const evn_mbus::decoder_keys& keys,
               std::chrono::milliseconds idle_gap = 1000ms)
        : decoder_(keys) {
        evn_mbus::serial_config cfg;
        cfg.device = device;
        cfg.idle_gap = idle_gap;
        cfg.reopen_max = std::chrono::seconds(1);
        evn_mbus::serial_reader::handlers h;
        h.on_bytes = [this](std::span<const std::uint8_t> b) {
            decoder_.feed(b);
            drain();
        };
        h.on_idle = [this] {
            record({event::idle, {}});
            decoder_.on_idle_gap();
            drain();
        };
        h.on_open = [this] { record({event::open, {}}); };
        h.on_failure = [this](const std::string& what, bool first) {
            if (first) record({event::failure, what});
        };
        reader_ = std::make_unique<evn_mbus::serial_reader>(io_, cfg, std::move(h));
        boost::asio::post(io_, [this] { reader_->start(); });
        work_ = std::thread([this] {
            auto guard = boost::asio::make_work_guard(io_);
            io_.run();
        });
    }
    ~reader_rig() {
        boost::asio::post(io_, [this] {
            reader_->stop();
            io_.stop();
        });
        work_.join();
    }

    // Waits until `pred(events)` holds, at most `limit`.
    template <typename Pred>
    bool wait_for(Pred pred, std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return pred(events_); });
    }
    std::vector<event> events() {
        std::lock_guard lock(mutex_);
        return events_;
    }
    static std::size_t count(const std::vector<event>& ev, event::kind k) {
        return static_cast<std::size_t>(
            std::count_if(ev.begin(), ev.end(), [k](const event& e) { return e.what == k; }));
    }

  private:
    void drain() {
        for (;;) {
            const auto ev = decoder_.next();
            if (ev.what == evn_mbus::decode_event::kind::need_more) return;
            if (ev.what == evn_mbus::decode_event::kind::reading) {
                record({event::reading, ev.value->meter_number});
            } else {
                record({event::error, std::string(evn_mbus::error_name(ev.error))});
            }
        }
    }
    void record(event e) {
        {
            std::lock_guard lock(mutex_);
            events_.push_back(std::move(e));
        }
        changed_.notify_all();
    }

    boost::asio::io_context io_;
    evn_mbus::telegram_decoder decoder_;
    std::unique_ptr<evn_mbus::serial_reader> reader_;
    std::thread work_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<event> events_;
};

std::filesystem::path temp_link(const char* name) {
    return std::filesystem::temp_directory_path() /
           (std::string("evn-mbus-test-") + std::to_string(::getpid()) + "-" + name);
}

const evn_mbus::test::capture& evn() {
    return evn_mbus::test::capture_by_id("evn_kaifa_ma309_doc");
}

void send_push(fake_uart& uart, const evn_mbus::test::capture& c) {
    uart.send_push(c.frames);
}

TEST(serial_reader, push_at_line_speed_decodes_before_the_idle_timer) {
    const auto link = temp_link("a");
    fake_uart uart(link);
    reader_rig rig(link.string(), evn().keys);
    ASSERT_TRUE(
        rig.wait_for([](auto& ev) { return reader_rig::count(ev, reader_rig::event::open) == 1; }));

    send_push(uart, evn());
    ASSERT_TRUE(rig.wait_for(
        [](auto& ev) { return reader_rig::count(ev, reader_rig::event::reading) == 1; }));
    const auto ev = rig.events();
    // The reading came from the bytes themselves: no idle gap was needed after the last byte
    // (the 160 ms between the frames is far below the gap; the one after the push may follow).
    const auto reading = std::find_if(
        ev.begin(), ev.end(), [](const auto& e) { return e.what == reader_rig::event::reading; });
    ASSERT_NE(reading, ev.end());
    EXPECT_EQ(std::count_if(ev.begin(), reading,
                            [](const auto& e) { return e.what == reader_rig::event::idle; }),
              0);
    EXPECT_EQ(reading->text, "181220000009");
    EXPECT_EQ(reader_rig::count(ev, reader_rig::event::error), 0u);
}

TEST(serial_reader, noise_and_a_cut_frame_cost_only_themselves) {
    const auto link = temp_link("b");
    fake_uart uart(link);
    // The idle gap is under test here: each piece is written at once, so that a stalled
    // writer can only lengthen the pauses (which must be gaps), never split a piece.
    reader_rig rig(link.string(), evn().keys, 200ms);
    ASSERT_TRUE(
        rig.wait_for([](auto& ev) { return reader_rig::count(ev, reader_rig::event::open) == 1; }));

    uart.write_now(bytes{0x00, 0x42, 0xE5, 0xFF, 0x16, 0x68});  // line noise
    std::this_thread::sleep_for(600ms);
    // The first frame of a push, cut off in the middle (the meter lost power, say).
    const bytes& first = evn().frames[0];
    uart.write_now(bytes(first.begin(), first.begin() + 120));
    std::this_thread::sleep_for(600ms);  // the line goes idle: the partial frame is dropped
    for (const bytes& frame : evn().frames)
        uart.write_now(frame);
    ASSERT_TRUE(rig.wait_for(
        [](auto& ev) { return reader_rig::count(ev, reader_rig::event::reading) == 1; }));
    const auto ev = rig.events();
    std::vector<std::string> errors;
    for (const auto& e : ev) {
        if (e.what == reader_rig::event::error) errors.push_back(e.text);
    }
    EXPECT_EQ(errors, (std::vector<std::string>{"truncated_frame"}));
}

TEST(serial_reader, device_that_disappears_and_comes_back_is_reopened) {
    const auto link = temp_link("c");
    fake_uart uart(link);
    reader_rig rig(link.string(), evn().keys);
    ASSERT_TRUE(
        rig.wait_for([](auto& ev) { return reader_rig::count(ev, reader_rig::event::open) == 1; }));
    send_push(uart, evn());
    ASSERT_TRUE(rig.wait_for(
        [](auto& ev) { return reader_rig::count(ev, reader_rig::event::reading) == 1; }));

    for (int round = 0; round < 3; ++round) {
        uart.unplug();
        ASSERT_TRUE(rig.wait_for([&](auto& ev) {
            return reader_rig::count(ev, reader_rig::event::failure) >= 1u + round;
        })) << "the reader did not notice the device going away (round "
            << round << ")";
        std::this_thread::sleep_for(300ms);
        uart.plug();
        ASSERT_TRUE(rig.wait_for([&](auto& ev) {
            return reader_rig::count(ev, reader_rig::event::open) == 2u + round;
        })) << "the reader did not reopen the device (round "
            << round << ")";
        send_push(uart, evn());
        ASSERT_TRUE(rig.wait_for([&](auto& ev) {
            return reader_rig::count(ev, reader_rig::event::reading) == 2u + round;
        }));
    }
    const auto ev = rig.events();
    const auto lost = std::find_if(ev.begin(), ev.end(),
                                   [](auto& e) { return e.what == reader_rig::event::failure; });
    ASSERT_NE(lost, ev.end());
    EXPECT_NE(lost->text.find("lost"), std::string::npos) << lost->text;
}

TEST(serial_reader, missing_device_at_start_is_waited_for) {
    const auto link = temp_link("d");
    std::filesystem::remove(link);
    reader_rig rig(link.string(), evn().keys);
    ASSERT_TRUE(rig.wait_for(
        [](auto& ev) { return reader_rig::count(ev, reader_rig::event::failure) == 1; }));
    const auto first = rig.events();
    EXPECT_NE(first[0].text.find("does not exist"), std::string::npos) << first[0].text;
    std::this_thread::sleep_for(1500ms);
    // Retries are silent: one message for the state, not one per attempt.
    EXPECT_EQ(reader_rig::count(rig.events(), reader_rig::event::failure), 1u);

    fake_uart uart(link);
    ASSERT_TRUE(
        rig.wait_for([](auto& ev) { return reader_rig::count(ev, reader_rig::event::open) == 1; }));
    send_push(uart, evn());
    ASSERT_TRUE(rig.wait_for(
        [](auto& ev) { return reader_rig::count(ev, reader_rig::event::reading) == 1; }));
}

TEST(serial_reader, permission_denied_names_the_group) {
    using access = evn_mbus::serial_reader::device_access;
    // An ordinary group that may read and write: join it, then restart the service.
    const auto dialout = evn_mbus::serial_reader::describe_permission_denied(
        "/dev/ttyUSB0", access{true, 0660, 20, "root", "dialout", "/dev/ttyUSB0"}, "evn-mbus");
    EXPECT_NE(dialout.find("sudo usermod -aG dialout evn-mbus"), std::string::npos) << dialout;
    EXPECT_NE(dialout.find("sudo systemctl restart evn-mbus"), std::string::npos) << dialout;
    EXPECT_EQ(dialout.find("log in again"), std::string::npos) << dialout;
    // Root's or tty's device: a udev rule for the real device name, never joining the group.
    for (const auto& [group, gid] : {std::pair<std::string, unsigned>{"root", 0}, {"tty", 5}}) {
        const auto msg = evn_mbus::serial_reader::describe_permission_denied(
            "/dev/serial0", access{true, 0620, gid, "root", group, "/dev/ttyAMA0"}, "evn-mbus");
        EXPECT_EQ(msg.find("usermod"), std::string::npos) << msg;
        EXPECT_NE(msg.find("KERNEL==\"ttyAMA0\", GROUP=\"dialout\", MODE=\"0660\""),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("sudo systemctl restart evn-mbus"), std::string::npos) << msg;
    }
    // A group without read and write bits needs the rule too.
    const auto closed = evn_mbus::serial_reader::describe_permission_denied(
        "/dev/ttyUSB0", access{true, 0600, 20, "root", "dialout", "/dev/ttyUSB0"}, "evn-mbus");
    EXPECT_NE(closed.find("udev rule"), std::string::npos) << closed;
    // Through describe_open_error, a missing device still gets an answer.
    const auto missing = evn_mbus::serial_reader::describe_open_error(
        "/nonexistent/tty", std::make_error_code(std::errc::permission_denied));
    EXPECT_NE(missing.find("'dialout'"), std::string::npos) << missing;
}

}  // namespace

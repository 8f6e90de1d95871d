// The simulator's end of the line: what the other end writes (a daemon's acknowledgement)
// arrives at the read handler, on the simulator's own pty and on a serial port it opens; the
// serial port gets the daemon's line settings; a file is written to but cannot be read.
#include "meter_port.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "pty_device.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;
using byte_vector = std::vector<std::uint8_t>;

// Reads from `port` until `want` bytes came (or a generous limit passed on a loaded machine).
byte_vector read_back(boost::asio::io_context& io, meter_port& port, std::size_t want) {
    byte_vector got;
    std::error_code end;
    const auto ec = port.start_reading(
        [&](std::span<const std::uint8_t> b) {
            got.insert(got.end(), b.begin(), b.end());
            if (got.size() >= want) port.cancel();
        },
        [&](const std::error_code& e) { end = e; });
    EXPECT_FALSE(ec) << ec.message();
    io.run_for(30s);
    io.restart();
    return got;
}

void write_fd(int fd, const byte_vector& data) {
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
}

// Reads exactly `n` bytes from `fd` (non-blocking or not), waiting up to 30 s in all.
byte_vector read_fd(int fd, std::size_t n) {
    byte_vector out;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        std::uint8_t buf[256];
        const ssize_t got = ::read(fd, buf, sizeof buf);
        if (got <= 0) break;
        out.insert(out.end(), buf, buf + got);
    }
    return out;
}

// An acknowledgement as an AMIS meter expects one (E5h), and a few bytes more.
const byte_vector answer{0xE5, 0x10, 0x40, 0xFE, 0x3E, 0x16};

TEST(meter_port, bytes_written_to_its_pty_reach_the_read_handler) {
    boost::asio::io_context io;
    meter_port port(io);
    ASSERT_FALSE(port.open_pty({}));
    ASSERT_TRUE(port.is_pty());
    // The daemon's side: the slave, opened like a serial port.
    const int slave = ::open(port.name().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(slave, 0);
    write_fd(slave, answer);
    EXPECT_EQ(read_back(io, port, answer.size()), answer);

    // And the other way, what the simulator sends.
    const byte_vector push{0x68, 0xFA, 0xFA, 0x68, 0x53};
    std::error_code written = std::make_error_code(std::errc::interrupted);
    port.async_write(push, [&](const std::error_code& ec) { written = ec; });
    io.run_for(30s);
    io.restart();
    EXPECT_FALSE(written) << written.message();
    EXPECT_EQ(read_fd(slave, push.size()), push);
    ::close(slave);
}

TEST(meter_port, a_serial_port_gets_the_daemons_line_and_is_read) {
    // A pty stands in for the USB adapter: the simulator opens its slave as --device, the
    // test is the far end on the master.
    pty_device far;
    ASSERT_FALSE(far.open());
    boost::asio::io_context io;
    meter_port port(io);
    ASSERT_FALSE(port.open_device(far.slave_path(), 9600));
    EXPECT_FALSE(port.is_pty());

    const int check = ::open(far.slave_path().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(check, 0);
    termios t{};
    ASSERT_EQ(::tcgetattr(check, &t), 0);
    ::close(check);
    EXPECT_EQ(::cfgetospeed(&t), static_cast<speed_t>(B9600));
    EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
    // Parity cannot be read back here: Linux's pty driver clears PARENB on every tcsetattr
    // (pty_set_termios). INPCK, the input side of the parity setting, stays.
    EXPECT_EQ(t.c_cflag & CSTOPB, 0u);
    EXPECT_NE(t.c_iflag & INPCK, 0u);
    EXPECT_EQ(t.c_lflag & ICANON, 0u);  // raw

    write_fd(far.master_fd(), answer);
    EXPECT_EQ(read_back(io, port, answer.size()), answer);
}

TEST(meter_port, a_file_is_written_and_cannot_be_read) {
    const std::filesystem::path file = std::filesystem::path(::testing::TempDir()) /
                                       ("evn-mbus-port-" + std::to_string(::getpid()) + ".bin");
    {
        boost::asio::io_context io;
        meter_port port(io);
        ASSERT_FALSE(port.open_device(file.string(), 2400));
        EXPECT_EQ(port.start_reading([](std::span<const std::uint8_t>) {}),
                  std::errc::operation_not_supported);
        std::error_code written = std::make_error_code(std::errc::interrupted);
        port.async_write(answer, [&](const std::error_code& ec) { written = ec; });
        io.run_for(30s);
        EXPECT_FALSE(written) << written.message();
    }
    std::ifstream in(file, std::ios::binary);
    const byte_vector content{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(content, answer);
    std::filesystem::remove(file);
}

}  // namespace
}  // namespace evn_mbus::test

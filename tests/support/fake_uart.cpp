#include "fake_uart.hpp"

#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace evn_mbus::test {

fake_uart::fake_uart(std::filesystem::path link) : link_(std::move(link)) {
    plug();
}

fake_uart::~fake_uart() {
    unplug();
}

void fake_uart::plug() {
    unplug();
    int slave = -1;
    char name[256] = {};
    if (::openpty(&master_, &slave, name, nullptr, nullptr) != 0) {
        throw std::runtime_error("openpty failed");
    }
    termios tio{};
    ::tcgetattr(slave, &tio);
    ::cfmakeraw(&tio);
    ::tcsetattr(slave, TCSANOW, &tio);
    ::close(slave);  // the reader opens it by name
    std::filesystem::create_symlink(name, link_);
}

void fake_uart::unplug() {
    if (master_ >= 0) ::close(master_);
    master_ = -1;
    std::error_code ignored;
    std::filesystem::remove(link_, ignored);
}

void fake_uart::write_paced(const std::vector<std::uint8_t>& data, unsigned baud) {
    const auto per_byte = std::chrono::microseconds(11'000'000 / baud);
    auto next = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < data.size(); i += 8) {
        const std::size_t n = std::min<std::size_t>(8, data.size() - i);
        write_now(std::vector<std::uint8_t>(data.begin() + static_cast<std::ptrdiff_t>(i),
                                            data.begin() + static_cast<std::ptrdiff_t>(i + n)));
        next += per_byte * n;
        std::this_thread::sleep_until(next);
    }
}

std::vector<std::uint8_t> fake_uart::read_back(std::size_t want, std::chrono::milliseconds within) {
    std::vector<std::uint8_t> out;
    const auto until = std::chrono::steady_clock::now() + within;
    while (out.size() < want) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{master_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        std::uint8_t buf[64];
        const ssize_t n = ::read(master_, buf, std::min(sizeof buf, want - out.size()));
        if (n <= 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

void fake_uart::write_now(const std::vector<std::uint8_t>& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(master_, data.data() + done, data.size() - done);
        if (n <= 0) throw std::runtime_error("write to the pseudo-terminal failed");
        done += static_cast<std::size_t>(n);
    }
}

void fake_uart::send_push(const std::vector<std::vector<std::uint8_t>>& frames, unsigned gap_ms) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
        write_paced(frames[i]);
    }
}

}  // namespace evn_mbus::test

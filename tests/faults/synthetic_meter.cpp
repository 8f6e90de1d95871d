#include "synthetic_meter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <thread>

#include "evn_mbus/hex.hpp"

namespace evn_mbus::test {
namespace {

load_profile_options profile_options(std::uint64_t seed) {
    load_profile_options o;
    o.seed = seed;
    o.start = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return o;
}

}  // namespace

synthetic_meter::synthetic_meter(std::string link, const std::string& key_hex, std::uint64_t seed)
    : link_(std::move(link)), profile_(profile_options(seed)) {
    if (parse_key(key_hex, key_)) throw std::invalid_argument("synthetic_meter: bad key");
}

synthetic_meter::~synthetic_meter() {
    unplug();
}

void synthetic_meter::plug() {
    if (auto ec = pty_.open(link_)) {
        throw std::runtime_error("cannot create a pseudo-terminal at " + link_ + ": " +
                                 ec.message());
    }
    const int flags = ::fcntl(pty_.master_fd(), F_GETFL);
    ::fcntl(pty_.master_fd(), F_SETFL, flags | O_NONBLOCK);
}

void synthetic_meter::unplug() {
    pty_.close();
}

synthetic_meter::push synthetic_meter::next_push(std::chrono::milliseconds elapsed) {
    simulated_push s = profile_.next(elapsed);
    std::vector<std::uint8_t> apdu;
    if (encoder_.encrypt(telegram_encoder::encode_kaifa_notification(s.push), key_, std::nullopt,
                         title_, frame_counter_++, 0x20, apdu)) {
        throw std::runtime_error("synthetic_meter: encryption failed");
    }
    return {telegram_encoder::segment_mbus(apdu, 245), std::move(s.expected)};
}

bool synthetic_meter::write(std::span<const std::uint8_t> data) {
    while (!data.empty()) {
        if (!plugged()) return false;
        const ssize_t n = ::write(pty_.master_fd(), data.data(), data.size());
        if (n > 0) {
            data = data.subspan(static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return false;  // EAGAIN: nobody reads and the buffer is full
        }
    }
    return true;
}

bool synthetic_meter::write_paced(std::span<const std::uint8_t> data, unsigned baud) {
    const auto per_byte = std::chrono::nanoseconds(11'000'000'000LL / baud);
    auto next = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < data.size(); i += 8) {
        const std::size_t n = std::min<std::size_t>(8, data.size() - i);
        if (!write(data.subspan(i, n))) return false;
        next += per_byte * static_cast<long>(n);
        if (i + n < data.size()) std::this_thread::sleep_until(next);
    }
    return true;
}

bool synthetic_meter::send(const push& p) {
    std::vector<std::uint8_t> all;
    for (const auto& f : p.frames)
        all.insert(all.end(), f.begin(), f.end());
    return write(all);
}

bool synthetic_meter::send_paced(const push& p, std::chrono::milliseconds gap) {
    for (std::size_t i = 0; i < p.frames.size(); ++i) {
        if (i > 0) std::this_thread::sleep_for(gap);
        if (!write_paced(p.frames[i])) return false;
    }
    return true;
}

}  // namespace evn_mbus::test

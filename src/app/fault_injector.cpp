#include "fault_injector.hpp"

#include "evn_mbus/telegram_encoder.hpp"

namespace evn_mbus {
namespace {

bool probability(double p) {
    return p >= 0.0 && p <= 1.0;
}

}  // namespace

bool fault_options::valid() const noexcept {
    return probability(corrupt) && probability(drop_frame) && probability(truncate) &&
           probability(oversize);
}

// The faults draw from their own sequence, so that the made-up values do not change with
// the faults asked for.
fault_injector::fault_injector(const fault_options& options, std::uint64_t seed)
    : options_(options), rng_(seed ^ 0x6661756C74ULL) {}

double fault_injector::unit_random() {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

const char* fault_injector::apply(push_bytes& p) {
    const fault_options& o = options_;
    if (p.frames.size() >= 2 && o.drop_frame > 0 && unit_random() < o.drop_frame) {
        const auto i = static_cast<std::size_t>(1 + rng_() % (p.frames.size() - 1));
        p.frames.erase(p.frames.begin() + static_cast<std::ptrdiff_t>(i));
        return "drop_frame";
    }
    // A frame cut off mid-way (a meter reset, a loose wire): the rest never comes.
    if (!p.frames.empty() && o.truncate > 0 && unit_random() < o.truncate) {
        auto& f = p.frames[static_cast<std::size_t>(rng_() % p.frames.size())];
        if (f.size() >= 2) {
            f.resize(static_cast<std::size_t>(1 + rng_() % (f.size() - 1)));
            return "truncate";
        }
    }
    // A first frame with more user data than an M-Bus long frame can carry (a babbling
    // transmitter): L keeps only the low byte of the length, so it no longer describes the
    // frame. Only M-Bus long frames (68 L L 68 ... CS 16) are grown.
    if (!p.frames.empty() && o.oversize > 0 && unit_random() < o.oversize) {
        auto& f = p.frames.front();
        if (f.size() >= 9 && f[0] == 0x68 && f[3] == 0x68) {
            std::vector<std::uint8_t> user(f.begin() + 4, f.end() - 2);
            const std::size_t grow = (user.size() < 259 ? 259 - user.size() : 0) + rng_() % 64;
            for (std::size_t k = 0; k < grow; ++k)
                user.push_back(static_cast<std::uint8_t>(rng_()));
            f = telegram_encoder::mbus_long_frame(user);
            return "oversize";
        }
    }
    bool corrupted = false;
    if (o.corrupt > 0) {
        for (auto& f : p.frames) {
            if (f.empty() || unit_random() >= o.corrupt) continue;
            f[static_cast<std::size_t>(rng_() % f.size())] ^=
                static_cast<std::uint8_t>(1U << (rng_() % 8));
            corrupted = true;
        }
    }
    return corrupted ? "corrupt" : "none";
}

std::vector<std::uint8_t> fault_injector::noise() {
    if (!options_.noise) return {};
    std::vector<std::uint8_t> out(static_cast<std::size_t>(1 + rng_() % 48));
    for (auto& b : out)
        b = static_cast<std::uint8_t>(rng_());
    return out;
}

}  // namespace evn_mbus

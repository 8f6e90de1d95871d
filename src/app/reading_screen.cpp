#include "reading_screen.hpp"

#include <spdlog/fmt/fmt.h>

#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"
#include "plausibility_message.hpp"
#include "reading_text.hpp"

namespace evn_mbus {
namespace {

// What a repeat, an old telegram, an accepted reset and a jump are told as, once per push;
// nullptr for the verdicts told otherwise (gaps) or not at all. {0}: the meter, {1}: the
// counter received, {2}: the one before.
const char* verdict_text(counter_verdict v) {
    switch (v) {
        case counter_verdict::duplicate:
            return "meter {0} sent push counter {1} again (last {2}): a replayed or repeated "
                   "telegram; not published";
        case counter_verdict::backwards:
            return "meter {0} sent push counter {1}, lower than the last one ({2}): an old "
                   "telegram replayed, or the meter was reset; not published (if the meter keeps "
                   "counting up from there, it is taken as reset after a few pushes)";
        case counter_verdict::reset_accepted:
            return "meter {0} keeps counting up from push counter {1} (the last one before was "
                   "{2}): the meter was reset; publishing again";
        case counter_verdict::jump:
            return "the push counter of meter {0} jumped from {2} to {1}, further than pushes "
                   "can have been lost in the meantime: the meter was probably restarted or "
                   "replaced; counting on from here";
        default:
            return nullptr;
    }
}

}  // namespace

void reading_screen::set_max_power_kw(unsigned kw) {
    max_power_kw_ = kw;
    gate_.set_max_power_w(kw * 1000.0);
}

// Lost, repeated and replayed pushes, by the GCM frame counter (the rules are in
// frame_counter_monitor.hpp). A repeat or an old telegram is told once per push; gaps are
// rate-limited, since a bad wire loses pushes all the time.
bool reading_screen::frame_counter_ok(const reading& r) {
    const auto now = std::chrono::steady_clock::now();
    const counter_check c = counters_.check(r, now);
    stats_.counters = counters_.stats();
    const std::string meter = meter_label(r);
    if (const char* text = verdict_text(c.verdict)) {
        // A jump is no fault of anyone's; the rest may be an attack or a broken meter.
        const auto level =
            c.verdict == counter_verdict::jump ? spdlog::level::info : spdlog::level::warn;
        log_->log(level, fmt::runtime(text), meter, c.counter, c.previous);
    }
    if (c.verdict == counter_verdict::gap) {
        // Telegrams dropped since the last reading (a wrong key, damage) are pushes that
        // did arrive: only the rest can have been lost on the wire.
        const std::uint64_t failed = stats_.failures_total() - failures_at_last_reading_;
        std::uint64_t suppressed = 0;
        if (failed > 0) {
            log_gap_of_failures(c, meter, failed, now);
        } else if (limiter_.should_log("lost_pushes", now, suppressed)) {
            log_->warn(
                "{} {} from meter {} {} lost on the wire (counter {} -> {}){}: check the "
                "wiring and the M-Bus interface if this repeats",
                c.lost, c.lost == 1 ? "push" : "pushes", meter, c.lost == 1 ? "was" : "were",
                c.previous, c.counter,
                suppressed > 0
                    ? fmt::format(" ({} more gaps since the last such message)", suppressed)
                    : std::string());
        }
    }
    failures_at_last_reading_ = stats_.failures_total();
    key_changed_ = false;
    return c.publish();
}

// A counter gap with dropped telegrams in between: say what happened to the pushes (they
// came, but could not be decrypted or were damaged) instead of blaming the wire.
void reading_screen::log_gap_of_failures(const counter_check& c, const std::string& meter,
                                         std::uint64_t failed,
                                         std::chrono::steady_clock::time_point now) {
    std::uint64_t suppressed = 0;
    if (!limiter_.should_log("dropped_pushes", now, suppressed)) return;
    const std::string pushes = fmt::format("{} {}", c.lost, c.lost == 1 ? "push" : "pushes");
    const std::string more =
        suppressed > 0 ? fmt::format(" ({} more such gaps since the last such message)", suppressed)
                       : std::string();
    if (failed >= c.lost) {
        if (key_changed_) {
            log_->warn(
                "{} from meter {} (counter {} -> {}) could not be decrypted with the key in "
                "force before the reload and {} dropped; the new key works{}",
                pushes, meter, c.previous, c.counter, c.lost == 1 ? "was" : "were", more);
        } else {
            log_->warn(
                "{} from meter {} (counter {} -> {}) arrived but {} dropped as failed (see "
                "the 'telegram dropped' messages for why){}",
                pushes, meter, c.previous, c.counter, c.lost == 1 ? "was" : "were", more);
        }
        return;
    }
    log_->warn(
        "{} from meter {} are missing (counter {} -> {}): {} arrived but {} dropped as failed{}, "
        "the other {} {} lost on the wire: check the wiring and the M-Bus interface if this "
        "repeats{}",
        pushes, meter, c.previous, c.counter, failed, failed == 1 ? "was" : "were",
        key_changed_ ? " while the key was wrong" : "", c.lost - failed,
        c.lost - failed == 1 ? "was" : "were", more);
}

// Impossible readings of meters without a GCM tag (the rules are in plausibility_gate.hpp):
// not published, counted, and told once a minute per reason.
bool reading_screen::plausible(const reading& r) {
    const auto now = std::chrono::steady_clock::now();
    const plausibility_check c = gate_.check(r, now);
    stats_.plausibility = gate_.stats();
    const std::string text =
        describe_plausibility(c, meter_label(r), max_power_kw_, gate_.options().accept_after);
    if (c.verdict == plausibility_verdict::new_level_accepted) {
        log_->warn("{}", text);
    } else if (!c.publish()) {
        std::uint64_t suppressed = 0;
        if (limiter_.should_log(std::string("implausible_") + to_string(c.verdict), now,
                                suppressed)) {
            log_->warn("{}{}", text,
                       suppressed > 0 ? fmt::format(" ({} more like this since the last such "
                                                    "message)",
                                                    suppressed)
                                      : std::string());
        }
    }
    return c.publish();
}

void reading_screen::dropped(const std::error_code& ec, std::span<const std::uint8_t> raw) {
    const std::string name(error_name(ec));
    ++stats_.failures[name];
    stats_.last_error = name;
    stats_.last_error_at = std::chrono::system_clock::now();
    std::uint64_t suppressed = 0;
    if (limiter_.should_log(name, std::chrono::steady_clock::now(), suppressed)) {
        if (suppressed > 0) {
            log_->warn("telegram dropped: {} ({} more like this since the last such message)",
                       ec.message(), suppressed);
        } else {
            log_->warn("telegram dropped: {}", ec.message());
        }
    }
    if (!raw.empty() && log_->should_log(spdlog::level::debug)) {
        log_->debug("dropped bytes ({}): {}", name, to_hex(raw));
    }
}

}  // namespace evn_mbus

// Plausibility gate for pushes that nothing authenticates: a reading that cannot be what the
// meter measured is not published.
//
// Why: security 0x20 (EVN, Kaernten Netz, Wiener Netze) encrypts with AES-GCM but sends no
// tag (IEC 62056-5-3 9.2.7.2.4: without the A bit, GCM is plain counter mode), so one bit
// flipped on the wire flips the same bit of the plaintext and still decodes; the M-Bus and
// HDLC checksums are 8 and 16 bits and a burst can pass them. One flipped bit 24 of A+ turned
// 7,016,121 Wh into 23,793,337 Wh between two readings of 7,016,121, and Home Assistant's
// energy dashboard counts a published jump as consumption forever. The rules, per meter
// (system title):
// - A reading whose GCM tag was verified (security 0x30 with the auth key) cannot have been
//   changed on the way: `authenticated`, published, not checked (checks would only add false
//   rejections to what the tag already proves).
// - The first reading sets the baseline: there is nothing to compare it with (holding it back
//   until a second one agrees would delay every start, and a damaged first one is as rare as
//   any other). The last plausible reading is the baseline for the next one. Should the first
//   one have been damaged, the intact ones after it fail against it and are taken as a new
//   level after `accept_after` of them: the damage costs two readings and is published once.
// - Structure: the same values in the same order (OBIS code, scaler, unit), the same layout
//   and meter number as the baseline. A flipped OBIS byte would publish under another name, a
//   flipped scaler a thousandfold value.
// - Energy registers (OBIS 1-b:C.8.E: A+, A-, R+, R-, tariffs, apparent energy: cumulative
//   since the meter was made) never go down.
// - And never rise faster than `max_power_w` times the time since the baseline. The time is
//   the meter clock's when both readings have one and it went forward (replays and buffered
//   lines keep it right), else the time the daemon received them; plus `clock_slack` (the
//   clock has whole seconds) and one step of the register's resolution (10^scaler). So a long
//   gap allows a correspondingly larger rise. Reactive energy uses the same bound: |Q| <= S.
//   Default 60 kW: a 3 x 63 A supply (the largest house connection Austrian operators fuse)
//   draws 3 x 63 A x 230 V = 43.5 kW; 253 V (EN 50160: +10%) and the 1.25 x rated current a
//   gG fuse carries for an hour (IEC 60269-1) give 3 x 63 x 1.25 x 253 = 59.8 kW.
// - A reading that fails is not published. When `accept_after` readings in a row fail against
//   the baseline but each is plausible against the one before it (a meter exchanged or reset,
//   a firmware update with new values), the last of them is published as
//   `new_level_accepted` and becomes the baseline: with 3, such a change costs two readings.
//   A damaged push is followed by an intact one, which passes against the baseline and ends
//   the run.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "evn_mbus/obis_code.hpp"
#include "evn_mbus/reading.hpp"
#include "evn_mbus/system_title.hpp"

namespace evn_mbus {

enum class plausibility_verdict : std::uint8_t {
    authenticated,      // GCM tag verified: publish, not checked
    first,              // first reading of this meter: the baseline; publish
    plausible,          // publish; the new baseline
    structure_changed,  // other values, order, scaler, unit, layout or meter number: do not publish
    backwards,          // an energy register went down: do not publish
    too_fast,           // an energy register rose faster than the maximum power: do not publish
    new_level_accepted,  // `accept_after` consistent readings at a new level: publish, baseline
};

// "authenticated", "plausible", "too_fast", ... for logs, stats and tests.
const char* to_string(plausibility_verdict v) noexcept;

struct plausibility_check {
    plausibility_verdict verdict = plausibility_verdict::authenticated;
    // What failed against the baseline (backwards, too_fast, and new_level_accepted when a
    // register was the reason): the register, its value then and now (scaled, in Wh or varh).
    obis_code code{};
    double previous = 0.0;
    double value = 0.0;
    double seconds = 0.0;         // time between the baseline and this reading
    bool by_meter_clock = false;  // `seconds` from the meter clock (else receive time)
    double allowed = 0.0;         // too_fast: the largest rise `max_power_w` allows
    // structure_changed: the first position that differs and the counts of values.
    std::size_t position = 0;
    std::size_t previous_values = 0;
    std::size_t values = 0;
    bool structure = false;  // new_level_accepted: the structure changed (else a register)
    std::uint32_t run = 0;   // readings in a row at the new level, this one included

    bool publish() const noexcept;
};

struct plausibility_stats {
    std::uint64_t structure_changed = 0;  // readings not published, by reason
    std::uint64_t backwards = 0;
    std::uint64_t too_fast = 0;
    std::uint64_t new_levels = 0;  // accepted new levels (meter exchanged or reset)

    std::uint64_t rejected() const noexcept { return structure_changed + backwards + too_fast; }
};

struct plausibility_options {
    double max_power_w = 60'000.0;        // meter.max_power_kw x 1000
    std::uint32_t accept_after = 3;       // readings at a new level (2 at least)
    std::chrono::seconds clock_slack{2};  // added to the elapsed time
    std::size_t max_meters = 16;          // the least recently heard one is forgotten
};

// True for an energy register that only counts up (OBIS 1-b:C.8.E with a number, C one of
// the import/export/quadrant/apparent quantities, total or per phase; not the net 16.8).
bool is_energy_register(const obis_value& v) noexcept;

class plausibility_gate {
  public:
    using clock = std::chrono::steady_clock;

    explicit plausibility_gate(plausibility_options options = {});

    // Judges a decoded reading that arrived at `now`; updates the baseline and the counts.
    plausibility_check check(const reading& r, clock::time_point now);

    const plausibility_stats& stats() const noexcept { return stats_; }
    const plausibility_options& options() const noexcept { return options_; }
    // A new maximum power (SIGHUP); the baselines stay.
    void set_max_power_w(double watts) noexcept;
    // Every meter's baseline is dropped: the next reading of each starts a new one. For a
    // change of how values are read (meter.layout): a new structure is then intended, not
    // damage on the wire.
    void forget_baselines() noexcept { meters_.clear(); }

  private:
    struct entry {
        obis_code code{};
        std::int8_t scaler = 0;
        std::uint8_t unit = 255;
        bool has_scaler_unit = false;
        bool energy = false;
        double value = 0.0;  // scaled; energy registers only
    };
    struct snapshot {
        std::vector<entry> entries;
        value_layout layout = value_layout::empty;
        std::string meter_number;
        std::optional<std::chrono::sys_seconds> meter_clock;
        clock::time_point received{};
    };
    struct meter {
        snapshot good;       // the baseline
        snapshot candidate;  // the last of a run of readings that failed against it
        std::uint32_t run = 0;
        std::uint64_t heard = 0;
    };

    static void take(snapshot& s, const reading& r, clock::time_point now);
    // Compares `r` (as `s`, taken already) with `from`; verdict plausible or the reason.
    plausibility_check compare(const snapshot& from, const snapshot& s) const;
    void forget_one();

    plausibility_options options_;
    std::map<system_title, meter> meters_;
    plausibility_stats stats_;
    snapshot scratch_;
    std::uint64_t heard_ = 0;
};

}  // namespace evn_mbus

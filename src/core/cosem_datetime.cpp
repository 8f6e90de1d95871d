#include "evn_mbus/cosem_datetime.hpp"

#include <cstdio>

#include "evn_mbus/byte_reader.hpp"

namespace evn_mbus {
namespace {

using namespace std::chrono;

// Last Sunday of a month, 01:00 UTC: when EU summer time starts (March) and ends (October).
sys_seconds eu_switch(int y, unsigned m) {
    const sys_days last{year_month_weekday_last{year{y}, month{m}, weekday_last{Sunday}}};
    return sys_seconds{last} + hours{1};
}

}  // namespace

std::optional<cosem_datetime> cosem_datetime::parse(std::span<const std::uint8_t> b) noexcept {
    if (b.size() != 12) return std::nullopt;
    byte_reader r(b);
    cosem_datetime dt;
    std::uint16_t deviation = 0;
    // The size is checked: these reads cannot fail.
    r.be16(dt.year);
    r.u8(dt.month);
    r.u8(dt.day);
    r.u8(dt.day_of_week);
    r.u8(dt.hour);
    r.u8(dt.minute);
    r.u8(dt.second);
    r.u8(dt.hundredths);
    r.be16(deviation);
    r.u8(dt.status);
    dt.deviation = static_cast<std::int16_t>(deviation);
    return dt;
}

std::optional<sys_seconds> cosem_datetime::to_utc() const noexcept {
    // FFFFh/FFh mean "not specified"; FDh/FEh days and months are DST markers, not dates.
    if (year == 0xFFFF || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
        minute > 59 || second > 59) {
        return std::nullopt;
    }
    const year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                             std::chrono::day{day}};
    if (!ymd.ok()) return std::nullopt;
    const sys_seconds local = sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second};

    if (deviation != deviation_not_specified) {
        if (deviation < -720 || deviation > 720) return std::nullopt;
        return local + minutes{deviation};
    }
    // Not specified: Austrian meters keep Europe/Vienna local time.
    if (status != 0xFF) {
        const bool dst = (status & status_daylight_saving) != 0;
        return local - hours{dst ? 2 : 1};
    }
    const sys_seconds as_cet = local - hours{1};
    const bool summer = as_cet >= eu_switch(year, 3) && as_cet < eu_switch(year, 10);
    return summer ? local - hours{2} : as_cet;
}

std::string format_utc(std::chrono::sys_seconds t) {
    std::string out;
    format_utc(t, out);
    return out;
}

void format_utc(std::chrono::sys_seconds t, std::string& out) {
    const auto days = floor<std::chrono::days>(t);
    const year_month_day ymd{days};
    const hh_mm_ss hms{t - days};
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", year,
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                      static_cast<int>(hms.hours().count()),
                      static_cast<int>(hms.minutes().count()),
                      static_cast<int>(hms.seconds().count()));
        out.assign(buf);
        return;
    }
    // Digits by hand: snprintf took a tenth of a whole telegram's decoding time.
    char buf[20];
    const auto two = [&buf](std::size_t at, long v) {
        buf[at] = static_cast<char>('0' + v / 10);
        buf[at + 1] = static_cast<char>('0' + v % 10);
    };
    two(0, year / 100);
    two(2, year % 100);
    buf[4] = '-';
    two(5, static_cast<unsigned>(ymd.month()));
    buf[7] = '-';
    two(8, static_cast<unsigned>(ymd.day()));
    buf[10] = 'T';
    two(11, hms.hours().count());
    buf[13] = ':';
    two(14, hms.minutes().count());
    buf[16] = ':';
    two(17, hms.seconds().count());
    buf[19] = 'Z';
    out.assign(buf, sizeof buf);
}

}  // namespace evn_mbus

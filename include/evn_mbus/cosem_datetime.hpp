// COSEM date-time (Blue Book DLMS UA 1000-1 Ed. 14, 4.1.6.1): 12 bytes
//   year(2, big endian) month day day-of-week hour minute second hundredths
//   deviation(int16, minutes, local time to UTC; 8000h = not specified) clock-status
// Clock status bit 7 (80h) is "daylight saving active".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace evn_mbus {

struct cosem_datetime {
    static constexpr std::int16_t deviation_not_specified = INT16_MIN;  // 8000h
    static constexpr std::uint8_t status_daylight_saving = 0x80;

    std::uint16_t year = 0;  // FFFFh: not specified
    std::uint8_t month = 0;  // FFh, FDh, FEh: not specified / DST begin / DST end
    std::uint8_t day = 0;
    std::uint8_t day_of_week = 0;
    std::uint8_t hour = 0;
    std::uint8_t minute = 0;
    std::uint8_t second = 0;
    std::uint8_t hundredths = 0;
    std::int16_t deviation = deviation_not_specified;
    std::uint8_t status = 0xFF;

    // Parses exactly 12 bytes; nullopt for any other length.
    static std::optional<cosem_datetime> parse(std::span<const std::uint8_t> bytes) noexcept;

    // The instant in UTC. UTC = local + deviation minutes. Where the deviation is not specified
    // the time is taken as Europe/Vienna local time: CEST if the status says daylight saving,
    // CET if it says not; with no valid status the EU rule (last Sunday of March/October, 01:00
    // UTC) decides. nullopt when a date or time field is not specified or out of range.
    std::optional<std::chrono::sys_seconds> to_utc() const noexcept;
};

// "2025-01-02T03:04:05Z"
std::string format_utc(std::chrono::sys_seconds t);
// The same, written into `out` (replacing its contents, reusing its capacity).
void format_utc(std::chrono::sys_seconds t, std::string& out);

}  // namespace evn_mbus

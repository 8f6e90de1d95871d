// Where the simulator's pushes come from (a made-up household, a replayed capture): one push
// at a time, as the M-Bus or HDLC frames the meter sends, with what an intact push decodes
// to. Pacing (line_pacer) and faults (fault_injector) are applied afterwards, by others.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

namespace evn_mbus {

struct push_bytes {
    std::vector<std::vector<std::uint8_t>> frames;  // sent with a gap between them
    nlohmann::json expected;  // what an intact push decodes to; null if unknown
};

class push_source {
  public:
    virtual ~push_source() = default;
    virtual std::error_code next(push_bytes& out) = 0;
};

}  // namespace evn_mbus

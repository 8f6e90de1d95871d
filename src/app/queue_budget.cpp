#include "queue_budget.hpp"

namespace evn_mbus {

std::optional<queue_bound> queue_budget::full_for(std::size_t incoming) const noexcept {
    if (readings_ == 0) return std::nullopt;
    if (readings_ >= max_readings_) return queue_bound::readings;
    if (bytes_ + incoming > max_bytes_) return queue_bound::bytes;
    return std::nullopt;
}

void queue_budget::add(std::size_t bytes) noexcept {
    ++readings_;
    bytes_ += bytes;
}

void queue_budget::remove(std::size_t bytes) noexcept {
    if (readings_ > 0) --readings_;
    bytes_ = bytes > bytes_ ? 0 : bytes_ - bytes;
}

std::size_t allocation_bytes(std::size_t n) noexcept {
    if (n == 0) return 0;
    const std::size_t chunk = (n + 8 + 15) & ~std::size_t{15};
    return chunk < 32 ? 32 : chunk;
}

std::size_t heap_bytes(const std::string& s) noexcept {
    // libstdc++ keeps up to 15 characters inside the string object.
    return s.capacity() > 15 ? allocation_bytes(s.capacity() + 1) : 0;
}

}  // namespace evn_mbus

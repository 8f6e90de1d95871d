#include "evn_mbus/frame_buffer.hpp"

namespace evn_mbus {

void frame_buffer::compact() {
    release();
    if (pos_ == 0) return;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    flush_until_ = flush_until_ > pos_ ? flush_until_ - pos_ : 0;
    pos_ = 0;
}

}  // namespace evn_mbus

#include "replay_source.hpp"

#include "evn_mbus/mbus_frame_assembler.hpp"
#include "evn_mbus/telegram_decoder.hpp"
#include "reading_json.hpp"

namespace evn_mbus {

replay_source::replay_source(const std::vector<std::uint8_t>& capture, const aes_key& key) {
    mbus_frame_assembler assembler;
    assembler.feed(capture);
    assembler.on_idle_gap();
    std::vector<std::vector<std::uint8_t>> current;
    for (;;) {
        const mbus_frame_event ev = assembler.next();
        if (ev.what == mbus_frame_event::kind::need_more) break;
        if (ev.what == mbus_frame_event::kind::error) continue;
        const mbus_frame& f = ev.frame;
        const bool dlms = f.ci <= 0x1F;
        if (!current.empty() && (!dlms || (f.ci & 0x0F) == 0)) {
            add(std::move(current), key);
            current.clear();
        }
        current.emplace_back(f.raw.begin(), f.raw.end());
        if (!dlms || (f.ci & 0x10) != 0) {
            add(std::move(current), key);
            current.clear();
        }
    }
    if (!current.empty()) add(std::move(current), key);
    if (pushes_.empty()) add({capture}, key);
}

std::error_code replay_source::next(push_bytes& out) {
    out = pushes_[next_];
    next_ = (next_ + 1) % pushes_.size();
    return {};
}

// The only truth about a recorded push is what it decodes to: null if the key does not fit
// or the push is incomplete.
void replay_source::add(std::vector<std::vector<std::uint8_t>> frames, const aes_key& key) {
    push_bytes p;
    p.frames = std::move(frames);
    telegram_decoder decoder(decoder_keys{key, std::nullopt});
    for (const auto& f : p.frames)
        decoder.feed(f);
    decoder.on_idle_gap();
    for (;;) {
        const decode_event ev = decoder.next();
        if (ev.what == decode_event::kind::need_more) break;
        if (ev.what == decode_event::kind::reading) {
            p.expected = to_json(*ev.value);
            break;
        }
    }
    pushes_.push_back(std::move(p));
}

}  // namespace evn_mbus

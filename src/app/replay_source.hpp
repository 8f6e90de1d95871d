// The pushes of a capture file, over and over: the recorded bytes as they are (the same
// frame counters each round), split into pushes by their M-Bus frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "evn_mbus/hex.hpp"
#include "push_source.hpp"

namespace evn_mbus {

class replay_source final : public push_source {
  public:
    // Splits the capture into pushes by its M-Bus frames (CI: segment 0 starts a push, bit 10h
    // ends it). A capture without M-Bus frames (HDLC meters) is sent as one block. Garbage
    // between frames is not replayed. `key` only tells what each push decodes to.
    replay_source(const std::vector<std::uint8_t>& capture, const aes_key& key);

    std::error_code next(push_bytes& out) override;

    std::size_t size() const noexcept { return pushes_.size(); }

  private:
    void add(std::vector<std::vector<std::uint8_t>> frames, const aes_key& key);

    std::vector<push_bytes> pushes_;
    std::size_t next_ = 0;
};

}  // namespace evn_mbus

// A bounds-checked cursor over received bytes, used for every header the core reads.
//
// DLMS/COSEM sends multi-byte integers most significant byte first: the APDU headers of
// IEC 62056-5-3 (invoke-id, frame counter, block numbers) and A-XDR (IEC 62056-6-2, 4.1.5:
// fixed-length integers, the length field of 9.3 / Green Book 9.2.7.2) alike; so do the HDLC
// format and address fields (IEC 62056-46, ISO/IEC 13239 Annex H.4).
//
// Every read checks that its bytes are there. A read that would pass the end returns false,
// leaves its output and the position unchanged and marks the reader failed; once failed, every
// further read fails too, so a chain of reads can be checked once at the end. Nothing here can
// read past the span. All of it is inline: these reads sit on the decoder's hot path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace evn_mbus {

class byte_reader {
  public:
    constexpr explicit byte_reader(std::span<const std::uint8_t> in) noexcept : in_(in) {}

    constexpr std::size_t position() const noexcept { return pos_; }
    constexpr std::size_t remaining() const noexcept { return in_.size() - pos_; }
    constexpr bool at_end() const noexcept { return pos_ == in_.size(); }
    // True once a read asked for more bytes than there were.
    constexpr bool failed() const noexcept { return failed_; }
    // The bytes not read yet.
    constexpr std::span<const std::uint8_t> rest() const noexcept { return in_.subspan(pos_); }

    // The next byte without consuming it.
    constexpr bool peek(std::uint8_t& v) noexcept {
        if (!check(1)) return false;
        v = in_[pos_];
        return true;
    }

    constexpr bool u8(std::uint8_t& v) noexcept {
        if (!check(1)) return false;
        v = in_[pos_++];
        return true;
    }

    // An unsigned big-endian integer of `n` bytes, 0 <= n <= 8.
    constexpr bool be(std::size_t n, std::uint64_t& v) noexcept {
        if (n > sizeof v || !check(n)) return fail();
        std::uint64_t x = 0;
        for (std::size_t i = 0; i < n; ++i)
            x = x << 8 | in_[pos_ + i];
        pos_ += n;
        v = x;
        return true;
    }

    constexpr bool be16(std::uint16_t& v) noexcept {
        if (!check(2)) return false;
        v = static_cast<std::uint16_t>(in_[pos_] << 8 | in_[pos_ + 1]);
        pos_ += 2;
        return true;
    }

    constexpr bool be32(std::uint32_t& v) noexcept {
        std::uint64_t x = 0;
        if (!be(4, x)) return false;
        v = static_cast<std::uint32_t>(x);
        return true;
    }

    // The next `n` bytes, as a view into the input.
    constexpr bool bytes(std::size_t n, std::span<const std::uint8_t>& out) noexcept {
        if (!check(n)) return false;
        out = in_.subspan(pos_, n);
        pos_ += n;
        return true;
    }

    // Exactly N bytes into a fixed array (a system title, a date-time).
    template <std::size_t N>
    constexpr bool copy(std::array<std::uint8_t, N>& out) noexcept {
        if (!check(N)) return false;
        for (std::size_t i = 0; i < N; ++i)
            out[i] = in_[pos_ + i];
        pos_ += N;
        return true;
    }

    constexpr bool skip(std::size_t n) noexcept {
        if (!check(n)) return false;
        pos_ += n;
        return true;
    }

  private:
    // Written as "n > remaining" so that a huge n cannot overflow pos_ + n.
    constexpr bool check(std::size_t n) noexcept {
        if (failed_ || n > in_.size() - pos_) return fail();
        return true;
    }
    constexpr bool fail() noexcept {
        failed_ = true;
        return false;
    }

    std::span<const std::uint8_t> in_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

}  // namespace evn_mbus

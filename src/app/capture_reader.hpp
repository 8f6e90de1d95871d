// Turns a capture, as it arrives in chunks, into the bytes of the line: hex text (as
// published or copied from a log, '#' comments allowed), an `xxd` dump, or raw bytes as a
// serial dump produced them. Sans-I/O: the caller reads, this decides and decodes, so that a
// pipe that stays open is decoded as it comes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evn_mbus {

class capture_reader {
  public:
    enum class format { undecided, hex, xxd, binary };

    // The next chunk of the input; the line bytes it completes are appended to `out`. "" or
    // what is wrong with the input (then stop: nothing after it is trusted).
    std::string feed(std::string_view chunk, std::vector<std::uint8_t>& out);
    // The input ended: the rest is decoded (or found wrong, as feed).
    std::string finish(std::vector<std::uint8_t>& out);

    format detected() const noexcept { return format_; }
    // "hex text", "an xxd dump", "raw bytes" for messages; "" while undecided.
    std::string_view format_name() const noexcept;

  private:
    // Decides the format from the start of the input once it can (`at_end`: nothing follows).
    bool decide(bool at_end);
    std::string take(std::string_view text, std::vector<std::uint8_t>& out);
    std::string take_hex(std::string_view text, std::vector<std::uint8_t>& out);
    std::string take_xxd_line(std::string_view line, std::vector<std::uint8_t>& out);
    std::string where() const;

    format format_ = format::undecided;
    std::string pending_;       // undecided: the start; xxd: a partial line
    bool bom_checked_ = false;  // the UTF-8 byte order mark of a Windows editor is skipped
    std::size_t line_ = 1;      // for messages
    // hex text
    int high_ = -1;              // the first digit of a byte, while its second is to come
    bool group_start_ = true;    // "0x" is a prefix only at the start of a group
    bool zero_pending_ = false;  // a '0' at a group start: "0x" or the first digit of a byte
    bool in_comment_ = false;
    // xxd
    bool have_offset_ = false;
    std::uint64_t next_offset_ = 0;  // where the next line must start: no line lost
};

}  // namespace evn_mbus

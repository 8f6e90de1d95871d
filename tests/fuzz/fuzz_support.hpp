// Shared pieces of the libFuzzer targets: the "line script" that turns one fuzz input into
// bytes arriving in chunks with idle gaps between some of them, and a check that aborts (so
// that libFuzzer keeps the input as a crash) when a documented property does not hold.
//
// Line script: byte 0 chooses the chunking, byte 1 how often the line goes idle, the rest are
// the bytes on the line. Seeds are made from the fixtures by make_seeds.py in this directory.
//   byte 0, bits 6-7: 0 = chunks of exactly m bytes, 1 = 1..m bytes, 2 = one chunk per idle
//                     gap segment, 3 = 1..4m bytes; bits 0-5: m - 1
//   byte 1:           an idle gap follows a chunk with probability byte/256 (0 = never); the
//                     line always goes idle after the last byte
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace evn_mbus::fuzz {

// Not assert(): the fuzz build may define NDEBUG, and a broken property must always be a crash.
#define EVN_MBUS_FUZZ_CHECK(condition)                                                      \
    do {                                                                                    \
        if (!(condition)) {                                                                 \
            std::fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, \
                         #condition);                                                       \
            std::abort();                                                                   \
        }                                                                                   \
    } while (false)

// A piece of the line: bytes, then (if idle_after) an idle gap.
struct line_chunk {
    std::span<const std::uint8_t> bytes;
    bool idle_after = false;
};

// Small deterministic generator: the same input always gives the same chunking.
class xorshift32 {
  public:
    explicit xorshift32(std::uint32_t seed) : state_(seed == 0 ? 0x9E3779B9u : seed) {}
    std::uint32_t next() noexcept {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 17;
        state_ ^= state_ << 5;
        return state_;
    }

  private:
    std::uint32_t state_;
};

// Splits the fuzz input into chunks as described at the top. The last chunk always ends with
// an idle gap, so that whatever is buffered must be decided on.
inline std::vector<line_chunk> line_script(std::span<const std::uint8_t> input) {
    std::vector<line_chunk> chunks;
    if (input.size() < 2) {
        chunks.push_back({input, true});
        return chunks;
    }
    const std::uint8_t mode = input[0] >> 6;
    const std::size_t m = static_cast<std::size_t>(input[0] & 0x3F) + 1;
    const std::uint32_t gap_rate = input[1];
    xorshift32 rng(static_cast<std::uint32_t>(input[0]) << 8 | input[1] | 0x5A000000u);
    const std::span<const std::uint8_t> line = input.subspan(2);

    std::size_t pos = 0;
    while (pos < line.size()) {
        const std::size_t rest = line.size() - pos;
        std::size_t n = m;
        bool idle = (rng.next() & 0xFF) < gap_rate;
        if (mode == 1) n = 1 + rng.next() % m;
        if (mode == 3) n = 1 + rng.next() % (4 * m);
        if (mode == 2) {
            // Whole segments between idle gaps, the segment length from the generator.
            n = gap_rate == 0 ? rest : 1 + rng.next() % rest;
            idle = true;
        }
        if (n > rest) n = rest;
        chunks.push_back({line.subspan(pos, n), idle});
        pos += n;
    }
    if (chunks.empty()) chunks.push_back({line, false});
    chunks.back().idle_after = true;
    return chunks;
}

// The same line with every chunk between two idle gaps joined into one: what the line carried,
// without the chunking. Parsers that promise "any chunking" must give the same events for both.
inline std::vector<line_chunk> join_between_gaps(const std::vector<line_chunk>& chunks) {
    std::vector<line_chunk> joined;
    bool open = false;
    for (const auto& c : chunks) {
        if (open && joined.back().bytes.data() + joined.back().bytes.size() == c.bytes.data()) {
            joined.back().bytes = {joined.back().bytes.data(),
                                   joined.back().bytes.size() + c.bytes.size()};
        } else {
            joined.push_back({c.bytes, false});
        }
        joined.back().idle_after = c.idle_after;
        open = !c.idle_after;
    }
    return joined;
}

// For a failed comparison: how the line was fed, and what came out, readably.
inline void print_chunks(const std::vector<line_chunk>& chunks) {
    std::fprintf(stderr, "line:");
    for (const auto& c : chunks) {
        std::fprintf(stderr, " [");
        for (const std::uint8_t b : c.bytes)
            std::fprintf(stderr, "%02X", b);
        std::fprintf(stderr, "]%s", c.idle_after ? " <idle>" : "");
    }
    std::fprintf(stderr, "\n");
}

inline void print_events(const char* title, const std::vector<std::string>& events) {
    std::fprintf(stderr, "%s: %zu events\n", title, events.size());
    for (const auto& e : events) {
        std::fprintf(stderr, "  ");
        for (const char c : e) {
            const auto u = static_cast<unsigned char>(c);
            if (u >= 0x20 && u < 0x7F) {
                std::fputc(c, stderr);
            } else {
                std::fprintf(stderr, "\\x%02X", u);
            }
        }
        std::fprintf(stderr, "\n");
    }
}

// An upper bound on next() calls before need_more: each call hands out or drops at least one
// byte, so more calls than bytes (plus slack) means a parser that does not make progress.
inline std::size_t max_calls(std::size_t bytes) {
    return 2 * bytes + 16;
}

// The property every stream target checks: the same bytes give the same events whether they
// arrive in the script's chunks or in one piece per idle gap. `run` maps chunks to events.
template <class Run>
void check_chunking_does_not_matter(const std::vector<line_chunk>& chunks, Run run) {
    const std::vector<std::string> chunked = run(chunks);
    const std::vector<std::string> joined = run(join_between_gaps(chunks));
    if (chunked != joined) {
        print_chunks(chunks);
        print_events("fed in chunks", chunked);
        print_events("fed in one piece per idle gap", joined);
    }
    EVN_MBUS_FUZZ_CHECK(chunked == joined);
}

// Feeds a link-layer framer (mbus_frame_assembler, hdlc_frame_assembler: feed, on_idle_gap,
// next, buffered, statistics) and describes its events; `check_frame` checks each frame's
// documented properties. Also checked: next() makes progress, an idle gap leaves nothing
// buffered, and the statistics count what was handed out.
template <class Assembler, class CheckFrame>
std::vector<std::string> run_framer(const std::vector<line_chunk>& chunks, std::size_t total,
                                    CheckFrame check_frame) {
    Assembler assembler;
    std::vector<std::string> events;
    std::uint64_t frames = 0;
    std::uint64_t errors = 0;
    for (const auto& chunk : chunks) {
        assembler.feed(chunk.bytes);
        if (chunk.idle_after) assembler.on_idle_gap();
        std::size_t calls = 0;
        for (;;) {
            EVN_MBUS_FUZZ_CHECK(++calls <= max_calls(total));
            const auto e = assembler.next();
            using kind = typename decltype(e)::kind;
            if (e.what == kind::need_more) break;
            if (e.what == kind::frame) {
                check_frame(e.frame);
                ++frames;
                events.push_back("frame " + std::string(e.frame.raw.begin(), e.frame.raw.end()));
            } else {
                EVN_MBUS_FUZZ_CHECK(e.error);
                ++errors;
                events.push_back("error " + e.error.message());
            }
        }
        if (chunk.idle_after) EVN_MBUS_FUZZ_CHECK(assembler.buffered() == 0);
        EVN_MBUS_FUZZ_CHECK(assembler.buffered() <= total);
    }
    const auto& s = assembler.statistics();
    EVN_MBUS_FUZZ_CHECK(s.frames == frames);
    EVN_MBUS_FUZZ_CHECK(s.bad_frames == errors);
    return events;
}

}  // namespace evn_mbus::fuzz

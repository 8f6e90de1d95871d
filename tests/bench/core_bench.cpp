// Decode throughput of the core: bytes of whole pushes in, readings out, one thread.
// Counts heap allocations per telegram too (the aim is none once the decoder is warm).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "evn_mbus/telegram_decoder.hpp"
#include "evn_mbus/telegram_encoder.hpp"
#include "fixture_loader.hpp"

namespace {

std::atomic<std::uint64_t> allocations{0};

}  // namespace

// Counting allocator: replaces the global operator new for this binary only.
void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

using evn_mbus::test::bytes;

// Decodes `stream` (whole pushes back to back) repeatedly; reports telegrams/s and
// allocations per telegram after a warm-up pass.
void run_decode(benchmark::State& state, const evn_mbus::decoder_keys& keys, const bytes& stream,
                std::size_t telegrams_per_stream) {
    evn_mbus::telegram_decoder decoder(keys);
    auto pass = [&] {
        std::size_t got = 0;
        decoder.feed(stream);
        for (;;) {
            const auto ev = decoder.next();
            if (ev.what == evn_mbus::decode_event::kind::need_more) break;
            if (ev.what == evn_mbus::decode_event::kind::reading) ++got;
        }
        return got;
    };
    if (pass() != telegrams_per_stream) {
        state.SkipWithError("the stream did not decode");
        return;
    }
    const std::uint64_t before = allocations.load();
    std::uint64_t telegrams = 0;
    for (auto _ : state) {
        telegrams += pass();
    }
    const std::uint64_t allocs = allocations.load() - before;
    state.SetItemsProcessed(static_cast<std::int64_t>(telegrams));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
    state.counters["telegrams/s"] =
        benchmark::Counter(static_cast<double>(telegrams), benchmark::Counter::kIsRate);
    state.counters["allocs/telegram"] =
        telegrams == 0 ? 0.0 : static_cast<double>(allocs) / static_cast<double>(telegrams);
}

void bm_real_capture(benchmark::State& state, const std::string& id) {
    const auto& c = evn_mbus::test::capture_by_id(id);
    run_decode(state, c.keys, evn_mbus::test::concat(c.frames), 1);
}

// 100 synthetic EVN Kaifa pushes with changing values, decoded as one stream.
void bm_synthetic_kaifa(benchmark::State& state) {
    evn_mbus::telegram_encoder encoder;
    evn_mbus::decoder_keys keys;
    std::mt19937 rng(42);
    for (auto& b : keys.key)
        b = static_cast<std::uint8_t>(rng());
    const evn_mbus::system_title title{'K', 'F', 'M', 0x67, 0x50, 0x00, 0x00, 0x09};
    bytes stream;
    constexpr std::size_t pushes = 100;
    for (std::size_t i = 0; i < pushes; ++i) {
        evn_mbus::kaifa_push push;
        push.invoke_id = static_cast<std::uint32_t>(i);
        push.clock = {2025, 1, 2, 4, 3, 4, 5, 0, -60, 0x00};
        push.registers = {
            {{1, 0, 1, 8, 0, 255}, 1000 + static_cast<std::int64_t>(i), 0, 30, false, true},
            {{1, 0, 1, 7, 0, 255}, static_cast<std::int64_t>(rng() % 5000), 0, 27, false, true},
            {{1, 0, 32, 7, 0, 255},
             2300 + static_cast<std::int64_t>(rng() % 50),
             -1,
             35,
             false,
             false},
        };
        push.meter_number = "181220000009";
        bytes apdu;
        const auto plain = evn_mbus::telegram_encoder::encode_kaifa_notification(push);
        if (encoder.encrypt(plain, keys.key, std::nullopt, title, static_cast<std::uint32_t>(i + 1),
                            0x20, apdu)) {
            state.SkipWithError("encrypt failed");
            return;
        }
        for (const auto& frame : evn_mbus::telegram_encoder::segment_mbus(apdu)) {
            stream.insert(stream.end(), frame.begin(), frame.end());
        }
    }
    run_decode(state, keys, stream, pushes);
}

}  // namespace

BENCHMARK_CAPTURE(bm_real_capture, evn_kaifa_ma309, std::string("evn_kaifa_ma309_doc"));
BENCHMARK_CAPTURE(bm_real_capture, tinetz_kaifa_ma309, std::string("tinetz_kaifa_ma309_doc"));
BENCHMARK_CAPTURE(bm_real_capture, evn_sagemcom_t210d, std::string("evn_sagemcom_t210d_fkw9"));
BENCHMARK_CAPTURE(bm_real_capture, lgz_e450_hdlc_gbt, std::string("lgz_e450_landis_gyr_e450"));
// The P1 port: a bare APDU whose plaintext is DSMR text (link auto-detected, CRC checked).
BENCHMARK_CAPTURE(bm_real_capture, steiermark_p1_dsmr, std::string("shrdzm_sagemcom_steiermark"));
BENCHMARK_CAPTURE(bm_real_capture, amis_netzooe_mode5, std::string("amis_netzooe_spec_example"));
BENCHMARK(bm_synthetic_kaifa);

BENCHMARK_MAIN();

#include "amis_report.hpp"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <vector>

namespace evn_mbus {
namespace {

constexpr const char* prefix = "evn-mbus simulate: ";

double ms(amis_master::clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// The value below which `share` of the sorted values lie (nearest rank).
double percentile(const std::vector<double>& sorted, double share) {
    if (sorted.empty()) return 0.0;
    const auto rank =
        static_cast<std::size_t>(std::ceil(share * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double rounded(double v) {
    return std::round(v * 1000.0) / 1000.0;
}

}  // namespace

void amis_report::say(const amis_master::result& r, std::uint64_t seq) {
    using outcome = amis_master::outcome;
    const bool search = r.which == amis_master::frame::search;
    const std::string what =
        search ? std::string("the search (SND_NKE)")
               : "push " + std::to_string(seq) +
                     (r.which == amis_master::frame::repeat ? " (sent again)" : "");
    switch (r.what) {
        case outcome::missing:
            if (search) {
                // Once a minute for ever while no reader listens: the first few, then every 10th.
                if (++unanswered_searches_ > 3 && unanswered_searches_ % 10 != 0) return;
                err_ << prefix << "nobody answered the search (SND_NKE) within 0.5 s ("
                     << unanswered_searches_
                     << " so far); is evn-mbus run reading this port with serial.link auto or "
                        "amis?\n";
                return;
            }
            err_ << prefix << what << ": no acknowledgement (E5h) within " << ms(r.latency)
                 << " ms; the meter sends it again, and after 10 in a row searches for its "
                    "reader (is evn-mbus run still reading this port?)\n";
            return;
        case outcome::late:
            err_ << prefix << what << ": acknowledgement came late, after " << ms(r.latency)
                 << " ms (the meter waits 500 ms)\n";
            return;
        case outcome::damaged_acknowledged:
            err_ << prefix << what
                 << ": the line damaged it, and the reader acknowledged it all the same (it "
                    "must not: the meter will not send it again)\n";
            return;
        case outcome::acknowledged:
            if (search) err_ << prefix << "the reader answered the search; pushes follow\n";
            return;
        case outcome::none:
        case outcome::damaged_unanswered:
        case outcome::unheard:
            return;
    }
}

nlohmann::json amis_report::figures(const amis_master::stats& s) {
    std::vector<double> latencies;
    latencies.reserve(s.latencies.size());
    for (const auto d : s.latencies)
        latencies.push_back(ms(d));
    std::sort(latencies.begin(), latencies.end());
    return {{"searches", s.searches},
            {"searches_answered", s.searches_answered},
            {"unanswered_searches", s.unanswered_searches},
            {"pushes", s.pushes},
            {"repeats", s.repeats},
            {"acknowledged", s.acknowledged},
            {"late", s.late},
            {"missing", s.missing},
            {"damaged", s.damaged},
            {"damaged_acknowledged", s.damaged_acknowledged},
            {"answered_unheard", s.answered_unheard},
            {"stray", s.stray},
            {"latency_ms",
             {{"count", latencies.size()},
              {"p50", rounded(percentile(latencies, 0.50))},
              {"p99", rounded(percentile(latencies, 0.99))},
              {"max", rounded(latencies.empty() ? 0.0 : latencies.back())}}}};
}

void amis_report::say_summary(const amis_master::stats& s) const {
    const nlohmann::json f = figures(s);
    err_ << prefix << s.pushes << " push(es) sent, " << s.repeats << " again; " << s.acknowledged
         << " acknowledged in time, " << s.late << " late, " << s.missing << " missing, "
         << s.damaged << " damaged on the line (" << s.damaged_acknowledged
         << " of them acknowledged: wrong), " << s.answered_unheard
         << " answers lost on purpose; searches " << s.searches << " (" << s.searches_answered
         << " answered)";
    if (!s.latencies.empty()) {
        const auto& l = f["latency_ms"];
        err_ << "; acknowledgement after the frame's last byte: p50 " << l["p50"].get<double>()
             << " ms, p99 " << l["p99"].get<double>() << " ms, max " << l["max"].get<double>()
             << " ms over " << s.latencies.size();
    }
    err_ << "\n";
}

}  // namespace evn_mbus

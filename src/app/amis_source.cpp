#include "amis_source.hpp"

#include <cmath>

#include "evn_mbus/cosem_datetime.hpp"

namespace evn_mbus {

amis_source::amis_source(const load_profile_options& profile, const aes_key& key,
                         std::chrono::milliseconds interval)
    : profile_(profile), key_(key), interval_(interval) {
    const std::string& number = profile_.meter_number();
    for (const char c : number) {
        if (c >= '0' && c <= '9') id_text_ += c;
    }
    id_text_ = id_text_.size() >= 8 ? id_text_.substr(id_text_.size() - 8)
                                    : std::string(8 - id_text_.size(), '0') + id_text_;
    for (const char c : id_text_)
        id_ = (id_ << 4) | static_cast<std::uint32_t>(c - '0');
}

std::error_code amis_source::next(push_bytes& out) {
    const simulated_push s = profile_.next(interval_);
    // The Kaifa registers in load_profile's order: A+, A-, P+, P-, U1-3 (0.1 V), I1-3
    // (0.01 A), power factor.
    const auto raw = [&](std::size_t i) { return s.push.registers.at(i).raw; };
    amis_push p;
    p.id = id_;
    p.access_number = access_number_;
    p.fcb = fcb_;
    p.clock = load_profile::vienna_clock(s.utc);
    p.w_p = static_cast<std::uint32_t>(raw(0));
    p.w_n = static_cast<std::uint32_t>(raw(1));
    p.p_p = static_cast<std::uint32_t>(raw(2));
    p.p_n = static_cast<std::uint32_t>(raw(3));
    // Reactive power: what the apparent power (U x I over the phases) holds beyond the
    // active power; a household's motors make it inductive (Q+).
    double apparent = 0.0;
    for (std::size_t i = 0; i < 3; ++i)
        apparent +=
            static_cast<double>(raw(4 + i)) / 10.0 * static_cast<double>(raw(7 + i)) / 100.0;
    const double active = static_cast<double>(p.p_p + p.p_n);
    p.q_p = static_cast<std::uint32_t>(
        std::llround(std::sqrt(std::max(0.0, apparent * apparent - active * active))));
    reactive_varh_ += p.q_p * std::chrono::duration<double>(interval_).count() / 3600.0;
    p.r_p = static_cast<std::uint32_t>(std::floor(reactive_varh_));
    out.frames.clear();
    if (auto ec = encoder_.encode(p, key_, out.frames.emplace_back())) return ec;

    const std::string clock = format_utc(s.utc);
    nlohmann::json obis = nlohmann::json::object();
    nlohmann::json j = nlohmann::json::object();
    const auto put = [&](const char* name, const char* code, const char* unit, std::int64_t v) {
        obis[code] = {{"unit", unit}, {"value", v}};
        if (*name != '\0') j[name] = v;
    };
    put("w_p", "1-0:1.8.0.255", "Wh", p.w_p);
    put("w_n", "1-0:2.8.0.255", "Wh", p.w_n);
    put("r_p_t1", "1-0:3.8.1.255", "varh", p.r_p);
    put("r_n_t1", "1-0:4.8.1.255", "varh", p.r_n);
    put("p_p", "1-0:1.7.0.255", "W", p.p_p);
    put("p_n", "1-0:2.7.0.255", "W", p.p_n);
    put("q_p", "1-0:3.7.0.255", "var", p.q_p);
    put("q_n", "1-0:4.7.0.255", "var", p.q_n);
    put("", "1-0:1.128.0.255", "Wh", p.vendor_register);
    // Derived as derived_values.hpp defines it: P+ - P-.
    j["p_net"] = std::int64_t{p.p_p} - std::int64_t{p.p_n};
    obis["0-0:1.0.0.255"] = {{"value", clock}};
    j["clock"] = clock;
    j["meter_number"] = id_text_;
    j["obis"] = std::move(obis);
    out.expected = std::move(j);
    return {};
}

}  // namespace evn_mbus

#include "derived_values.hpp"

#include <algorithm>
#include <limits>

namespace evn_mbus {
namespace {

constexpr derived_quantity derived_table[] = {
    {"p_net", "W", "net active power, import - export (P+ - P-)", "p_p", "p_n"},
    {"p1_net", "W", "net active power L1, import - export", "p1_p", "p1_n"},
    {"p2_net", "W", "net active power L2, import - export", "p2_p", "p2_n"},
    {"p3_net", "W", "net active power L3, import - export", "p3_p", "p3_n"},
};

// An integer-typed value as mantissa x 10^exponent; nullopt for floats and huge unsigneds.
struct decimal {
    std::int64_t mantissa = 0;
    int exponent = 0;
};

std::optional<decimal> decimal_of(const obis_value& v) {
    axdr_node n;
    n.type = v.type;
    if (n.is_unsigned_integer()) {
        if (v.raw_unsigned > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return decimal{static_cast<std::int64_t>(v.raw_unsigned), v.scaler};
    }
    if (n.is_signed_integer() || v.type == axdr_type::enumeration)
        return decimal{v.raw_signed, v.scaler};
    return std::nullopt;
}

// m x 10^k without overflow; k in 0..18.
std::optional<std::int64_t> shifted(std::int64_t m, int k) {
    std::int64_t out = m;
    for (int i = 0; i < k; ++i) {
        if (__builtin_mul_overflow(out, std::int64_t{10}, &out)) return std::nullopt;
    }
    return out;
}

// Exact powers of ten as doubles (10^22 is the last exact one).
double power_of_ten(int k) {
    double p = 1.0;
    for (int i = 0; i < k; ++i)
        p *= 10.0;
    return p;
}

// a - b on the decimals: at the finer exponent, divided once at the end.
std::optional<derived_value> exact_difference(const decimal& a, const decimal& b) {
    const int exponent = std::min(a.exponent, b.exponent);
    const auto ma = shifted(a.mantissa, a.exponent - exponent);
    const auto mb = shifted(b.mantissa, b.exponent - exponent);
    if (!ma || !mb) return std::nullopt;
    std::int64_t diff = 0;
    if (__builtin_sub_overflow(*ma, *mb, &diff)) return std::nullopt;
    derived_value out;
    if (exponent >= 0) {
        const auto whole = shifted(diff, exponent);
        if (!whole) return std::nullopt;
        out.integer = *whole;
        out.value = static_cast<double>(*whole);
    } else {
        out.value = static_cast<double>(diff) / power_of_ten(-exponent);
    }
    return out;
}

std::optional<derived_value> compute(const reading& r, const derived_quantity& q) {
    const obis_value* a = r.find_named(q.minuend);
    const obis_value* b = a ? r.find_named(q.subtrahend) : nullptr;
    if (!a || !b) return std::nullopt;
    std::optional<derived_value> out;
    const auto da = decimal_of(*a);
    const auto db = decimal_of(*b);
    if (da && db && da->exponent >= -18 && db->exponent >= -18) out = exact_difference(*da, *db);
    if (!out) out = derived_value{{}, a->scaled() - b->scaled(), std::nullopt};
    out->name = q.name;
    return out;
}

}  // namespace

std::span<const derived_quantity> derived_quantities() noexcept {
    return derived_table;
}

std::vector<derived_value> derived_values(const reading& r) {
    std::vector<derived_value> out;
    for (const auto& q : derived_table) {
        if (auto v = compute(r, q)) out.push_back(*v);
    }
    return out;
}

std::optional<derived_value> derived_value_of(const reading& r, std::string_view name) {
    for (const auto& q : derived_table) {
        if (q.name == name) return compute(r, q);
    }
    return std::nullopt;
}

}  // namespace evn_mbus

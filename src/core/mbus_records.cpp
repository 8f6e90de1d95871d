#include "evn_mbus/mbus_records.hpp"

#include <cmath>
#include <cstring>

#include "evn_mbus/cosem_datetime.hpp"
#include "evn_mbus/error.hpp"
#include "evn_mbus/hex.hpp"

namespace evn_mbus {
namespace {

constexpr std::uint8_t unit_w = 27, unit_var = 29, unit_wh = 30, unit_varh = 32;
constexpr std::size_t max_extensions = 10;          // DIFEs or VIFEs: EN 13757-3 allows 10
constexpr std::uint16_t manufacturer_sam = 0x4C2D;  // "SAM": Siemens AG Oesterreich (AMIS)

enum class quantity : std::uint8_t { none, energy, power, reactive_energy, reactive_power, clock };

struct record {
    unsigned data_field = 0;
    unsigned function = 0;
    std::uint64_t storage = 0;
    std::uint32_t tariff = 0;
    std::uint32_t subunit = 0;
    std::uint8_t vifs[max_extensions + 2]{};
    std::size_t vif_count = 0;
    std::span<const std::uint8_t> data;
};

// The data field's length in bytes; -1 for variable length (a length byte first), -2 for
// none that evn-mbus reads.
int data_length(unsigned field) noexcept {
    static constexpr int lengths[16] = {0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, -1, 6, -2};
    return lengths[field & 0x0F];
}

bool is_bcd(unsigned field) noexcept {
    return field >= 0x9 && field <= 0xE && field != 0xD;
}

// Type I (6 bytes) and type F (4 bytes) of EN 13757-3 Annex A: local time, the summer-time
// bit where the Netz Oberoesterreich specification puts it.
std::optional<std::chrono::sys_seconds> mbus_datetime(std::span<const std::uint8_t> b) noexcept {
    cosem_datetime t;
    std::size_t at = 0;
    bool summer = false;
    if (b.size() == 6) {
        t.second = b[0] & 0x3F;
        summer = (b[0] & 0x40) != 0;
        at = 1;
    } else if (b.size() == 4) {
        summer = (b[1] & 0x80) != 0;
    } else {
        return std::nullopt;
    }
    if ((b[at] & 0x80) != 0) return std::nullopt;  // "time invalid"
    t.minute = b[at] & 0x3F;
    t.hour = b[at + 1] & 0x1F;
    t.day = b[at + 2] & 0x1F;
    t.month = b[at + 3] & 0x0F;
    t.year =
        static_cast<std::uint16_t>(2000 + (((b[at + 3] & 0xF0) >> 1) | ((b[at + 2] & 0xE0) >> 5)));
    t.day_of_week = 0xFF;
    t.hundredths = 0;
    t.deviation = cosem_datetime::deviation_not_specified;  // Austrian local time
    t.status = summer ? cosem_datetime::status_daylight_saving : 0x00;
    return t.to_utc();
}

// What a record means: the quantity with its scaler, whether it counts backward, and the
// manufacturer-specific code after VIFE FFh (0 when none).
struct meaning {
    quantity what = quantity::none;
    int scaler = 0;
    bool backward = false;
    bool vendor = false;  // VIFE FFh: what follows is the manufacturer's
    std::uint8_t vendor_code = 0;
    bool unknown_extension = false;
};

meaning meaning_of(const record& r) {
    meaning m;
    const std::uint8_t vif = r.vifs[0] & 0x7F;
    std::size_t next = 1;
    if (r.vifs[0] == 0xFB && r.vif_count > 1) {  // the first extension table
        const std::uint8_t e = r.vifs[1] & 0x7F;
        next = 2;
        if ((e & 0x7E) == 0x02) {
            m.what = quantity::reactive_energy;
            m.scaler = (e & 0x01) + 3;  // kvarh x 10^n in varh
        } else if ((e & 0x7C) == 0x14) {
            m.what = quantity::reactive_power;
            m.scaler = e & 0x03;  // kvar x 10^(nn-3) in var
        }
    } else if ((vif & 0x78) == 0x00) {
        m.what = quantity::energy;
        m.scaler = (vif & 0x07) - 3;
    } else if ((vif & 0x78) == 0x28) {
        m.what = quantity::power;
        m.scaler = (vif & 0x07) - 3;
    } else if (vif == 0x6D) {
        m.what = quantity::clock;
    }
    for (std::size_t i = next; i < r.vif_count; ++i) {
        const std::uint8_t e = r.vifs[i] & 0x7F;
        if (e == 0x3C) {
            m.backward = true;
        } else if ((e & 0x78) == 0x70) {
            m.scaler += (e & 0x07) - 6;
        } else if (e == 0x7F) {
            // Every VIFE after FFh is the manufacturer's: one code and nothing else is known.
            m.vendor = true;
            if (i + 2 != r.vif_count) {
                m.unknown_extension = true;
            } else {
                m.vendor_code = r.vifs[i + 1];
            }
            break;
        } else {
            m.unknown_extension = true;
        }
    }
    return m;
}

// Little-endian signed integer (type B) or BCD (type A) into `v`.
void set_number(const record& r, obis_value& v) {
    if (is_bcd(r.data_field)) {
        std::uint64_t n = 0;
        for (std::size_t i = r.data.size(); i-- > 0;) {
            n = n * 100 + (r.data[i] >> 4) * 10 + (r.data[i] & 0x0F);
        }
        v.type = axdr_type::long64_unsigned;
        v.raw_unsigned = n;
        return;
    }
    if (r.data_field == 0x5) {
        float f = 0;
        std::uint32_t bits = static_cast<std::uint32_t>(r.data[0]) | r.data[1] << 8 |
                             r.data[2] << 16 | static_cast<std::uint32_t>(r.data[3]) << 24;
        std::memcpy(&f, &bits, sizeof f);
        v.type = axdr_type::float32;
        v.raw_float = f;
        return;
    }
    std::uint64_t n = 0;
    for (std::size_t i = r.data.size(); i-- > 0;)
        n = n << 8 | r.data[i];
    const unsigned bits = static_cast<unsigned>(r.data.size() * 8);
    std::int64_t s = static_cast<std::int64_t>(n);
    if (bits < 64 && (n >> (bits - 1)) != 0) s -= static_cast<std::int64_t>(1) << bits;
    v.type = r.data.size() <= 4 ? axdr_type::double_long : axdr_type::long64;
    v.raw_signed = s;
}

bool is_valid_bcd(std::span<const std::uint8_t> b) noexcept {
    for (const std::uint8_t c : b) {
        if ((c & 0x0F) > 9 || (c >> 4) > 9) return false;
    }
    return true;
}

// The record as a value of `out`; false when evn-mbus does not name it.
bool add_record(const record& r, std::uint16_t manufacturer, reading& out) {
    const meaning m = meaning_of(r);
    if (m.what == quantity::clock) {
        // The meter's own clock: type F or I, nothing else in the record, and only the first.
        if (r.function != 0 || r.storage != 0 || r.tariff != 0 || r.subunit != 0 ||
            r.vif_count != 1 || (r.data_field != 0x4 && r.data_field != 0x6) || out.clock) {
            return false;
        }
        const auto utc = mbus_datetime(r.data);
        if (!utc) return false;
        out.clock = utc;
        obis_value& v = out.values.emplace_back();
        v.code = obis_clock;
        v.type = axdr_type::date_time;
        v.text = out.take_text();
        format_utc(*utc, v.text);
        return true;
    }
    if (m.what == quantity::none || m.unknown_extension || r.function != 0 || r.storage != 0 ||
        r.subunit != 0 || r.data.empty() || r.data_field == 0xD || r.tariff > 255 ||
        (is_bcd(r.data_field) && !is_valid_bcd(r.data))) {
        return false;
    }
    // Each quantity's OBIS value groups C (forward, backward) and D, and its unit.
    struct target {
        quantity what;
        std::uint8_t c_forward, c_backward, d, unit;
    };
    static constexpr target targets[] = {
        {quantity::energy, 1, 2, 8, unit_wh},
        {quantity::power, 1, 2, 7, unit_w},
        {quantity::reactive_energy, 3, 4, 8, unit_varh},
        {quantity::reactive_power, 3, 4, 7, unit_var},
    };
    const target* t = nullptr;
    for (const target& candidate : targets) {
        if (candidate.what == m.what) t = &candidate;
    }
    if (t == nullptr) return false;
    std::uint8_t c = m.backward ? t->c_backward : t->c_forward;
    std::uint8_t d = t->d;
    const std::uint8_t e = static_cast<std::uint8_t>(r.tariff);
    const std::uint8_t unit = t->unit;
    if (m.vendor) {
        // Siemens AMIS: the manufacturer-specific energy register 1-0:1.128.0 (Netz
        // Oberoesterreich's specification), energy VIF then FFh 04h; nothing else is known.
        if (manufacturer != manufacturer_sam || m.what != quantity::energy || m.backward ||
            m.vendor_code != 0x04) {
            return false;
        }
        c = 1;
        d = 128;
    }
    if (m.scaler < -128 || m.scaler > 127) return false;
    if (r.data_field == 0x5) {  // a real: only a finite one is a reading
        float f = 0;
        const std::uint32_t bits = static_cast<std::uint32_t>(r.data[0]) | r.data[1] << 8 |
                                   r.data[2] << 16 | static_cast<std::uint32_t>(r.data[3]) << 24;
        std::memcpy(&f, &bits, sizeof f);
        if (!std::isfinite(f)) return false;
    }
    obis_value& v = out.values.emplace_back();
    v.code = obis_code{{1, 0, c, d, e, 255}};
    set_number(r, v);
    v.scaler = static_cast<std::int8_t>(m.scaler);
    v.unit = unit;
    v.has_scaler_unit = true;
    return true;
}

// A record evn-mbus does not name, into reading::unnamed_records by its header (not twice).
void pass_through(const record& r, std::span<const std::uint8_t> header, reading& out) {
    std::string key;
    to_hex(header, key);
    for (const mbus_record_value& known : out.unnamed_records) {
        if (known.header == key) return;
    }
    mbus_record_value& u = out.unnamed_records.emplace_back();
    u.header = std::move(key);
    // Integers (1-4, 6, 7), a real (5, four bytes), BCD with digits only.
    if ((r.data_field >= 0x1 && r.data_field <= 0x7) ||
        (is_bcd(r.data_field) && is_valid_bcd(r.data))) {
        set_number(r, u.value);
    } else {
        u.value.type = axdr_type::octet_string;
        to_hex(r.data, u.value.text);
    }
}

}  // namespace

std::error_code parse_mbus_records(std::span<const std::uint8_t> plain, reading& out,
                                   std::uint16_t manufacturer, std::size_t encrypted) {
    std::size_t pos = 0;
    while (pos < plain.size()) {
        const std::uint8_t dif = plain[pos++];
        if (dif == 0x2F) continue;  // filler
        if ((dif & 0x0F) == 0x0F) {
            // Manufacturer data to the end; inside the encrypted part of an AMIS push it is a
            // sign of a wrong key, not of data.
            if (pos <= encrypted) return errc::mbus_bad_record;
            break;
        }
        const std::size_t start = pos - 1;
        record r;
        r.data_field = dif & 0x0F;
        r.function = (dif >> 4) & 0x03;
        r.storage = (dif >> 6) & 0x01;
        bool more = (dif & 0x80) != 0;
        for (std::size_t n = 0; more; ++n) {
            if (n >= max_extensions || pos >= plain.size()) return errc::mbus_bad_record;
            const std::uint8_t dife = plain[pos++];
            r.storage |= static_cast<std::uint64_t>(dife & 0x0F) << (1 + 4 * n);
            r.tariff |= static_cast<std::uint32_t>((dife >> 4) & 0x03) << (2 * n);
            r.subunit |= static_cast<std::uint32_t>((dife >> 6) & 0x01) << n;
            more = (dife & 0x80) != 0;
        }
        more = true;
        while (more) {
            if (r.vif_count >= max_extensions + 1 || pos >= plain.size()) {
                return errc::mbus_bad_record;
            }
            const std::uint8_t vif = plain[pos++];
            r.vifs[r.vif_count++] = vif;
            more = (vif & 0x80) != 0;
        }
        if ((r.vifs[0] & 0x7F) == 0x7C) {  // plain-text unit: its length and text
            if (pos >= plain.size() || plain[pos] > plain.size() - pos - 1) {
                return errc::mbus_bad_record;
            }
            pos += 1 + plain[pos];
        }
        const std::size_t header_end = pos;
        int length = data_length(r.data_field);
        if (length == -2) return errc::mbus_bad_record;  // a special function mid-record
        if (length == -1) {
            if (pos >= plain.size()) return errc::mbus_bad_record;
            const std::uint8_t lvar = plain[pos++];
            if (lvar > 0xBF) return errc::mbus_bad_record;  // binary/BCD forms: not sent here
            length = lvar;
        }
        if (static_cast<std::size_t>(length) > plain.size() - pos) return errc::mbus_bad_record;
        r.data = plain.subspan(pos, static_cast<std::size_t>(length));
        pos += static_cast<std::size_t>(length);
        if (r.data_field == 0x8 || r.data.empty()) continue;  // no value
        if (!add_record(r, manufacturer, out)) {
            ++out.untagged_values;
            pass_through(r, plain.subspan(start, header_end - start), out);
        }
    }
    return {};
}

}  // namespace evn_mbus

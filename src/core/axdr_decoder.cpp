#include "evn_mbus/axdr_decoder.hpp"

#include <bit>
#include <cstring>

#include "evn_mbus/error.hpp"

namespace evn_mbus {

std::string_view axdr_type_name(axdr_type type) noexcept {
    switch (type) {
        case axdr_type::null_data:
            return "null-data";
        case axdr_type::array:
            return "array";
        case axdr_type::structure:
            return "structure";
        case axdr_type::boolean:
            return "boolean";
        case axdr_type::bit_string:
            return "bit-string";
        case axdr_type::double_long:
            return "double-long";
        case axdr_type::double_long_unsigned:
            return "double-long-unsigned";
        case axdr_type::octet_string:
            return "octet-string";
        case axdr_type::visible_string:
            return "visible-string";
        case axdr_type::utf8_string:
            return "utf8-string";
        case axdr_type::bcd:
            return "bcd";
        case axdr_type::integer:
            return "integer";
        case axdr_type::long_signed:
            return "long";
        case axdr_type::unsigned8:
            return "unsigned";
        case axdr_type::long_unsigned:
            return "long-unsigned";
        case axdr_type::long64:
            return "long64";
        case axdr_type::long64_unsigned:
            return "long64-unsigned";
        case axdr_type::enumeration:
            return "enum";
        case axdr_type::float32:
            return "float32";
        case axdr_type::float64:
            return "float64";
        case axdr_type::date_time:
            return "date-time";
        case axdr_type::date:
            return "date";
        case axdr_type::time:
            return "time";
    }
    return "unknown";
}

bool axdr_node::is_signed_integer() const noexcept {
    switch (type) {
        case axdr_type::double_long:
        case axdr_type::integer:
        case axdr_type::long_signed:
        case axdr_type::long64:
            return true;
        default:
            return false;
    }
}

bool axdr_node::is_unsigned_integer() const noexcept {
    switch (type) {
        case axdr_type::double_long_unsigned:
        case axdr_type::unsigned8:
        case axdr_type::long_unsigned:
        case axdr_type::long64_unsigned:
            return true;
        default:
            return false;
    }
}

bool axdr_node::is_number() const noexcept {
    return is_signed_integer() || is_unsigned_integer() || type == axdr_type::float32 ||
           type == axdr_type::float64 || type == axdr_type::enumeration;
}

bool axdr_node::is_bytes() const noexcept {
    switch (type) {
        case axdr_type::octet_string:
        case axdr_type::visible_string:
        case axdr_type::utf8_string:
        case axdr_type::date_time:
        case axdr_type::date:
        case axdr_type::time:
            return true;
        default:
            return false;
    }
}

double axdr_node::as_double() const noexcept {
    if (is_unsigned_integer()) return static_cast<double>(uint_value);
    if (is_signed_integer() || type == axdr_type::enumeration) {
        return static_cast<double>(int_value);
    }
    if (type == axdr_type::float32 || type == axdr_type::float64) return float_value;
    return 0.0;
}

namespace {

class walker {
  public:
    walker(std::span<const std::uint8_t> in, std::vector<axdr_node>& nodes,
           const axdr_limits& limits)
        : in_(in), nodes_(nodes), limits_(limits) {}

    std::error_code element(std::size_t depth) {
        if (depth >= limits_.max_depth) return errc::axdr_too_deep;
        if (nodes_.size() >= limits_.max_nodes) return errc::axdr_too_many_nodes;
        std::uint8_t tag = 0;
        if (!in_.u8(tag)) return errc::axdr_truncated;
        const std::size_t index = nodes_.size();
        nodes_.emplace_back();
        axdr_node& n = nodes_.back();
        n.type = static_cast<axdr_type>(tag);
        n.depth = static_cast<std::uint8_t>(depth);
        switch (n.type) {
            case axdr_type::null_data:
                return {};
            case axdr_type::array:
            case axdr_type::structure:
                return container(index, depth);
            case axdr_type::boolean:
                return signed_fixed(n, 1, false);
            case axdr_type::bcd:
                return signed_fixed(n, 1, false);
            case axdr_type::enumeration:
                return signed_fixed(n, 1, false);
            case axdr_type::integer:
                return signed_fixed(n, 1, true);
            case axdr_type::long_signed:
                return signed_fixed(n, 2, true);
            case axdr_type::double_long:
                return signed_fixed(n, 4, true);
            case axdr_type::long64:
                return signed_fixed(n, 8, true);
            case axdr_type::unsigned8:
                return unsigned_fixed(n, 1);
            case axdr_type::long_unsigned:
                return unsigned_fixed(n, 2);
            case axdr_type::double_long_unsigned:
                return unsigned_fixed(n, 4);
            case axdr_type::long64_unsigned:
                return unsigned_fixed(n, 8);
            case axdr_type::float32: {
                if (auto ec = unsigned_fixed(n, 4)) return ec;
                n.float_value = std::bit_cast<float>(static_cast<std::uint32_t>(n.uint_value));
                n.uint_value = 0;
                return {};
            }
            case axdr_type::float64: {
                if (auto ec = unsigned_fixed(n, 8)) return ec;
                n.float_value = std::bit_cast<double>(n.uint_value);
                n.uint_value = 0;
                return {};
            }
            case axdr_type::octet_string:
            case axdr_type::visible_string:
            case axdr_type::utf8_string: {
                std::size_t len = 0;
                if (!read_axdr_length(in_, len)) return errc::axdr_truncated;
                return bytes(n, len);
            }
            case axdr_type::bit_string: {
                std::size_t bits = 0;
                if (!read_axdr_length(in_, bits)) return errc::axdr_truncated;
                return bytes(n, (bits + 7) / 8);
            }
            case axdr_type::date_time:
                return bytes(n, 12);
            case axdr_type::date:
                return bytes(n, 5);
            case axdr_type::time:
                return bytes(n, 4);
        }
        return errc::axdr_unknown_type;
    }

    std::size_t position() const noexcept { return in_.position(); }

  private:
    std::error_code container(std::size_t index, std::size_t depth) {
        std::size_t count = 0;
        if (!read_axdr_length(in_, count)) return errc::axdr_truncated;
        // Every element takes at least one byte: a count beyond the bytes left is a lie, and
        // saying so now avoids walking a million phantom elements.
        if (count > in_.remaining()) return errc::axdr_truncated;
        if (count > limits_.max_nodes) return errc::axdr_too_many_nodes;
        for (std::size_t i = 0; i < count; ++i) {
            if (auto ec = element(depth + 1)) return ec;
        }
        // nodes_ may have reallocated: index, not a reference.
        nodes_[index].count = static_cast<std::uint32_t>(count);
        nodes_[index].subtree = static_cast<std::uint32_t>(nodes_.size() - index);
        return {};
    }

    std::error_code unsigned_fixed(axdr_node& n, std::size_t size) {
        if (!in_.be(size, n.uint_value)) return errc::axdr_truncated;
        return {};
    }

    std::error_code signed_fixed(axdr_node& n, std::size_t size, bool sign_extend) {
        if (auto ec = unsigned_fixed(n, size)) return ec;
        std::uint64_t v = n.uint_value;
        n.uint_value = 0;
        if (sign_extend && size < 8) {
            const std::uint64_t sign = std::uint64_t{1} << (8 * size - 1);
            v = (v ^ sign) - sign;
        }
        n.int_value = static_cast<std::int64_t>(v);
        return {};
    }

    std::error_code bytes(axdr_node& n, std::size_t len) {
        const std::size_t at = in_.position();
        if (!in_.skip(len)) return errc::axdr_truncated;
        n.offset = at;
        n.length = len;
        return {};
    }

    byte_reader in_;
    std::vector<axdr_node>& nodes_;
    const axdr_limits& limits_;
};

}  // namespace

std::error_code decode_axdr(std::span<const std::uint8_t> in, std::vector<axdr_node>& nodes,
                            std::size_t& consumed, const axdr_limits& limits) {
    nodes.clear();
    consumed = 0;
    walker w(in, nodes, limits);
    if (auto ec = w.element(0)) return ec;
    consumed = w.position();
    return {};
}

}  // namespace evn_mbus

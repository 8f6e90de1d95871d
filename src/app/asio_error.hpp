// Asio reports boost::system errors; the adapters compare and describe std::error_code. System
// (errno) errors become std::system_category ones, so that std::errc comparisons work; the rest
// (a resolver's netdb errors, Asio's own) keep their category and message.
#pragma once

#include <boost/system/error_code.hpp>

#include <system_error>

namespace evn_mbus {

inline std::error_code to_std(const boost::system::error_code& ec) {
    if (ec.category() == boost::system::system_category()) {
        return {ec.value(), std::system_category()};
    }
    return ec;
}

}  // namespace evn_mbus

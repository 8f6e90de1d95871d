#include "serial_line.hpp"

#include <termios.h>

#include <algorithm>
#include <array>

namespace evn_mbus {
namespace {

constexpr std::array<unsigned, 11> bauds = {300,  600,   1200,  1800,  2400,  4800,
                                            9600, 19200, 38400, 57600, 115200};

}  // namespace

std::span<const unsigned> serial_bauds() noexcept {
    return bauds;
}

bool is_serial_baud(unsigned baud) noexcept {
    return std::find(bauds.begin(), bauds.end(), baud) != bauds.end();
}

std::string serial_baud_choices() {
    std::string out;
    for (std::size_t i = 0; i < bauds.size(); ++i) {
        if (i > 0) out += i + 1 == bauds.size() ? " or " : ", ";
        out += std::to_string(bauds[i]);
    }
    return out;
}

std::error_code apply_line_settings(boost::asio::serial_port& port, const serial_config& line) {
    using sp = boost::asio::serial_port_base;
    boost::system::error_code ec;
    port.set_option(sp::baud_rate(line.baud), ec);
    if (ec) return ec;
    port.set_option(sp::character_size(line.data_bits), ec);
    if (ec) return ec;
    const auto parity = line.parity == serial_parity::even  ? sp::parity::even
                        : line.parity == serial_parity::odd ? sp::parity::odd
                                                            : sp::parity::none;
    port.set_option(sp::parity(parity), ec);
    if (ec) return ec;
    port.set_option(sp::stop_bits(line.stop_bits == 2 ? sp::stop_bits::two : sp::stop_bits::one),
                    ec);
    if (ec) return ec;
    port.set_option(sp::flow_control(sp::flow_control::none), ec);
    if (ec) return ec;
    // Asio leaves the receiver's parity checking off; the meter's even parity is checked by
    // the UART only if INPCK is set. Bytes with a parity error are then read as 0 and fail the
    // frame checksum instead of passing silently.
    termios tio{};
    if (::tcgetattr(port.native_handle(), &tio) == 0 && line.parity != serial_parity::none) {
        tio.c_iflag |= INPCK;
        tio.c_iflag &= static_cast<tcflag_t>(~(IGNPAR | PARMRK));
        ::tcsetattr(port.native_handle(), TCSANOW, &tio);
    }
    return {};
}

}  // namespace evn_mbus

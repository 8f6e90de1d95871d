// The meter's serial line as both ends see it: the daemon's reader (serial_reader) and the
// simulator (simulate_command) open a port with the same settings, and the configuration
// (serial.baud) and `simulate --baud` accept the same speeds.
#pragma once

#include <boost/asio/serial_port.hpp>

#include <span>
#include <string>
#include <system_error>

#include "daemon_config.hpp"

namespace evn_mbus {

// The speeds termios (and so every serial driver) offers from 300 to 115200 bit/s, ascending.
// Faster ones exist, but no meter's customer interface uses them.
std::span<const unsigned> serial_bauds() noexcept;
bool is_serial_baud(unsigned baud) noexcept;
// "300, 600, ..., 57600 or 115200", for messages.
std::string serial_baud_choices();

// Sets `port` to the line of `line` (baud, data bits, parity, stop bits), no flow control,
// with the receiver checking parity.
std::error_code apply_line_settings(boost::asio::serial_port& port, const serial_config& line);

}  // namespace evn_mbus

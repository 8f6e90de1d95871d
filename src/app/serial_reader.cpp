#include "serial_reader.hpp"

#include <boost/asio/write.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "serial_line.hpp"

namespace evn_mbus {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// The name of the user this process runs as ("evn-mbus" under the packaged unit).
std::string user_name() {
    if (const passwd* p = ::getpwuid(::geteuid())) return p->pw_name;
    return std::to_string(::geteuid());
}

// Groups whose members get far more than a serial port: never to be advised.
bool privileged_group(const std::string& group, unsigned gid) {
    return gid == 0 || group == "root" || group == "tty" || group == "disk" || group == "kmem" ||
           group == "shadow" || group == "sudo" || group == "adm";
}

}  // namespace

serial_reader::serial_reader(asio::io_context& io, serial_config config, handlers h)
    : io_(io),
      config_(std::move(config)),
      handlers_(std::move(h)),
      port_(io),
      idle_(io, config_.idle_gap,
            [this] {
                if (handlers_.on_idle) handlers_.on_idle();
            }),
      reopen_timer_(io) {}

serial_reader::~serial_reader() {
    stop();
}

void serial_reader::start() {
    if (running_) return;
    running_ = true;
    retry_.succeeded();
    try_open();
}

void serial_reader::stop() {
    running_ = false;
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    idle_.cancel();
    reopen_timer_.cancel();
    boost::system::error_code ignored;
    if (port_.is_open()) port_.close(ignored);
}

std::string serial_reader::describe_open_error(const std::string& device,
                                               const std::error_code& ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::no_such_device) {
        return "serial device " + device +
               " does not exist (yet). Check serial.device in the config, that the UART is "
               "enabled or the USB adapter plugged in; retrying";
    }
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
        device_access a;
        struct stat st {};
        if (::stat(device.c_str(), &st) == 0) {
            a.known = true;
            a.mode = st.st_mode & 07777U;
            a.gid = st.st_gid;
            if (const group* g = ::getgrgid(st.st_gid)) a.group = g->gr_name;
            if (const passwd* p = ::getpwuid(st.st_uid)) a.owner = p->pw_name;
            if (a.owner.empty()) a.owner = std::to_string(st.st_uid);
            if (a.group.empty()) a.group = std::to_string(st.st_gid);
            char resolved[PATH_MAX];
            if (::realpath(device.c_str(), resolved) != nullptr) a.kernel_name = resolved;
        }
        return describe_permission_denied(device, a, user_name());
    }
    if (ec == std::errc::device_or_resource_busy) {
        return "serial device " + device +
               " is busy: another program (a serial console on the UART, or a second "
               "evn-mbus) has it open; retrying";
    }
    return "cannot open serial device " + device + ": " + ec.message() + "; retrying";
}

std::string serial_reader::describe_permission_denied(const std::string& device,
                                                      const device_access& a,
                                                      const std::string& user) {
    std::string out = "permission denied opening " + device;
    if (!a.known) {
        return out + ": the user '" + user +
               "' that evn-mbus runs as may not open it; the packaged service runs in group "
               "'dialout' (check the device with 'ls -l " +
               device + "'); retrying";
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", a.mode);
    out += " (owner " + a.owner + ", group " + a.group + ", mode " + mode + ")";
    const std::string restart =
        "then restart the service: sudo systemctl restart evn-mbus (evn-mbus@NAME for a second "
        "meter; a running program keeps the groups it started with)";
    const bool group_rw = (a.mode & 060U) == 060U;
    if (group_rw && !privileged_group(a.group, a.gid)) {
        return out + ": the user '" + user + "' that evn-mbus runs as is not in group '" + a.group +
               "'. Add it: sudo usermod -aG " + a.group + " " + user + ", " + restart +
               "; retrying";
    }
    // Never advise joining root or tty (that gives far more than the serial port): give the
    // device a group of its own, as udev does for /dev/ttyAMA0 (dialout).
    std::string name = a.kernel_name.empty() ? device : a.kernel_name;
    if (const auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
    return out + ": only " +
           (a.gid == 0 || a.group == "root" ? "root" : "its owner and group '" + a.group + "'") +
           " may open it, and the service user '" + user +
           "' must not join that group (it would get far more than the serial port). Give the "
           "device the group dialout with a udev rule instead, e.g. the line KERNEL==\"" +
           name +
           "\", GROUP=\"dialout\", MODE=\"0660\" in /etc/udev/rules.d/"
           "99-evn-mbus.rules, then sudo udevadm trigger (or replug the adapter) and " +
           restart + "; retrying";
}

void serial_reader::try_open() {
    if (!running_) return;
    boost::system::error_code ec;
    port_.open(config_.device, ec);
    if (!ec) {
        if (auto settings = apply_line_settings(port_, config_)) {
            boost::system::error_code ignored;
            port_.close(ignored);
            fail("cannot configure serial device " + config_.device + " (" +
                 std::to_string(config_.baud) + " baud): " + settings.message() + "; retrying");
            return;
        }
        if (opened_before_) ++reopens_;
        opened_before_ = true;
        retry_.succeeded();
        if (handlers_.on_open) handlers_.on_open();
        read_some();
        return;
    }
    // Serial errors are errno values; compare them as such.
    fail(describe_open_error(config_.device, std::error_code(ec.value(), std::system_category())));
}

void serial_reader::fail(const std::string& what) {
    const bool first = retry_.is_news(what);
    if (handlers_.on_failure) handlers_.on_failure(what, first);
    schedule_reopen();
}

void serial_reader::schedule_reopen() {
    if (!running_) return;
    // One open() an attempt: no measurable load even at the shortest delay.
    reopen_timer_.expires_after(retry_.next_delay(config_.reopen_max));
    reopen_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired() || !*alive.lock()) return;
            try_open();
        });
}

void serial_reader::read_some() {
    port_.async_read_some(
        asio::buffer(buffer_), [this, alive = std::weak_ptr<bool>(alive_)](
                                   const boost::system::error_code& ec, std::size_t n) {
            if (alive.expired() || !*alive.lock()) return;
            if (ec == asio::error::operation_aborted) return;
            if (n > 0) {
                bytes_read_ += n;
                idle_.bytes_arrived(port_.native_handle());
                if (handlers_.on_bytes) handlers_.on_bytes(std::span(buffer_.data(), n));
                if (!running_) return;
            }
            if (ec) {
                // EIO when a USB adapter is unplugged or a pseudo-terminal's other side closes;
                // EOF likewise. Close, report once, and wait for the device to come back.
                boost::system::error_code ignored;
                port_.close(ignored);
                to_write_.clear();  // an answer for the old line is none for the new one
                idle_.line_lost();
                const std::string reason =
                    ec == asio::error::eof ? std::string("end of file") : ec.message();
                fail("serial device " + config_.device + " lost (" + reason +
                     "); waiting for it to come back");
                return;
            }
            read_some();
        });
}

bool serial_reader::write(std::span<const std::uint8_t> bytes) {
    if (!port_.is_open()) return false;
    to_write_.insert(to_write_.end(), bytes.begin(), bytes.end());
    if (writing_.empty()) write_next();
    return true;
}

void serial_reader::write_next() {
    if (to_write_.empty() || !port_.is_open()) return;
    writing_.swap(to_write_);
    to_write_.clear();
    asio::async_write(port_, asio::buffer(writing_),
                      [this, alive = std::weak_ptr<bool>(alive_)](
                          const boost::system::error_code& ec, std::size_t n) {
                          if (alive.expired() || !*alive.lock()) return;
                          bytes_written_ += n;
                          writing_.clear();
                          // A failed write: the read fails too and reopens the port.
                          if (!ec) write_next();
                      });
}

}  // namespace evn_mbus

#include "pty_device.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace evn_mbus {
namespace {

std::error_code last_error() {
    return {errno, std::generic_category()};
}

}  // namespace

pty_device::~pty_device() {
    close();
}

std::error_code pty_device::open(const std::string& link) {
    close();
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0) return last_error();
    std::array<char, 128> name{};
    if (::grantpt(master_) != 0 || ::unlockpt(master_) != 0 ||
        ::ptsname_r(master_, name.data(), name.size()) != 0) {
        const auto ec = last_error();
        close();
        return ec;
    }
    slave_path_ = name.data();
    slave_ = ::open(slave_path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    termios t{};
    if (slave_ < 0 || ::tcgetattr(slave_, &t) != 0) {
        const auto ec = last_error();
        close();
        return ec;
    }
    // Raw: a meter's bytes must reach the reader unchanged, and nothing may echo back.
    ::cfmakeraw(&t);
    if (::tcsetattr(slave_, TCSANOW, &t) != 0) {
        const auto ec = last_error();
        close();
        return ec;
    }
    if (!link.empty()) {
        struct stat st {};
        if (::lstat(link.c_str(), &st) == 0) {
            if (!S_ISLNK(st.st_mode)) {
                close();
                return std::make_error_code(std::errc::file_exists);
            }
            ::unlink(link.c_str());
        }
        if (::symlink(slave_path_.c_str(), link.c_str()) != 0) {
            const auto ec = last_error();
            close();
            return ec;
        }
        link_ = link;
    }
    return {};
}

void pty_device::close() noexcept {
    if (!link_.empty()) {
        // Only our own link: another simulator may have taken the name over meanwhile.
        std::array<char, 256> target{};
        const ssize_t n = ::readlink(link_.c_str(), target.data(), target.size() - 1);
        if (n > 0 && slave_path_ == std::string(target.data(), static_cast<std::size_t>(n))) {
            ::unlink(link_.c_str());
        }
        link_.clear();
    }
    if (slave_ >= 0) ::close(slave_);
    if (master_ >= 0) ::close(master_);
    slave_ = master_ = -1;
    slave_path_.clear();
}

std::size_t pty_device::unread_bytes() const noexcept {
    int n = 0;
    if (slave_ < 0 || ::ioctl(slave_, FIONREAD, &n) != 0 || n < 0) return 0;
    return static_cast<std::size_t>(n);
}

}  // namespace evn_mbus

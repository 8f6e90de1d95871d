#include "input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace evn_mbus {
namespace {

std::string cannot_read(int error) {
    std::string why = "cannot be read (" + std::string(std::strerror(error)) + ")";
    if (error == EACCES) why += "; check the file's owner and permissions";
    return why;
}

}  // namespace

// A terminal (a serial device, a pty) passes bytes as they come: no line editing, no echo back
// to the meter, no CR/LF mapping, no XON/XOFF eating 0x11/0x13. The line settings (baud,
// parity, character size: c_cflag) stay as stty or the device set them.
static void make_raw(termios& t) {
    const tcflag_t line = t.c_cflag;
    cfmakeraw(&t);
    t.c_cflag = line;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
}

input_file::~input_file() {
    if (saved_terminal_) ::tcsetattr(fd_, TCSANOW, &*saved_terminal_);
    if (owned_) ::close(fd_);
}

std::string input_file::open(const std::string& path) {
    if (path.empty() || path == "-") {
        fd_ = STDIN_FILENO;
        name_ = "standard input";
        return {};
    }
    name_ = path;
    // O_NONBLOCK only for the open itself: a FIFO without a writer or a serial device without
    // carrier would otherwise block here, before anything could be said.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT || error == ENOTDIR) return "does not exist";
        return cannot_read(error);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int error = errno;
        ::close(fd);
        return cannot_read(error);
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        return "is a folder, not a file";
    }
    int in = fd;
    if (S_ISFIFO(st.st_mode)) {
        // Opened without blocking, a FIFO with no writer yet reads as an empty input at once;
        // opened again blocking, it waits for the writer, as `cat` does.
        ::close(fd);
        in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (in < 0) return cannot_read(errno);
    } else {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }
    fd_ = in;
    owned_ = true;
    termios t{};
    if (::isatty(in) && ::tcgetattr(in, &t) == 0) {
        saved_terminal_ = t;
        make_raw(t);
        ::tcsetattr(in, TCSANOW, &t);
    }
    return {};
}

long input_file::read(std::span<char> buffer, std::string& problem) {
    for (;;) {
        const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
        if (n >= 0) return static_cast<long>(n);
        if (errno == EINTR) continue;
        problem = cannot_read(errno);
        return -1;
    }
}

bool input_file::is_device() const noexcept {
    struct stat st {};
    return fd_ >= 0 && ::fstat(fd_, &st) == 0 && S_ISCHR(st.st_mode);
}

}  // namespace evn_mbus

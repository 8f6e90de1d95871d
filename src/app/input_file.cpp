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

input_file::~input_file() {
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
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    fd_ = fd;
    owned_ = true;
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

}  // namespace evn_mbus

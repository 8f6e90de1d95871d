#include "log_setup.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace evn_mbus {

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}

std::string journal_unreachable() {
    // sd_journal_print() sends datagrams to this socket and, when nobody listens, fails
    // without a trace; spdlog's sink would then drop every line, the fatal ones included.
    constexpr const char* path = "/run/systemd/journal/socket";
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("cannot create a socket: ") + std::strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    ::close(fd);
    if (rc == 0) return {};
    return std::string(path) + ": " + std::strerror(err);
}

spdlog::level::level_enum parse_level(const std::string& name) {
    // from_str knows "warn"/"warning" and "err"/"error"; it says "off" for names it does not
    // know, where the configuration's default, info, is meant.
    const auto level = spdlog::level::from_str(name);
    return level == spdlog::level::off && name != "off" ? spdlog::level::info : level;
}

std::shared_ptr<spdlog::logger> make_logger(const log_config& config,
                                            std::optional<log_target> target_override) {
    const log_target target = target_override.value_or(config.target);
    const bool journal =
        target == log_target::journal || (target == log_target::automatic && stderr_is_journal());
    std::string unreachable;
    if (journal) unreachable = journal_unreachable();
    std::shared_ptr<spdlog::logger> logger;
    if (journal && unreachable.empty()) {
        // The journal adds time, host and unit itself; the sink maps levels to priorities.
        auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("evn-mbus");
        logger = std::make_shared<spdlog::logger>("evn-mbus", std::move(sink));
        logger->set_pattern("%v");
    } else {
        auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        logger = std::make_shared<spdlog::logger>("evn-mbus", std::move(sink));
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l %v");
    }
    logger->set_level(parse_level(config.level));
    logger->flush_on(spdlog::level::trace);
    if (!unreachable.empty()) {
        logger->warn(
            "the systemd journal is not reachable ({}): logging to stderr instead (choose "
            "log.target: stderr, or --log-target stderr, to silence this)",
            unreachable);
    }
    return logger;
}

}  // namespace evn_mbus

#include "small_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

namespace evn_mbus {

namespace fs = std::filesystem;

std::string file_problem(const std::string& path) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
            return "does not exist";
        }
        return "cannot be reached (" + ec.message() + "); check the permissions of its folders";
    }
    if (fs::is_directory(st)) return "is a folder, not a file";
    if (!fs::is_regular_file(st)) return "is not a regular file";
    return {};
}

std::string read_small_file(const std::string& path, std::size_t max_bytes, std::string& out) {
    if (std::string problem = file_problem(path); !problem.empty()) return problem;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        const int error = errno;
        std::string why = "cannot be read (" + std::string(std::strerror(error)) + ")";
        if (error == EACCES) {
            why +=
                "; check the file's owner and permissions (evn-mbus runs as the user of "
                "the service)";
        }
        return why;
    }
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f, &std::fclose);
    out.clear();
    char buffer[4096];
    while (true) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, f);
        out.append(buffer, n);
        if (out.size() > max_bytes) {
            return "is too large (more than " + std::to_string(max_bytes) + " bytes)";
        }
        if (n < sizeof buffer) break;
    }
    if (std::ferror(f)) return "cannot be read (input/output error)";
    return {};
}

void trim_secret_file_text(std::string& content) {
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r' ||
                                content.back() == ' ' || content.back() == '\t')) {
        content.pop_back();
    }
}

}  // namespace evn_mbus

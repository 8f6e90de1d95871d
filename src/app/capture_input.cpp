#include "capture_input.hpp"

#include "capture_reader.hpp"
#include "input_file.hpp"

namespace evn_mbus {

std::string read_capture_file(const std::string& path, std::vector<std::uint8_t>& out) {
    out.clear();
    input_file in;
    if (std::string problem = in.open(path); !problem.empty()) return problem;
    capture_reader reader;
    char buffer[65536];
    std::size_t total = 0;
    std::string problem;
    for (;;) {
        const long n = in.read(buffer, problem);
        if (n < 0) return problem;
        if (n == 0) break;
        total += static_cast<std::size_t>(n);
        if (total > max_capture_bytes) {
            return "is too large (more than " + std::to_string(max_capture_bytes) + " bytes)";
        }
        problem = reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)), out);
        if (!problem.empty()) return "is not a capture: " + problem;
    }
    problem = reader.finish(out);
    if (!problem.empty()) return "is not a capture: " + problem;
    return {};
}

}  // namespace evn_mbus

#include <fstream>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "decode_command.hpp"

namespace evn_mbus {

command add_decode_command(CLI::App& parent) {
    struct state {
        decode_options options;
        std::string file;
        std::string auth_key;
    };
    auto s = std::make_shared<state>();
    CLI::App* sub = parent.add_subcommand(
        "decode",
        "Decode a capture (hex text or raw bytes) and print one JSON object per telegram");
    sub->add_option("--key", s->options.key, "AES key of the meter (32 hex digits)")->required();
    sub->add_option("--auth-key", s->auth_key,
                    "authentication key, for meters that send a GCM tag (32 hex digits)");
    sub->add_option("file", s->file, "capture file; standard input if omitted");
    return {sub, [s]() -> int {
                if (!s->auth_key.empty()) s->options.auth_key = s->auth_key;
                if (s->file.empty() || s->file == "-") {
                    return run_decode(s->options, std::cin, std::cout, std::cerr);
                }
                std::ifstream in(s->file, std::ios::binary);
                if (!in) {
                    std::cerr << "evn-mbus decode: cannot open " << s->file << "\n";
                    return 1;
                }
                return run_decode(s->options, in, std::cout, std::cerr);
            }};
}

}  // namespace evn_mbus

// evn-mbus: reads an Austrian smart meter's M-Bus customer interface.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "decode_command.hpp"

int main(int argc, char** argv) {
    CLI::App app{"evn-mbus: reads Austrian smart meters (M-Bus customer interface, DLMS/COSEM, "
                 "AES-128-GCM) and publishes their values"};
    app.set_version_flag("--version", std::string("evn-mbus ") + EVN_MBUS_VERSION);
    app.require_subcommand(1);

    evn_mbus::decode_options decode;
    std::string decode_file;
    std::string auth_key;
    auto* decode_cmd = app.add_subcommand(
        "decode", "Decode a capture (hex text or raw bytes) and print one JSON object per telegram");
    decode_cmd->add_option("--key", decode.key, "AES key of the meter (32 hex digits)")->required();
    decode_cmd->add_option("--auth-key", auth_key,
                           "authentication key, for meters that send a GCM tag (32 hex digits)");
    decode_cmd->add_option("file", decode_file, "capture file; standard input if omitted");

    CLI11_PARSE(app, argc, argv);

    if (*decode_cmd) {
        if (!auth_key.empty()) decode.auth_key = auth_key;
        if (decode_file.empty() || decode_file == "-") {
            return evn_mbus::run_decode(decode, std::cin, std::cout, std::cerr);
        }
        std::ifstream in(decode_file, std::ios::binary);
        if (!in) {
            std::cerr << "evn-mbus decode: cannot open " << decode_file << "\n";
            return 1;
        }
        return evn_mbus::run_decode(decode, in, std::cout, std::cerr);
    }
    return 0;
}

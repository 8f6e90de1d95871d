// evn-mbus: reads an Austrian smart meter's M-Bus customer interface.
#include <CLI/CLI.hpp>

#include <vector>

#include "command.hpp"

int main(int argc, char** argv) {
    CLI::App app{"evn-mbus: reads Austrian smart meters (M-Bus customer interface, DLMS/COSEM, "
                 "AES-128-GCM) and publishes their values"};
    app.set_version_flag("--version", std::string("evn-mbus ") + EVN_MBUS_VERSION);
    app.require_subcommand(0, 1);

    std::vector<evn_mbus::command> commands;
    commands.push_back(evn_mbus::add_decode_command(app));

    CLI11_PARSE(app, argc, argv);

    for (const auto& c : commands) {
        if (*c.app) return c.run();
    }
    // No sub-command: the service's default.
    app.exit(CLI::CallForHelp());
    return 2;
}

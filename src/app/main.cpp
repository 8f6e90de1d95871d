// evn-mbus: reads an Austrian smart meter's M-Bus customer interface.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <string_view>
#include <vector>

#include "command.hpp"
#include "startup_signals.hpp"

int main(int argc, char** argv) {
    // Before anything else, so that no SIGTERM of the start-up is lost (startup_signals.hpp);
    // `run` releases them once its handlers are installed.
    evn_mbus::block_startup_signals();
    CLI::App app{
        "evn-mbus: reads Austrian smart meters (M-Bus customer interface, DLMS/COSEM, "
        "AES-128-GCM) and publishes their values"};
    app.name("evn-mbus");
    app.set_version_flag("--version", std::string("evn-mbus ") + EVN_MBUS_VERSION);
    app.require_subcommand(0, 1);

    std::vector<evn_mbus::command> commands;
    commands.push_back(evn_mbus::add_run_command(app));
    const CLI::App* run_app = commands.back().app;  // releases the signals itself
    commands.push_back(evn_mbus::add_decode_command(app));
    commands.push_back(evn_mbus::add_simulate_command(app));
    commands.push_back(evn_mbus::add_check_config_command(app));

    // No sub-command means `run`, so `evn-mbus --config FILE` starts the service too.
    std::vector<std::string> args(argv + 1, argv + argc);
    const bool wants_info =
        !args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "--version");
    if (!wants_info && (args.empty() || std::string_view(args[0]).starts_with("-"))) {
        args.insert(args.begin(), "run");
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first

    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    for (const auto& c : commands) {
        if (!*c.app) continue;
        if (c.app != run_app) evn_mbus::release_startup_signals();
        return c.run();
    }
    return 2;  // not reached: parse() always selects a sub-command or exits
}

// One sub-command of the evn-mbus program: it adds its options to the CLI parser and returns
// the function that runs it once the command line has been parsed. Keeps main() a list.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace evn_mbus {

struct command {
    CLI::App* app = nullptr;
    std::function<int()> run;  // the exit status
};

command add_decode_command(CLI::App& parent);
command add_simulate_command(CLI::App& parent);
command add_check_config_command(CLI::App& parent);
command add_run_command(CLI::App& parent);

}  // namespace evn_mbus

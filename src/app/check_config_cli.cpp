#include <algorithm>
#include <climits>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "config_loader.hpp"

namespace evn_mbus {

command add_check_config_command(CLI::App& parent) {
    auto path = std::make_shared<std::string>(default_config_path);
    CLI::App* sub = parent.add_subcommand(
        "check-config",
        "Check the configuration file and print the effective configuration (secrets hidden)");
    sub->add_option("--config,-c", *path, "configuration file")->capture_default_str();
    auto quiet = std::make_shared<bool>(false);
    // systemctl reload runs this first: the journal then gets the problems, not the whole
    // effective configuration on every reload.
    sub->add_flag("--quiet,-q", *quiet,
                  "print only problems and warnings, not the effective configuration");
    return {sub, [path, quiet]() -> int {
                const config_result result = load_config_file(*path);
                // Problems and warnings in file order, as a compiler prints them.
                std::vector<config_problem> lines = result.problems;
                for (const auto& w : result.warnings) {
                    lines.push_back(w);
                    lines.back().message = "warning: " + w.message;
                }
                std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
                    return (a.line == 0 ? INT_MAX : a.line) < (b.line == 0 ? INT_MAX : b.line);
                });
                for (const auto& p : lines)
                    std::cerr << describe(p, *path) << "\n";
                if (!result.config) {
                    const auto n = result.problems.size();
                    std::cerr << "evn-mbus: " << n << (n == 1 ? " problem" : " problems")
                              << " in the configuration: evn-mbus does not start with it, and a "
                                 "running evn-mbus refuses to reload it and keeps its current "
                                 "configuration, until "
                              << (n == 1 ? "it is" : "they are") << " fixed\n";
                    return 1;
                }
                if (*quiet) return 0;
                std::cout << effective_config_yaml(*result.config);
                std::cerr << "evn-mbus: configuration OK (" << *path << ")\n";
                return 0;
            }};
}

}  // namespace evn_mbus

#include <memory>

#include "command.hpp"
#include "config_loader.hpp"
#include "service.hpp"

namespace evn_mbus {

command add_run_command(CLI::App& parent) {
    struct state {
        run_options options;
        std::string log_target;
        std::string log_level;
        bool no_mqtt = false;
    };
    auto s = std::make_shared<state>();
    s->options.config_path = default_config_path;
    CLI::App* sub = parent.add_subcommand(
        "run", "Read the meter and publish its values (the service; the default command)");
    sub->add_option("--config,-c", s->options.config_path, "configuration file")
        ->capture_default_str();
    sub->add_option("--log-target", s->log_target,
                    "where to log: journal or stderr (default: the journal under systemd)")
        ->check(CLI::IsMember({"journal", "stderr"}));
    sub->add_option("--log-level", s->log_level, "overrides log.level of the config")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    sub->add_flag("--print", s->options.print_readings,
                  "also print each reading as one JSON line on standard output");
    sub->add_flag("--no-mqtt", s->no_mqtt,
                  "do not connect to MQTT (with --print: a local decoder for the serial line)");
    return {sub, [s]() -> int {
                if (s->log_target == "journal")
                    s->options.log_target_override = log_target::journal;
                if (s->log_target == "stderr") {
                    s->options.log_target_override = log_target::stderr_stream;
                }
                s->options.mqtt_enabled = !s->no_mqtt;
                if (!s->log_level.empty()) s->options.log_level_override = s->log_level;
                service svc(s->options);
                return svc.run();
            }};
}

}  // namespace evn_mbus

// Logging for the daemon: to the journal (with syslog priorities) under systemd, else to
// stderr. Every line is read by a home owner: say what happened and what to do.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <optional>

#include "daemon_config.hpp"

namespace evn_mbus {

// True when stderr is connected to the journal (systemd sets JOURNAL_STREAM to the device and
// inode of the stream it gave us; checking them avoids trusting an inherited variable).
bool stderr_is_journal();

// Empty when the journal's socket takes datagrams, else why not ("/run/systemd/journal/socket:
// No such file or directory").
std::string journal_unreachable();

// The logger named "evn-mbus" for `config` (the journal unreachable: stderr, and it says so);
// `target_override` wins over config.target.
std::shared_ptr<spdlog::logger> make_logger(const log_config& config,
                                            std::optional<log_target> target_override = {});

// Parses "trace".."error" (as validated by the config loader); info for anything else.
spdlog::level::level_enum parse_level(const std::string& name);

}  // namespace evn_mbus

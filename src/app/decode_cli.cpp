#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "config_loader.hpp"
#include "decode_command.hpp"
#include "input_file.hpp"
#include "key_text.hpp"
#include "small_file.hpp"

namespace evn_mbus {
namespace {

constexpr const char* prefix = "evn-mbus decode: ";

// One key from one of three places: the command line (seen by every local user in ps), a
// file, or the environment. "" on success, else the message; `from` names the place.
std::string choose_key(const std::string& option, const std::string& value,
                       const std::string& file_option, const std::string& file,
                       const char* env_name, std::optional<std::string>& out, std::string& from) {
    const char* env = std::getenv(env_name);
    if (!value.empty() && !file.empty()) {
        return option + " and " + file_option + " are both given; give only one";
    }
    if (!file.empty()) {
        std::string content;
        from = file_option + " " + file;
        if (std::string problem = read_small_file(file, max_key_file_bytes, content);
            !problem.empty()) {
            return file_option + ": the key file " + file + " " + problem;
        }
        out = key_file_text(content);
    } else if (!value.empty()) {
        from = option;
        out = value;
    } else if (env != nullptr && env[0] != '\0') {
        from = std::string("the environment variable ") + env_name;
        out = std::string(env);
    }
    return {};
}

std::vector<std::string> link_names() {
    std::vector<std::string> names;
    for (const link_layer l : all_link_layers)
        names.emplace_back(to_string(l));
    return names;
}

}  // namespace

command add_decode_command(CLI::App& parent) {
    struct state {
        decode_options options;
        std::string file;
        std::string key, key_file, auth_key, auth_key_file;
        std::string link = "auto";
        std::string layout;
    };
    auto s = std::make_shared<state>();
    CLI::App* sub = parent.add_subcommand(
        "decode",
        "Decode a capture (hex text, an xxd dump or raw bytes) and print one JSON object per "
        "telegram, each as soon as it is complete");
    sub->footer(
        "The key: --key-file FILE (32 hex digits; '#' starts a comment), or the environment "
        "variable EVN_MBUS_KEY, or --key; the authentication key likewise: --auth-key-file, "
        "EVN_MBUS_AUTH_KEY or --auth-key. Prefer the file or the variable: the command line of "
        "a process is visible to every local user (ps).");
    sub->add_option("--key-file", s->key_file,
                    "read the AES key of the meter from this file (32 hex digits)");
    sub->add_option("--key", s->key,
                    "AES key of the meter (32 hex digits); visible to other users in ps: "
                    "prefer --key-file or EVN_MBUS_KEY");
    sub->add_option("--auth-key-file", s->auth_key_file,
                    "read the authentication key (meters that send a GCM tag) from this file");
    sub->add_option("--auth-key", s->auth_key,
                    "authentication key, for meters that send a GCM tag (32 hex digits); "
                    "visible in ps: prefer --auth-key-file or EVN_MBUS_AUTH_KEY");
    sub->add_option("--link", s->link,
                    "framing of the capture: auto (detect; the default), mbus, hdlc or apdu (the "
                    "bare APDU of a P1 port, also one without a tag)")
        ->check(CLI::IsMember(link_names()));
    sub->add_option("--layout", s->layout,
                    "what plain values without an OBIS code mean, as meter.layout in the "
                    "configuration: auto, a built-in layout's name, or a list such as "
                    "\"[skip, 0-0:96.1.0, 1-0:1.8.0 Wh]\"");
    sub->add_option("file", s->file,
                    "capture file, pipe or serial device; standard input if omitted");
    return {sub, [s]() -> int {
                decode_options& o = s->options;
                for (const link_layer l : all_link_layers) {
                    if (to_string(l) == s->link) o.link = l;
                }
                if (!s->layout.empty()) {
                    std::string problem;
                    const auto layout = parse_layout_text(s->layout, problem);
                    if (!layout) {
                        std::cerr << prefix << "--layout: " << problem << "\n";
                        return 2;
                    }
                    o.layout = *layout;
                }
                std::optional<std::string> key;
                if (std::string problem = choose_key("--key", s->key, "--key-file", s->key_file,
                                                     "EVN_MBUS_KEY", key, o.key_from);
                    !problem.empty()) {
                    std::cerr << prefix << problem << "\n";
                    return 2;
                }
                if (!key) {
                    std::cerr << prefix
                              << "no key given: name a file holding the meter's AES key (32 "
                                 "hex digits) with --key-file FILE, or set the environment "
                                 "variable EVN_MBUS_KEY, or give --key. "
                              << where_to_get_the_key << "\n";
                    return 2;
                }
                o.key = *key;
                if (std::string problem =
                        choose_key("--auth-key", s->auth_key, "--auth-key-file", s->auth_key_file,
                                   "EVN_MBUS_AUTH_KEY", o.auth_key, o.auth_key_from);
                    !problem.empty()) {
                    std::cerr << prefix << problem << "\n";
                    return 2;
                }
                input_file in;
                if (std::string problem = in.open(s->file); !problem.empty()) {
                    std::cerr << prefix << "the capture " << s->file << " " << problem << "\n";
                    return 2;
                }
                return run_decode(o, in, std::cout, std::cerr);
            }};
}

}  // namespace evn_mbus

// The YAML configuration loader (src/app/config_loader) on arbitrary text. Its promise: nothing
// throws or crashes, whatever the input; every problem becomes a message. yaml-cpp throws
// internally, so an exception escaping, a crash in yaml-cpp on our behalf, or a hang (libFuzzer's
// -timeout) is a finding. Also checked: a configuration comes back exactly when there are no
// problems, every problem can be described, and a loaded configuration printed back (check-config's
// effective configuration) is YAML that gives back the strings that were loaded.
//
// Relative file names in the input are taken relative to a scratch folder that holds a key
// file, a password file and certificate-like files, so that the file-reading paths are reached.
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

#include "config_loader.hpp"
#include "fuzz_support.hpp"

namespace {

std::string scratch_dir;

void write_file(const std::string& name, const std::string& content) {
    std::ofstream(scratch_dir + "/" + name) << content;
}

void remove_scratch() {
    for (const char* name : {"key", "password", "ca.pem", "client.pem", "client.key"})
        std::remove((scratch_dir + "/" + name).c_str());
    ::rmdir(scratch_dir.c_str());
}

// What check-config prints is YAML that says the same: the strings a user typed come back
// unchanged (numbers and choices are checked by the unit tests; secrets are masked).
void check_effective_config(const evn_mbus::daemon_config& c) {
    const std::string printed = evn_mbus::effective_config_yaml(c);
    YAML::Node back;
    try {
        back = YAML::Load(printed);
    } catch (const YAML::Exception& e) {
        std::fprintf(stderr, "effective configuration is not YAML (%s):\n%s\n", e.what(),
                     printed.c_str());
        std::abort();
    }
    const auto same = [&](const char* section, const char* key, const std::string& value) {
        const YAML::Node n = std::as_const(back)[section][key];
        if (n.IsScalar() && n.Scalar() == value) return true;
        std::fprintf(stderr, "%s.%s does not read back as it was loaded:\n%s\n", section, key,
                     printed.c_str());
        return false;
    };
    EVN_MBUS_FUZZ_CHECK(same("serial", "device", c.serial.device));
    EVN_MBUS_FUZZ_CHECK(same("meter", "key_file", c.meter.key_file));
    EVN_MBUS_FUZZ_CHECK(same("mqtt", "uri", c.mqtt.uri));
    EVN_MBUS_FUZZ_CHECK(same("mqtt", "client_id", c.mqtt.client_id));
    EVN_MBUS_FUZZ_CHECK(same("mqtt", "username", c.mqtt.username));
    EVN_MBUS_FUZZ_CHECK(same("mqtt", "topic_prefix", c.mqtt.topic_prefix));
    EVN_MBUS_FUZZ_CHECK(same("log", "level", c.log.level));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    char pattern[] = "/tmp/evn-mbus-fuzz-config-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
        std::perror("mkdtemp");
        std::abort();
    }
    scratch_dir = pattern;
    write_file("key", "# from the web portal\n36C66639E48A8CA4D6BC8B282A793BBB\n");
    write_file("password", "secret\n");
    write_file("ca.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    write_file("client.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    write_file("client.key", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n");
    std::atexit(remove_scratch);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const evn_mbus::config_result r = evn_mbus::load_config_text(text, scratch_dir);
    EVN_MBUS_FUZZ_CHECK(r.config.has_value() == r.problems.empty());
    for (const auto& p : r.problems) {
        EVN_MBUS_FUZZ_CHECK(!p.message.empty());
        // load_config_text's last resort for an exception the loader did not expect: the user
        // then gets yaml-cpp's words instead of ours, so it counts as a finding here.
        EVN_MBUS_FUZZ_CHECK(!p.message.starts_with("the configuration could not be read"));
        EVN_MBUS_FUZZ_CHECK(p.line >= 0 && p.column >= 0);
        (void)evn_mbus::describe(p, "/etc/evn-mbus.yaml");
    }
    if (r.config) check_effective_config(*r.config);
    return 0;
}

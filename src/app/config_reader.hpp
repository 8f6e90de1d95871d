// The configuration reader's state and its value readers: it walks the YAML tree along the
// schema (config_schema.hpp), fills a daemon_config and collects every problem with its line
// and column. Internal to the loader (config_loader.cpp, config_values.cpp, config_schema.cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config_loader.hpp"

namespace evn_mbus {

struct position {
    int line = 0;
    int column = 0;
};

position position_of(const YAML::Mark& m);
position position_of(const YAML::Node& n);

struct entry {
    std::string path;  // "serial.baud"
    YAML::Node value;
    position key_pos;
    position value_pos;  // the key's position when the value is empty
};

// A text value whose meaning depends on other keys (checked once the whole file is read).
struct located {
    std::string text;
    position pos;
    bool present = false;
};

class config_reader {
  public:
    explicit config_reader(std::string origin_dir) : origin_dir_(std::move(origin_dir)) {}
    config_reader(const config_reader&) = delete;
    config_reader& operator=(const config_reader&) = delete;

    config_result load(std::string_view yaml);
    void add(std::string key, position pos, std::string message) {
        problems_.push_back({std::move(key), pos.line, pos.column, std::move(message)});
    }
    void warn(std::string key, position pos, std::string message) {
        warnings_.push_back({std::move(key), pos.line, pos.column, std::move(message)});
    }
    config_result result();

    void read_section(const YAML::Node& node, const std::string& path, position pos);

    // Value readers (config_values.cpp): each reports what is wrong and leaves out as it is.
    std::optional<std::string> text(const entry& e, bool null_is_empty);
    void read_string(const entry& e, std::string& out, bool may_be_empty, std::string_view hint);
    void read_located(const entry& e, located& out, bool trimmed = true);
    void read_file_name(const entry& e, std::string& out, located* where);
    std::optional<long long> integer(const entry& e, long long low, long long high,
                                     std::string_view unit);
    void read_bool(const entry& e, bool& out);
    // The index of the spelling given (case-insensitive), or nullopt with a "did you mean".
    std::optional<std::size_t> choice(const entry& e, const std::vector<std::string_view>& names);
    void read_baud(const entry& e, unsigned& out);
    void read_topic(const entry& e, std::string& out);
    void read_uri(const entry& e);
    void read_secret(const entry& e, located& out, bool trimmed = true);
    void read_serial_device(const entry& e);
    void read_listen(const entry& e);  // http.listen
    void read_layout(const entry& e, layout_choice& out);
    // A file name from the file, relative to the file's folder.
    std::string resolve(std::string_view name) const;

    daemon_config config_;
    position device_pos_;
    // The keys the file sets ("serial.idle_gap_ms"), for defaults that depend on other keys.
    std::set<std::string> given_;
    located key_, key_file_, auth_key_, password_, password_file_, tls_files_, tls_key_file_;
    located http_password_, http_password_file_;
    position http_listen_pos_, http_username_pos_;

  private:
    void unknown_key(const std::string& section, const std::string& name, position pos);
    bool check_key(const std::string& key, std::string_view text_value, position pos,
                   const std::string& what, bool required, std::optional<aes_key>& out);
    void finish_serial();
    void finish_meter();
    void finish_mqtt();
    void finish_http();
    // <section>.password or <section>.password_file into `password` (and the file's name into
    // `file`); false when the file cannot be read.
    void take_password(const std::string& section, const located& given, const located& given_file,
                       std::string& password, std::string& file);

    std::string origin_dir_;
    std::vector<config_problem> problems_;
    std::vector<config_problem> warnings_;
    std::string_view input_;  // the file's text, for what yaml-cpp's nodes do not keep
    position meter_pos_;
    bool uri_ok_ = true;
};

}  // namespace evn_mbus

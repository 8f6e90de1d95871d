#include "client_id.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>

namespace evn_mbus {
namespace {

// FNV-1a: a stable, short tag for an id that had to be shortened.
std::uint32_t fnv1a(std::string_view s) {
    std::uint32_t h = 2166136261u;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return h;
}

// The instance's name as it goes into the id: letters, digits, '-' and '_' only.
std::string instance_name(std::string_view config_path) {
    const std::filesystem::path p(config_path);
    const std::string file = p.filename().string();
    const std::string folder = p.parent_path().filename().string();
    // The main instance keeps the id of earlier versions; /etc/evn-mbus/evn-mbus.yaml does not,
    // because it runs beside /etc/evn-mbus.yaml.
    if (file.empty() || (file == "evn-mbus.yaml" && folder != "evn-mbus")) return {};
    std::string name = p.stem().string();
    for (char& c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) c = '-';
    }
    return name;
}

}  // namespace

std::string default_client_id(std::string_view host, std::string_view config_path) {
    std::string id = host.empty() ? std::string("evn-mbus") : "evn-mbus-" + std::string(host);
    if (const std::string name = instance_name(config_path); !name.empty()) id += "-" + name;
    if (id.size() > max_client_id_length) {
        char tag[10];
        std::snprintf(tag, sizeof tag, "-%08x", static_cast<unsigned>(fnv1a(id)));
        id = id.substr(0, max_client_id_length - 9) + tag;
    }
    return id;
}

std::string default_client_id(std::string_view config_path) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return default_client_id(std::string_view(host), config_path);
}

}  // namespace evn_mbus

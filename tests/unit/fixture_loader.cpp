#include "fixture_loader.hpp"

#include <fstream>
#include <stdexcept>

namespace evn_mbus::test {

bytes hex(const std::string& text) {
    bytes out;
    if (parse_hex(text, out)) throw std::runtime_error("bad hex in test data: " + text);
    return out;
}

const std::vector<capture>& all_captures() {
    static const std::vector<capture> captures = [] {
        std::ifstream in(std::string(EVN_MBUS_FIXTURES_DIR) + "/vectors.json");
        if (!in) throw std::runtime_error("fixtures/vectors.json not found");
        const auto j = nlohmann::json::parse(in);
        std::vector<capture> out;
        for (const auto& v : j) {
            capture c;
            c.id = v.at("id").get<std::string>();
            c.framing = v.at("framing").get<std::string>();
            if (parse_key(v.at("key_hex").get<std::string>(), c.keys.key)) {
                throw std::runtime_error("bad key in fixture " + c.id);
            }
            if (v.at("auth_key_hex").is_string()) {
                aes_key ak{};
                if (parse_key(v.at("auth_key_hex").get<std::string>(), ak)) {
                    throw std::runtime_error("bad auth key in fixture " + c.id);
                }
                c.keys.auth_key = ak;
            }
            for (const auto& f : v.at("frames_hex"))
                c.frames.push_back(hex(f.get<std::string>()));
            c.plaintext = hex(v.at("plaintext_hex").get<std::string>());
            c.expected = v.at("expected");
            if (v.contains("stream_hex")) c.stream = hex(v.at("stream_hex").get<std::string>());
            out.push_back(std::move(c));
        }
        return out;
    }();
    return captures;
}

const capture& capture_by_id(const std::string& id) {
    for (const auto& c : all_captures()) {
        if (c.id == id) return c;
    }
    throw std::runtime_error("no fixture " + id);
}

std::string key_hex(const std::string& id) {
    return to_hex(capture_by_id(id).keys.key);
}

std::string auth_key_hex(const std::string& id) {
    const auto& auth_key = capture_by_id(id).keys.auth_key;
    return auth_key ? to_hex(*auth_key) : std::string();
}

std::vector<std::string> decode_argv(const std::string& binary, const std::string& id) {
    std::vector<std::string> argv{binary, "decode", "--key", key_hex(id)};
    if (const std::string auth = auth_key_hex(id); !auth.empty()) {
        argv.push_back("--auth-key");
        argv.push_back(auth);
    }
    argv.push_back(std::string(EVN_MBUS_FIXTURES_DIR) + "/" + id + ".hex");
    return argv;
}

std::vector<capture> mbus_captures() {
    std::vector<capture> out;
    for (const auto& c : all_captures()) {
        if (c.framing == "mbus") out.push_back(c);
    }
    return out;
}

bytes concat(const std::vector<bytes>& frames) {
    bytes out;
    for (const auto& f : frames)
        out.insert(out.end(), f.begin(), f.end());
    return out;
}

decoded decode_all(const decoder_keys& keys, const bytes& data) {
    telegram_decoder dec(keys);
    dec.feed(data);
    dec.on_idle_gap();
    decoded out;
    for (;;) {
        const auto ev = dec.next();
        if (ev.what == decode_event::kind::need_more) break;
        if (ev.what == decode_event::kind::reading) {
            out.readings.push_back(*ev.value);
        } else {
            out.errors.push_back(ev.error);
        }
    }
    return out;
}

}  // namespace evn_mbus::test

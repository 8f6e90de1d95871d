// YAML rules that silently take text away from a value: "password: #hunter2" is a comment
// (the password is empty), "&x" an anchor and "!x" a tag (names, not part of the value).
// A secret is never shown in a message, so the user would see only "authentication failed":
// the configuration warns with the rule instead. Read from the raw line, because yaml-cpp's
// nodes do not keep anchors and comments.
#pragma once

#include <string>
#include <string_view>

namespace evn_mbus {

struct yaml_indicator {
    char indicator = 0;  // '#', '&' or '!'; 0 if the value starts with none of them
    int line = 0;        // 1-based position of the indicator
    int column = 0;
};

// The indicator that starts the value of the "key: value" line at (line, column) of yaml
// (1-based, as the key's position).
yaml_indicator value_indicator(std::string_view yaml, int line, int column);

// The warning for a secret (name such as "mqtt.password") that starts with an indicator; empty
// is whether the value came out empty. "" when there is nothing to say.
std::string indicator_warning(const yaml_indicator& found, std::string_view name, bool empty);

}  // namespace evn_mbus

// The MQTT client id used when mqtt.client_id is empty. A broker lets only one client use an
// id and cuts the older connection when a second one arrives, so two instances on one host
// (evn-mbus and evn-mbus@meter2) must never share it: the id names the host and, for any file
// but /etc/evn-mbus.yaml, the configuration file.
//   /etc/evn-mbus.yaml           -> evn-mbus-<host>          (the id of earlier versions)
//   /etc/evn-mbus/<name>.yaml    -> evn-mbus-<host>-<name>
// MQTT 3.1.1 guarantees only 23 characters (Mosquitto, EMQX, HiveMQ, VerneMQ and the cloud
// brokers take far longer ones); longer ids are kept readable up to max_client_id_length and
// shortened beyond it with a hash of the whole, so that they stay unique.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace evn_mbus {

inline constexpr std::size_t max_client_id_length = 64;

// For the given host name and configuration file.
std::string default_client_id(std::string_view host, std::string_view config_path);

// For this machine's host name.
std::string default_client_id(std::string_view config_path);

}  // namespace evn_mbus

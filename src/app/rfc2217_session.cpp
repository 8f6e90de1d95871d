#include "rfc2217_session.hpp"

#include <libtelnet.h>

#include <array>
#include <new>

namespace evn_mbus {
namespace {

constexpr unsigned char com_port_option = 44;  // RFC 2217
constexpr std::uint8_t server_offset = 100;    // the server answers command + 100
constexpr std::uint32_t no_flow_control = 1;   // SET-CONTROL value
constexpr unsigned all_settings = (1u << 5) - 1;

// What we agree to: 8-bit clean data both ways (BINARY), no go-aheads (SGA), and RFC 2217 on
// our side only. Everything else the server offers or asks for is refused.
const telnet_telopt_t telopts[] = {
    {TELNET_TELOPT_BINARY, TELNET_WILL, TELNET_DO},
    {TELNET_TELOPT_SGA, TELNET_WILL, TELNET_DO},
    {com_port_option, TELNET_WILL, TELNET_DONT},
    {-1, 0, 0},
};

std::uint32_t parity_code(serial_parity p) {
    switch (p) {
        case serial_parity::none:
            return 1;
        case serial_parity::odd:
            return 2;
        case serial_parity::even:
            return 3;
    }
    return 0;
}

std::string value_text(rfc2217_setting s, std::uint32_t v) {
    const std::string n = std::to_string(v);
    switch (s) {
        case rfc2217_setting::baud:
            return n + " baud";
        case rfc2217_setting::data_bits:
            return n + " data bits";
        case rfc2217_setting::parity: {
            static constexpr std::array<const char*, 6> names{"?",    "none", "odd",
                                                              "even", "mark", "space"};
            return std::string("parity ") + (v > 0 && v < names.size() ? names[v] : n);
        }
        case rfc2217_setting::stop_bits:
            return v == 3 ? "1.5 stop bits" : n + (v == 1 ? " stop bit" : " stop bits");
        case rfc2217_setting::flow_control:
            if (v == 1) return "no flow control";
            if (v == 2) return "XON/XOFF flow control";
            if (v == 3) return "hardware (RTS/CTS) flow control";
            return "flow control setting " + n;
    }
    return n;
}

const char* setting_name(rfc2217_setting s) {
    static constexpr std::array<const char*, 5> names{"baud rate", "data bits", "parity",
                                                      "stop bits", "flow control"};
    return names[static_cast<std::size_t>(s)];
}

// "9600 8E1", as the bridges' own configurations write it.
std::string line_text(const rfc2217_line& l) {
    const char parity = l.parity == serial_parity::none  ? 'N'
                        : l.parity == serial_parity::odd ? 'O'
                                                         : 'E';
    return std::to_string(l.baud) + ' ' + std::to_string(l.data_bits) + parity +
           std::to_string(l.stop_bits);
}

}  // namespace

struct rfc2217_session::callbacks {
    static void main(telnet_t*, telnet_event_t* ev, void* user) noexcept {
        auto& s = *static_cast<rfc2217_session*>(user);
        switch (ev->type) {
            case TELNET_EV_DATA: {
                const auto* p = reinterpret_cast<const std::uint8_t*>(ev->data.buffer);
                s.data_.insert(s.data_.end(), p, p + ev->data.size);
                break;
            }
            case TELNET_EV_SEND: {
                const auto* p = reinterpret_cast<const std::uint8_t*>(ev->data.buffer);
                s.outgoing_.insert(s.outgoing_.end(), p, p + ev->data.size);
                break;
            }
            case TELNET_EV_DO:
                if (ev->neg.telopt == com_port_option && !s.settings_sent_) s.send_settings();
                break;
            case TELNET_EV_SUBNEGOTIATION:
                if (ev->sub.telopt == com_port_option) {
                    s.on_answer(
                        {reinterpret_cast<const std::uint8_t*>(ev->sub.buffer), ev->sub.size});
                }
                break;
            case TELNET_EV_COMPRESS:
                // libtelnet starts MCCP2 on IAC SB 86 IAC SE, even though we never agreed.
                if (ev->compress.state != 0) {
                    s.events_.push_back(
                        {rfc2217_event_kind::protocol_error,
                         "the serial bridge switched on Telnet compression, which evn-mbus did "
                         "not agree to: what it sends from now on cannot be read"});
                }
                break;
            case TELNET_EV_WARNING:
            case TELNET_EV_ERROR:
                s.events_.push_back(
                    {rfc2217_event_kind::protocol_error,
                     std::string("the serial bridge broke the Telnet protocol: ") + ev->error.msg});
                break;
            default:
                break;  // IAC commands (NOP, GA, ...) and other options: nothing to do
        }
    }

    static void observer(telnet_t*, telnet_event_t* ev, void* user) noexcept {
        auto& s = *static_cast<rfc2217_session*>(user);
        if ((ev->type == TELNET_EV_WONT || ev->type == TELNET_EV_DONT) &&
            ev->neg.telopt == com_port_option) {
            s.refused();
        }
    }
};

void rfc2217_session::telnet_deleter::operator()(telnet_t* t) const noexcept {
    telnet_free(t);
}

rfc2217_session::rfc2217_session(rfc2217_line wanted)
    : wanted_(wanted),
      telnet_(telnet_init(telopts, &callbacks::main, 0, this)),
      observer_(telnet_init(nullptr, &callbacks::observer, TELNET_FLAG_PROXY, this)) {
    if (!telnet_ || !observer_) throw std::bad_alloc();
    // Typical reads and pushes are a few hundred bytes: no reallocation after the first ones.
    data_.reserve(4096);
    outgoing_.reserve(512);
}

rfc2217_session::~rfc2217_session() = default;

void rfc2217_session::start() noexcept {
    telnet_negotiate(telnet_.get(), TELNET_WILL, com_port_option);
    telnet_negotiate(telnet_.get(), TELNET_WILL, TELNET_TELOPT_BINARY);
    telnet_negotiate(telnet_.get(), TELNET_DO, TELNET_TELOPT_BINARY);
    telnet_negotiate(telnet_.get(), TELNET_WILL, TELNET_TELOPT_SGA);
    telnet_negotiate(telnet_.get(), TELNET_DO, TELNET_TELOPT_SGA);
}

void rfc2217_session::receive(std::span<const std::uint8_t> from_socket) noexcept {
    if (from_socket.empty()) return;
    const auto* p = reinterpret_cast<const char*>(from_socket.data());
    telnet_recv(observer_.get(), p, from_socket.size());
    telnet_recv(telnet_.get(), p, from_socket.size());
}

void rfc2217_session::send(std::span<const std::uint8_t> to_meter) noexcept {
    if (to_meter.empty()) return;
    telnet_send(telnet_.get(), reinterpret_cast<const char*>(to_meter.data()), to_meter.size());
}

void rfc2217_session::send_settings() {
    settings_sent_ = true;
    const std::uint32_t b = wanted_.baud;
    const std::array<std::array<std::uint8_t, 5>, 5> commands{{
        {1, std::uint8_t(b >> 24), std::uint8_t(b >> 16), std::uint8_t(b >> 8), std::uint8_t(b)},
        {2, std::uint8_t(wanted_.data_bits)},
        {3, std::uint8_t(parity_code(wanted_.parity))},
        {4, std::uint8_t(wanted_.stop_bits)},
        {5, std::uint8_t(no_flow_control)},
    }};
    for (const auto& c : commands) {
        const std::size_t size = c[0] == 1 ? 5 : 2;
        telnet_subnegotiation(telnet_.get(), com_port_option,
                              reinterpret_cast<const char*>(c.data()), size);
    }
}

void rfc2217_session::on_answer(std::span<const std::uint8_t> sub) {
    // Only the answers to our five SET commands (101..105); NOTIFY-LINESTATE, -MODEMSTATE,
    // flow control suspend/resume and the rest tell nothing the meter's data does not.
    if (!settings_sent_ || sub.empty() || sub[0] <= server_offset || sub[0] > server_offset + 5) {
        return;
    }
    const auto setting = static_cast<rfc2217_setting>(sub[0] - server_offset - 1);
    const std::size_t size = setting == rfc2217_setting::baud ? 4 : 1;
    if (sub.size() != 1 + size) {
        events_.push_back({rfc2217_event_kind::protocol_error,
                           std::string("the serial bridge answered the ") + setting_name(setting) +
                               " setting with " + std::to_string(sub.size() - 1) + " bytes, not " +
                               std::to_string(size)});
        return;
    }
    std::uint32_t got = 0;
    for (std::size_t i = 1; i < sub.size(); ++i)
        got = got << 8 | sub[i];
    const std::uint32_t asked = setting == rfc2217_setting::baud        ? wanted_.baud
                                : setting == rfc2217_setting::data_bits ? wanted_.data_bits
                                : setting == rfc2217_setting::parity ? parity_code(wanted_.parity)
                                : setting == rfc2217_setting::stop_bits ? wanted_.stop_bits
                                                                        : no_flow_control;
    const unsigned bit = 1u << static_cast<unsigned>(setting);
    answered_ |= bit;
    if (got != asked) {
        if ((mismatched_ & bit) == 0) {
            mismatched_ |= bit;
            events_.push_back({rfc2217_event_kind::setting_mismatch,
                               "the serial bridge set its port to " + value_text(setting, got) +
                                   ", not " + value_text(setting, asked) +
                                   " as asked; set the bridge's port to " + line_text(wanted_) +
                                   ", no flow control, by hand, or use a bridge that can",
                               setting, asked, got});
        }
        return;
    }
    if (answered_ == all_settings && mismatched_ == 0 && !confirmed_) {
        confirmed_ = true;
        events_.push_back({rfc2217_event_kind::line_confirmed,
                           "the serial bridge set its port to " + line_text(wanted_) +
                               ", no flow control, as asked"});
    }
}

std::string rfc2217_session::unanswered_settings() const {
    std::string names;
    for (unsigned i = 0; i < 5; ++i) {
        if ((answered_ & 1u << i) != 0) continue;
        if (!names.empty()) names += ", ";
        names += setting_name(static_cast<rfc2217_setting>(i));
    }
    return names;
}

void rfc2217_session::refused() {
    if (refused_) return;
    refused_ = true;
    events_.push_back({rfc2217_event_kind::option_refused,
                       "the server refused RFC 2217 (COM-PORT-OPTION): it is a plain Telnet "
                       "server, not an RFC 2217 serial bridge, so evn-mbus cannot set its serial "
                       "port; set it to " +
                           line_text(wanted_) + " yourself"});
}

}  // namespace evn_mbus

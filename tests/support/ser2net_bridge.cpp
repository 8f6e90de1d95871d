#include "ser2net_bridge.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "loopback_port.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

std::string ser2net_binary() {
    for (const char* p : {"/usr/sbin/ser2net", "/usr/local/sbin/ser2net"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    return "ser2net";  // from PATH
}

}  // namespace

ser2net_bridge::ser2net_bridge(options o) : options_(std::move(o)) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        if (start()) return;
    }
    throw std::runtime_error("ser2net did not start:\n" + log());
}

ser2net_bridge::~ser2net_bridge() {
    if (!running()) return;
    child_->signal(SIGTERM);
    if (!child_->wait(5s)) kill();
    child_.reset();
}

std::string ser2net_bridge::uri() const {
    return (options_.rfc2217 ? "rfc2217://127.0.0.1:" : "tcp://127.0.0.1:") + std::to_string(port_);
}

std::string ser2net_bridge::log() const {
    std::ifstream in(dir_.file("ser2net.out"));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool ser2net_bridge::start() {
    const std::string conf = dir_.file("ser2net.yaml");
    {
        std::ofstream out(conf);
        // kickolduser: a daemon that reconnects after a half-dead connection gets in. No
        // chardelay setting: the default (up to 20 ms at once, scaled to the baud rate) is what
        // users run.
        out << "connection: &meter\n"
            << "  accepter: " << (options_.rfc2217 ? "telnet(rfc2217),tcp," : "tcp,")
            << "127.0.0.1," << port_ << "\n"
            << "  connector: serialdev," << options_.device << "," << options_.line << ",local\n"
            << "  options:\n    kickolduser: true\n";
        if (!out) throw std::runtime_error("cannot write " + conf);
    }
    spawn_options o;
    // -n: stay in the foreground; -P: its own pid file, not /run/ser2net.pid.
    o.argv = {ser2net_binary(), "-n", "-c", conf, "-P", dir_.file("ser2net.pid")};
    o.out = output_sink::append_to(dir_.file("ser2net.out"));
    o.err = o.out;
    child_ = std::make_unique<child_process>(std::move(o));
    if (child_->spawn_error() != 0) {
        child_.reset();
        throw std::runtime_error("cannot run ser2net (is the ser2net package installed?)");
    }
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!child_->running()) {
            child_.reset();
            if (log().find("in use") != std::string::npos) return false;
            throw std::runtime_error("ser2net exited at start:\n" + log());
        }
        // Not a test connection: ser2net would open the device for it and hand it what the
        // simulator has written so far.
        if (listens_on(port_)) return true;
        std::this_thread::sleep_for(10ms);
    }
    kill();
    throw std::runtime_error("ser2net did not accept connections within 5 s:\n" + log());
}

void ser2net_bridge::kill() {
    if (!running()) return;
    child_->signal(SIGKILL);
    child_->wait();
    child_.reset();
}

void ser2net_bridge::restart() {
    if (running()) kill();
    if (!start()) throw std::runtime_error("ser2net's port was taken on restart:\n" + log());
}

}  // namespace evn_mbus::test

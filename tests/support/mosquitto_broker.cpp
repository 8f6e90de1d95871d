#include "mosquitto_broker.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "loopback_port.hpp"

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

std::string mosquitto_binary() {
    if (const char* env = std::getenv("EVN_MBUS_MOSQUITTO"); env && *env) return env;
    for (const char* p : {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    return "mosquitto";  // from PATH
}

// Runs openssl with the arguments of `parts`; throws with what it said if it fails.
void openssl(std::initializer_list<std::vector<std::string>> parts) {
    std::vector<std::string> argv{"openssl"};
    for (const auto& p : parts)
        argv.insert(argv.end(), p.begin(), p.end());
    const auto r = run_process(argv);
    if (r.status != 0) {
        std::string command;
        for (const auto& a : argv)
            command.append(command.empty() ? "" : " ").append(a);
        throw std::runtime_error("failed: " + command + "\n" + r.err);
    }
}

}  // namespace

tls_files make_test_pki(const std::string& dir, const std::string& prefix, const std::string& san) {
    const std::string cnf = dir + "/" + prefix + "openssl.cnf";
    {
        std::ofstream out(cnf);
        out << "[req]\ndistinguished_name = dn\n[dn]\n"
               "[v3_ca]\nbasicConstraints = critical,CA:TRUE\n"
               "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n"
               "[server]\nbasicConstraints = CA:FALSE\n"
               "keyUsage = critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage = serverAuth,clientAuth\n"
               "subjectAltName = "
            << san << "\n";
        if (!out) throw std::runtime_error("cannot write " + cnf);
    }
    tls_files f{dir + "/" + prefix + "ca.crt", dir + "/" + prefix + "cert.crt",
                dir + "/" + prefix + "cert.key"};
    const std::string ca_key = dir + "/" + prefix + "ca.key";
    const std::string csr = dir + "/" + prefix + "cert.csr";
    const std::vector<std::string> ec{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                      "-nodes"};
    openssl({{"req", "-x509", "-config", cnf, "-extensions", "v3_ca"},
             ec,
             {"-keyout", ca_key, "-out", f.ca_file, "-days", "2", "-subj",
              "/CN=evn-mbus test CA " + prefix}});
    openssl({{"req", "-new", "-config", cnf},
             ec,
             {"-keyout", f.key_file, "-out", csr, "-subj", "/CN=localhost"}});
    openssl({{"x509", "-req", "-in", csr, "-CA", f.ca_file, "-CAkey", ca_key, "-CAcreateserial",
              "-out", f.cert_file, "-days", "2", "-extfile", cnf, "-extensions", "server"}});
    return f;
}

mosquitto_broker::mosquitto_broker() : mosquitto_broker(options{}) {}

mosquitto_broker::mosquitto_broker(options o) : options_(std::move(o)) {
    // A port found free can be taken by someone else before mosquitto binds it: try again.
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        tls_port_ = options_.tls ? free_port() : 0;
        if (tls_port_ == port_) continue;
        if (start()) return;
    }
    throw std::runtime_error("mosquitto did not start:\n" + log());
}

mosquitto_broker::~mosquitto_broker() {
    if (running()) stop();
}

std::string mosquitto_broker::uri() const {
    return "tcp://127.0.0.1:" + std::to_string(port_);
}

std::string mosquitto_broker::tls_uri(const std::string& host) const {
    return "ssl://" + host + ":" + std::to_string(tls_port_);
}

bool mosquitto_broker::start() {
    const std::string conf = dir_.file("mosquitto.conf");
    {
        std::ofstream out(conf);
        out << "persistence false\n";
        // As root, mosquitto would switch to the "mosquitto" user, who cannot read our files.
        if (::geteuid() == 0) out << "user root\n";
        out << "log_dest file " << dir_.file("mosquitto.log")
            << "\n"
               "log_type error\nlog_type warning\nlog_type notice\n"
               "log_type information\nconnection_messages true\n"
               "allow_anonymous true\n"
               "listener "
            << port_ << " 127.0.0.1\n";
        if (options_.tls) {
            out << "listener " << tls_port_ << " 127.0.0.1\n"
                << "cafile " << options_.tls->ca_file << "\n"
                << "certfile " << options_.tls->cert_file << "\n"
                << "keyfile " << options_.tls->key_file << "\n";
        }
        for (const auto& line : options_.extra_config)
            out << line << "\n";
        if (!out) throw std::runtime_error("cannot write " + conf);
    }
    const std::string binary = mosquitto_binary();
    spawn_options o;
    o.argv = {binary, "-c", conf};
    o.out = output_sink::append_to(dir_.file("mosquitto.out"));
    o.err = o.out;
    // child_process keeps the test's sockets (e.g. a client's connection) from the broker.
    child_ = std::make_unique<child_process>(std::move(o));
    if (child_->spawn_error() != 0) {
        child_.reset();
        throw std::runtime_error("cannot run " + binary + " (is mosquitto installed?)");
    }

    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!child_->running()) {
            child_.reset();
            if (log().find("Address already in use") != std::string::npos) return false;
            throw std::runtime_error("mosquitto exited at start:\n" + log());
        }
        if (accepts_connections(port_) && (tls_port_ == 0 || accepts_connections(tls_port_))) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    kill();
    throw std::runtime_error("mosquitto did not accept connections within 5 s:\n" + log());
}

void mosquitto_broker::wait_exit() {
    if (!child_->wait(5s)) {
        child_->signal(SIGKILL);
        child_->wait();
    }
    child_.reset();
}

void mosquitto_broker::stop() {
    if (!running()) return;
    child_->signal(SIGTERM);
    child_->signal(SIGCONT);  // in case it was paused
    wait_exit();
}

void mosquitto_broker::pause() {
    if (running()) child_->signal(SIGSTOP);
}

void mosquitto_broker::resume() {
    if (running()) child_->signal(SIGCONT);
}

void mosquitto_broker::kill() {
    if (!running()) return;
    child_->signal(SIGKILL);
    wait_exit();
}

void mosquitto_broker::restart() {
    if (running()) stop();
    if (!start()) throw std::runtime_error("mosquitto could not get its ports back:\n" + log());
}

std::string mosquitto_broker::log() const {
    // mosquitto.log is written as it happens; mosquitto.out has what it said before it could
    // open the log file (configuration errors).
    std::ostringstream s;
    for (const char* name : {"mosquitto.log", "mosquitto.out"}) {
        std::ifstream in(dir_.file(name));
        if (in) s << in.rdbuf();
    }
    return s.str();
}

}  // namespace evn_mbus::test

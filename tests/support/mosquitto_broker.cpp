#include "mosquitto_broker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace evn_mbus::test {
namespace {

using namespace std::chrono_literals;

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

bool accepts_connections(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::string mosquitto_binary() {
    if (const char* env = std::getenv("EVN_MBUS_MOSQUITTO"); env && *env) return env;
    for (const char* p : {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    return "mosquitto";  // from PATH
}

void run(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
        throw std::runtime_error("failed: " + command);
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
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509 -config '" + cnf + "' -extensions v3_ca" + ec + " -keyout '" + ca_key +
        "' -out '" + f.ca_file + "' -days 2 -subj '/CN=evn-mbus test CA " + prefix + "'");
    run("openssl req -new -config '" + cnf + "'" + ec + " -keyout '" + f.key_file + "' -out '" +
        csr + "' -subj '/CN=localhost'");
    run("openssl x509 -req -in '" + csr + "' -CA '" + f.ca_file + "' -CAkey '" + ca_key +
        "' -CAcreateserial -out '" + f.cert_file + "' -days 2 -extfile '" + cnf +
        "' -extensions server");
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
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, dir_.file("mosquitto.out").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // The broker must not hold copies of the test's sockets (e.g. a client's connection).
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    std::vector<std::string> args{binary, "-c", conf};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = binary.find('/') == std::string::npos
                       ? posix_spawnp(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ)
                       : posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot run " + binary + " (is mosquitto installed?)");
    pid_ = pid;

    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
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
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(5ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void mosquitto_broker::stop() {
    if (!running()) return;
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);  // in case it was paused
    wait_exit();
}

void mosquitto_broker::pause() {
    if (running()) ::kill(pid_, SIGSTOP);
}

void mosquitto_broker::resume() {
    if (running()) ::kill(pid_, SIGCONT);
}

void mosquitto_broker::kill() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
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

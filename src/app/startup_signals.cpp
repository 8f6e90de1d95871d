#include "startup_signals.hpp"

#include <pthread.h>
#include <signal.h>

namespace evn_mbus {
namespace {

sigset_t startup_set() {
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, SIGTERM);
    ::sigaddset(&set, SIGINT);
    ::sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

void block_startup_signals() {
    const sigset_t set = startup_set();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void release_startup_signals() {
    const sigset_t set = startup_set();
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace evn_mbus

// The signals that stop and reload the service (SIGTERM, SIGINT, SIGHUP) are blocked from
// main()'s first line until the handlers are installed. A signal sent meanwhile stays pending
// (the kernel never discards a blocked signal, even one the parent left ignored) and reaches
// the handler once unblocked, instead of killing a half-started process or being lost. Threads
// started while blocked (Paho's, Asio's) inherit the mask, so the signals go to the main thread.
#pragma once

namespace evn_mbus {

// Blocks the three signals in the calling thread; call before any thread exists.
void block_startup_signals();
// Unblocks them in the calling thread (also when the parent left them blocked): for the
// service, once its handlers are installed; for every other command, before it runs.
void release_startup_signals();

}  // namespace evn_mbus

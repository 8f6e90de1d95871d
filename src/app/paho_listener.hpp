// Paho's completion callbacks, handed to the publisher's Asio loop. Paho calls an operation's
// listener from its own threads and keeps a raw pointer to it until then; the registry owns
// the listeners of operations in progress.
#pragma once

#include <mqtt/async_client.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <utility>

namespace evn_mbus {

class op_listener;

// The listeners of Paho operations in progress. Paho keeps a raw pointer to a listener until
// it calls back, exactly once; the listener then removes itself. Paho does not call back for
// every operation (e.g. a disconnect that waited for messages in flight), so whatever is left
// when the Paho client is gone is deleted here.
struct listener_registry {
    std::mutex mutex;
    std::unordered_set<op_listener*> live;

    void forget(op_listener* l) {
        std::lock_guard lock(mutex);
        live.erase(l);
    }
    void delete_all();  // only once Paho can no longer call back
};

// One Paho operation's completion, handed to the loop (Paho calls from its own threads).
class op_listener final : public mqtt::iaction_listener {
  public:
    using handler = std::function<void(bool ok, int rc)>;

    static op_listener* make(const std::shared_ptr<listener_registry>& registry,
                             boost::asio::io_context::executor_type ex, handler h) {
        auto* l = new op_listener(registry, ex, std::move(h));
        std::lock_guard lock(registry->mutex);
        registry->live.insert(l);
        return l;
    }
    // For an operation Paho refused to start: it will never call back.
    void discard() {
        registry_->forget(this);
        delete this;
    }

    void on_success(const mqtt::token&) override { finish(true, 0); }
    void on_failure(const mqtt::token& tok) override { finish(false, tok.get_return_code()); }

  private:
    op_listener(std::shared_ptr<listener_registry> registry,
                boost::asio::io_context::executor_type ex, handler h)
        : registry_(std::move(registry)), ex_(ex), h_(std::move(h)) {}

    void finish(bool ok, int rc);

    std::shared_ptr<listener_registry> registry_;
    boost::asio::io_context::executor_type ex_;
    handler h_;
};

}  // namespace evn_mbus

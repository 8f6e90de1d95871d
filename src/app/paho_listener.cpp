#include "paho_listener.hpp"

#include <boost/asio/post.hpp>
#include <utility>

namespace evn_mbus {

void listener_registry::delete_all() {
    std::unordered_set<op_listener*> left;
    {
        std::lock_guard lock(mutex);
        left.swap(live);
    }
    for (auto* l : left)
        delete l;
}

void op_listener::finish(bool ok, int rc) {
    const auto ex = ex_;
    auto h = std::move(h_);
    discard();  // `this` is gone from here on
    boost::asio::post(ex, [h = std::move(h), ok, rc] { h(ok, rc); });
}

}  // namespace evn_mbus

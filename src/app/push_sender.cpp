#include "push_sender.hpp"

#include <span>

namespace evn_mbus {

push_sender::push_sender(boost::asio::io_context& io, meter_port& port, push_source& source,
                         fault_injector& faults, line_pacer& pacer, std::uint64_t count, handlers h)
    : port_(port),
      source_(source),
      faults_(faults),
      pacer_(pacer),
      count_(count),
      handlers_(std::move(h)),
      timer_(io) {}

void push_sender::start() {
    next_push();
}

void push_sender::stop() {
    stopped_ = true;
    timer_.cancel();
}

void push_sender::done(outcome o) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    if (handlers_.on_done) handlers_.on_done(o);
}

void push_sender::wait_until(line_pacer::clock::time_point t, void (push_sender::*then)()) {
    if (stopped_) return done(outcome::stopped);
    if (t <= line_pacer::clock::now()) return (this->*then)();
    timer_.expires_at(t);
    timer_.async_wait([this, then](const boost::system::error_code& ec) {
        if (ec || stopped_) return done(outcome::stopped);
        (this->*then)();
    });
}

void push_sender::next_push() {
    if (count_ != 0 && seq_ >= count_) return done(outcome::completed);
    wait_until(pacer_.push_due(seq_), &push_sender::make_push);
}

void push_sender::make_push() {
    push_bytes p;
    if (auto ec = source_.next(p)) {
        error_ = ec;
        return done(outcome::build_failed);
    }
    const char* fault = faults_.apply(p);
    if (handlers_.on_push && !handlers_.on_push(seq_, fault, p.expected)) {
        return done(outcome::refused);
    }
    blocks_.clear();
    for (auto& f : p.frames)
        blocks_.push_back({std::move(f), !blocks_.empty()});
    if (auto noise = faults_.noise(); !noise.empty()) blocks_.push_back({std::move(noise), true});
    block_ = 0;
    send_block();
}

void push_sender::send_block() {
    if (block_ == blocks_.size()) {
        ++seq_;
        return next_push();
    }
    wait_until(pacer_.block_due(blocks_[block_].after_gap), &push_sender::begin_block);
}

void push_sender::begin_block() {
    pacer_.start_block(line_pacer::clock::now(), blocks_[block_].bytes.size());
    written_ = 0;
    write_due();
}

// Writes what is due of the block, then waits for the next byte's time; paced at 2400 baud
// that is a byte at a time, unless the loop fell behind.
void push_sender::write_due() {
    const std::vector<std::uint8_t>& bytes = blocks_[block_].bytes;
    if (written_ == bytes.size()) {
        pacer_.end_block();
        ++block_;
        return send_block();
    }
    const std::size_t upto = pacer_.bytes_due(line_pacer::clock::now());
    if (upto <= written_) return wait_until(pacer_.byte_due(written_), &push_sender::write_due);
    const auto chunk = std::span(bytes).subspan(written_, upto - written_);
    port_.async_write(chunk, [this, upto](const std::error_code& ec) {
        if (stopped_) return done(outcome::stopped);
        if (ec) {
            error_ = ec;
            return done(outcome::write_failed);
        }
        written_ = upto;
        write_due();
    });
}

}  // namespace evn_mbus

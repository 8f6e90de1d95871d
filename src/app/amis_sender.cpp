#include "amis_sender.hpp"

#include <span>

#include "evn_mbus/oms_encoder.hpp"

namespace evn_mbus {

amis_sender::amis_sender(boost::asio::io_context& io, meter_port& port, push_maker make,
                         fault_injector& faults, amis_master& master,
                         std::optional<line_timing> timing, std::uint64_t count, double drop_ack,
                         handlers h)
    : port_(port),
      make_(std::move(make)),
      faults_(faults),
      master_(master),
      pacer_(timing, line_pacer::clock::now()),
      count_(count),
      drop_ack_(drop_ack),
      handlers_(std::move(h)),
      timer_(io) {}

void amis_sender::start() {
    const auto ec = port_.start_reading(
        [this](std::span<const std::uint8_t> bytes) {
            const auto now = line_pacer::clock::now();
            bool heard = true;
            if (drop_ack_ > 0)
                heard = static_cast<double>(faults_.draw() % 1000000) >= drop_ack_ * 1e6;
            master_.received(bytes, now, heard);
            report();
            if (!writing_) step();
        },
        [this](const std::error_code& e) {
            if (finished_ || stopped_) return;
            error_ = e;
            done(outcome::write_failed);
        });
    if (ec) {
        error_ = ec;
        return done(outcome::write_failed);
    }
    step();
}

void amis_sender::stop() {
    stopped_ = true;
    timer_.cancel();
}

void amis_sender::done(outcome o) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    if (handlers_.on_done) handlers_.on_done(o);
}

void amis_sender::report() {
    for (const amis_master::result& r : master_.take_results()) {
        last_damaged_ = r.what == amis_master::outcome::damaged_unanswered;
        if (handlers_.on_result) {
            handlers_.on_result(r, r.which == amis_master::frame::search ? 0 : seq_);
        }
    }
}

// One wait at a time: a handler that already fired when a newer wait began (its cancel came
// too late) sees a stale number and does nothing.
void amis_sender::wait_until(line_pacer::clock::time_point t) {
    const std::uint64_t wait = ++wait_number_;
    timer_.expires_at(t);
    timer_.async_wait([this, wait](const boost::system::error_code& ec) {
        if (ec || finished_ || wait != wait_number_) return;
        if (stopped_) return done(outcome::stopped);
        if (writing_) return write_due();
        step();
    });
}

void amis_sender::step() {
    if (finished_) return;
    if (stopped_) return done(outcome::stopped);
    const auto now = line_pacer::clock::now();
    master_.update(now);
    report();
    // The last push's acknowledgement, or its absence, is known before the run ends; a last
    // push the line damaged is sent again first, as the meter would.
    if (count_ != 0 && seq_ >= count_ && !master_.busy() && !last_damaged_) {
        return done(outcome::completed);
    }
    const std::optional<amis_master::frame> f = master_.due(now);
    if (!f) return wait_until(master_.next_due());
    begin_frame(*f);
}

void amis_sender::begin_frame(amis_master::frame f) {
    push_bytes p;
    if (f == amis_master::frame::search) {
        p.frames.emplace_back(std::begin(amis_snd_nke), std::end(amis_snd_nke));
    } else if (f == amis_master::frame::repeat) {
        p.frames.push_back(last_push_);
    } else {
        if (auto ec = make_(master_.access_number(), master_.fcb(), p)) {
            error_ = ec;
            return done(outcome::build_failed);
        }
        if (p.frames.empty()) p.frames.emplace_back();
        last_push_ = p.frames.front();
    }
    const char* fault = faults_.apply(p);
    damaged_ = std::string_view(fault) != "none";
    if (f == amis_master::frame::push) {
        ++seq_;
        if (handlers_.on_push && !handlers_.on_push(seq_ - 1, fault, p.expected)) {
            return done(outcome::refused);
        }
    }
    ++wait_number_;  // a wait for the master's next step is over: this frame is it
    timer_.cancel();
    bytes_.clear();
    for (const auto& frame : p.frames)
        bytes_.insert(bytes_.end(), frame.begin(), frame.end());
    frame_size_ = bytes_.size();
    const auto noise = faults_.noise();
    bytes_.insert(bytes_.end(), noise.begin(), noise.end());
    pacer_.start_block(line_pacer::clock::now(), bytes_.size());
    written_ = 0;
    writing_ = true;
    write_due();
}

// Writes what is due, a byte at a time at 9600 baud unless the loop fell behind; the frame's
// last byte starts the master's wait for the acknowledgement.
void amis_sender::write_due() {
    if (stopped_) return done(outcome::stopped);
    if (write_pending_) return;
    if (written_ == bytes_.size()) {
        pacer_.end_block();
        writing_ = false;
        return step();
    }
    std::size_t upto = std::min(pacer_.bytes_due(line_pacer::clock::now()), bytes_.size());
    if (written_ < frame_size_) upto = std::min(upto, frame_size_);
    if (upto <= written_) return wait_until(pacer_.byte_due(written_));
    const auto chunk = std::span(bytes_).subspan(written_, upto - written_);
    write_pending_ = true;
    port_.async_write(chunk, [this, upto](const std::error_code& ec) {
        write_pending_ = false;
        if (stopped_) return done(outcome::stopped);
        if (ec) {
            error_ = ec;
            return done(outcome::write_failed);
        }
        const bool frame_done = written_ < frame_size_ && upto == frame_size_;
        written_ = upto;
        if (frame_done) master_.sent(line_pacer::clock::now(), damaged_);
        write_due();
    });
}

}  // namespace evn_mbus

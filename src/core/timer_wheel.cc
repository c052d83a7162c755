#include "core/timer_wheel.h"

#include <bit>

namespace fulcrum::core {

Timer::~Timer() {
  if (wheel_) wheel_->cancel(*this);
}

TimerWheel::TimerWheel(TimePoint now) : origin_(now) {}

TimerWheel::~TimerWheel() {
  // Disown every timer: their destructors must not touch a wheel that is gone.
  auto release = [](Timer* head) {
    for (Timer* t = head; t;) {
      Timer* next = t->next_;
      t->wheel_ = nullptr;
      t->prev_ = t->next_ = nullptr;
      t = next;
    }
  };
  for (auto* head : slots_) release(head);
  release(expired_);
}

std::int64_t TimerWheel::tick_of(TimePoint t) const {
  auto ms = std::chrono::duration_cast<Milliseconds>(t - origin_).count();
  // Round up: a timer never fires before its deadline.
  return ms <= 0 ? 0 : (ms + kTickMs - 1) / kTickMs;
}

void TimerWheel::link(Timer& timer, std::size_t slot) {
  timer.slot_ = slot;
  timer.prev_ = nullptr;
  timer.next_ = slots_[slot];
  if (timer.next_) timer.next_->prev_ = &timer;
  slots_[slot] = &timer;
  occupied_[slot / 64] |= std::uint64_t{1} << (slot % 64);
}

void TimerWheel::link_expired(Timer& timer) {
  timer.slot_ = kExpiredSlot;
  timer.next_ = nullptr;
  timer.prev_ = expired_tail_;
  if (expired_tail_) expired_tail_->next_ = &timer;
  else expired_ = &timer;
  expired_tail_ = &timer;
}

void TimerWheel::unlink(Timer& timer) {
  if (timer.slot_ == kExpiredSlot) {
    (timer.prev_ ? timer.prev_->next_ : expired_) = timer.next_;
    (timer.next_ ? timer.next_->prev_ : expired_tail_) = timer.prev_;
    timer.prev_ = timer.next_ = nullptr;
    return;
  }
  if (timer.prev_) {
    timer.prev_->next_ = timer.next_;
  } else {
    slots_[timer.slot_] = timer.next_;
    if (!timer.next_) occupied_[timer.slot_ / 64] &= ~(std::uint64_t{1} << (timer.slot_ % 64));
  }
  if (timer.next_) timer.next_->prev_ = timer.prev_;
  timer.prev_ = timer.next_ = nullptr;
}

void TimerWheel::schedule(Timer& timer, TimePoint deadline) {
  if (timer.wheel_ == this) {
    // Later deadline: stay put, the slot re-files the timer when it comes round. Earlier: move.
    // One collected by the running advance() always moves: it is due again only at a later one.
    if (deadline >= timer.deadline_ && timer.slot_ != kExpiredSlot) {
      timer.deadline_ = deadline;
      return;
    }
    unlink(timer);
    --count_;
  } else if (timer.wheel_) {
    timer.wheel_->cancel(timer);
  }
  timer.wheel_ = this;
  timer.deadline_ = deadline;
  std::int64_t tick = tick_of(deadline);
  if (tick < current_tick_) tick = current_tick_;
  link(timer, static_cast<std::size_t>(tick) % kSlots);
  ++count_;
}

void TimerWheel::cancel(Timer& timer) {
  if (timer.wheel_ != this) return;
  unlink(timer);
  timer.wheel_ = nullptr;
  --count_;
}

void TimerWheel::advance(TimePoint now) {
  // Slot T holds deadlines in (T-1, T] ticks, so it can be emptied once tick T has fully passed.
  const auto elapsed_ms = std::chrono::duration_cast<Milliseconds>(now - origin_).count();
  const std::int64_t last = elapsed_ms < 0 ? -1 : elapsed_ms / kTickMs;
  // A gap longer than one turn visits each slot once; every timer is then re-checked anyway.
  std::int64_t first = current_tick_;
  if (last - first >= static_cast<std::int64_t>(kSlots)) first = last - static_cast<std::int64_t>(kSlots) + 1;
  // First collect what is due, then fire: a callback's schedule() lands at a tick after `last` (or
  // moves a collected timer back onto the wheel), so nothing it arms can fire in this advance.
  for (std::int64_t tick = first; tick <= last; ++tick) {
    const std::size_t slot = static_cast<std::size_t>(tick) % kSlots;
    Timer* list = slots_[slot];
    slots_[slot] = nullptr;
    occupied_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
    current_tick_ = tick + 1;
    while (list) {
      Timer* timer = list;
      list = timer->next_;
      timer->prev_ = timer->next_ = nullptr;
      if (timer->deadline_ <= now) {
        link_expired(*timer);
      } else {
        // Its deadline moved later (or lies turns ahead): file it again under the new deadline.
        std::int64_t due = tick_of(timer->deadline_);
        if (due < current_tick_) due = current_tick_;
        link(*timer, static_cast<std::size_t>(due) % kSlots);
      }
    }
  }
  if (current_tick_ <= last) current_tick_ = last + 1;
  while (Timer* timer = expired_) {
    unlink(*timer);
    timer->wheel_ = nullptr;
    --count_;
    timer->callback_();  // may destroy or re-arm `timer`, cancel or re-arm any other collected one
  }
}

int TimerWheel::wait_ms(TimePoint now) const {
  if (count_ == 0) return -1;
  const std::int64_t now_tick = current_tick_;
  // Find the first occupied slot from the next unprocessed tick on, wrapping once round the wheel.
  for (std::size_t step = 0; step < kSlots;) {
    const std::size_t slot = static_cast<std::size_t>(now_tick + static_cast<std::int64_t>(step)) % kSlots;
    const std::uint64_t word = occupied_[slot / 64] >> (slot % 64);
    if (word) {
      step += static_cast<std::size_t>(std::countr_zero(word));
      if (step >= kSlots) break;
      const auto due = origin_ + Milliseconds((now_tick + static_cast<std::int64_t>(step)) * kTickMs);
      // Rounded up: advance() empties the slot only once `due` has passed, so waking earlier (a
      // wait truncated to 0 ms) would spin in epoll_wait(0) for the rest of the millisecond.
      const auto ms = std::chrono::ceil<Milliseconds>(due - now).count();
      return ms <= 0 ? 0 : static_cast<int>(ms);
    }
    step += 64 - slot % 64;
  }
  return static_cast<int>(kSlots * kTickMs);
}

}  // namespace fulcrum::core

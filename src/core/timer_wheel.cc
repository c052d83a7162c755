#include "core/timer_wheel.h"

#include <bit>

namespace fulcrum::core {

Timer::~Timer() {
  if (wheel_) wheel_->cancel(*this);
}

TimerWheel::TimerWheel(TimePoint now) : origin_(now) {}

TimerWheel::~TimerWheel() {
  for (auto* head : slots_) {
    for (Timer* t = head; t;) {
      Timer* next = t->next_;
      t->wheel_ = nullptr;
      t->prev_ = t->next_ = nullptr;
      t = next;
    }
  }
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

void TimerWheel::unlink(Timer& timer) {
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
    if (deadline >= timer.deadline_) {
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
  const std::int64_t target = tick_of(now);
  // A gap longer than one turn visits each slot once; every timer is then re-checked anyway.
  std::int64_t first = current_tick_;
  if (target - first >= static_cast<std::int64_t>(kSlots)) first = target - kSlots + 1;
  for (std::int64_t tick = first; tick <= target; ++tick) {
    const std::size_t slot = static_cast<std::size_t>(tick) % kSlots;
    // Detach the slot's list first: callbacks may schedule into this very slot.
    Timer* list = slots_[slot];
    slots_[slot] = nullptr;
    occupied_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
    current_tick_ = tick + 1;  // re-filed timers must land in a later tick than this one
    while (list) {
      Timer* timer = list;
      list = timer->next_;
      if (list) list->prev_ = nullptr;
      timer->prev_ = timer->next_ = nullptr;
      if (timer->deadline_ <= now) {
        timer->wheel_ = nullptr;
        --count_;
        timer->callback_();  // may destroy or re-arm `timer`; `list` is no longer reachable from it
      } else {
        std::int64_t tick_due = tick_of(timer->deadline_);
        if (tick_due < current_tick_) tick_due = current_tick_;
        link(*timer, static_cast<std::size_t>(tick_due) % kSlots);
      }
    }
  }
  current_tick_ = target;  // the current tick may still receive timers due later in it
}

int TimerWheel::wait_ms(TimePoint now) const {
  if (count_ == 0) return -1;
  const std::int64_t now_tick = tick_of(now);
  // Find the first occupied slot at or after now_tick, wrapping once round the wheel.
  for (std::size_t step = 0; step < kSlots;) {
    const std::size_t slot = static_cast<std::size_t>(now_tick + static_cast<std::int64_t>(step)) % kSlots;
    const std::uint64_t word = occupied_[slot / 64] >> (slot % 64);
    if (word) {
      step += static_cast<std::size_t>(std::countr_zero(word));
      if (step >= kSlots) break;
      const auto due = origin_ + Milliseconds((now_tick + static_cast<std::int64_t>(step)) * kTickMs);
      const auto ms = std::chrono::duration_cast<Milliseconds>(due - now).count();
      return ms <= 0 ? 0 : static_cast<int>(ms);
    }
    step += 64 - slot % 64;
  }
  return static_cast<int>(kSlots * kTickMs);
}

}  // namespace fulcrum::core

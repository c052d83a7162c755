// Timers for every timeout of the data path (connect, idle, drain) without a syscall per timer.
//
// A hashed timing wheel (Varghese & Lauck): slots of `kTickMs`, each an intrusive list, so
// scheduling and cancelling are O(1) pointer work. Moving a deadline *later* (the idle timeout
// after every read) does not touch the lists at all: the timer keeps its slot and, when that slot
// comes round, it is re-filed under its new deadline. A bitmap of non-empty slots lets the loop
// compute how long epoll may sleep.
//
// The firing rule, independent of where timers sit on the wheel: advance(now) first collects every
// timer whose deadline is at or before `now`, then runs their callbacks. Anything scheduled while
// those callbacks run (a re-arm, even with a deadline already past) is due at a later advance(),
// never in the one that is running. The loop flushes its queued sends between two advances, so a
// callback that queues bytes and re-arms a timer is sure to see those bytes leave first.
//
// Owned by one event loop; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/clock.h"

namespace fulcrum::core {

class TimerWheel;

/// A one-shot timer. Its owner keeps it (usually as a member) and may re-arm it any number of
/// times; destroying it cancels it. The callback runs on the loop thread and may destroy or re-arm
/// the timer itself.
class Timer {
 public:
  explicit Timer(std::function<void()> callback) : callback_(std::move(callback)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return wheel_ != nullptr; }
  TimePoint deadline() const { return deadline_; }

 private:
  friend class TimerWheel;
  std::function<void()> callback_;
  TimerWheel* wheel_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  TimePoint deadline_{};
  std::size_t slot_ = 0;
};

class TimerWheel {
 public:
  static constexpr std::int64_t kTickMs = 4;
  static constexpr std::size_t kSlots = 1024;  // one turn of the wheel: about 4 s

  explicit TimerWheel(TimePoint now);
  ~TimerWheel();

  /// Arms `timer` to fire at `deadline` (re-arms it if already armed). Cheap when the deadline
  /// only moves later.
  void schedule(Timer& timer, TimePoint deadline);
  /// Disarms `timer`; harmless if it is not armed.
  void cancel(Timer& timer);
  /// Fires every timer whose deadline is at or before `now` as advance() begins. Timers scheduled
  /// by the callbacks fire at a later advance(), even when their deadline has already passed.
  void advance(TimePoint now);
  /// Milliseconds epoll may sleep before the next slot that holds a timer is due; -1 if none.
  int wait_ms(TimePoint now) const;
  std::size_t size() const { return count_; }

 private:
  std::int64_t tick_of(TimePoint t) const;
  void link(Timer& timer, std::size_t slot);
  void unlink(Timer& timer);
  /// Appends `timer` to the list of timers collected by the running advance().
  void link_expired(Timer& timer);

  /// The `slot_` of a timer in the expired list rather than in a slot.
  static constexpr std::size_t kExpiredSlot = kSlots;

  TimePoint origin_;
  std::int64_t current_tick_ = 0;  // the next tick to process; every earlier one is done
  std::array<Timer*, kSlots> slots_{};
  std::array<std::uint64_t, kSlots / 64> occupied_{};
  std::size_t count_ = 0;
  // Collected by advance(), in deadline-tick order, still armed (so cancel() and schedule() work
  // on them) until each one's callback runs.
  Timer* expired_ = nullptr;
  Timer* expired_tail_ = nullptr;
};

}  // namespace fulcrum::core

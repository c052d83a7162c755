// One epoll event loop per thread (muduo's "one loop per thread").
//
// Objects registered with a loop belong to that loop's thread and never move to another; other
// threads talk to the loop only through post(). The loop does not own the file descriptors or the
// handlers registered with it.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <typeinfo>
#include <vector>

#include "core/clock.h"
#include "core/send_batch.h"
#include "core/timer_wheel.h"

namespace fulcrum::core {

/// Receives the epoll events of one file descriptor. Runs on the loop thread.
class IoHandler {
 public:
  virtual void on_io(std::uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

/// What a loop is doing in its current turn, for the watchdog (runtime/watchdog.h).
enum class LoopPhase : std::uint8_t { Waiting, Events, Posted, Timers, Deferred };

/// A loop's current turn as another thread sees it (relaxed reads: a moment's view).
struct LoopActivity {
  /// When the turn began; nullopt while the loop waits in epoll_wait (or has not started).
  std::optional<TimePoint> turn_started;
  LoopPhase phase = LoopPhase::Waiting;
  /// The type of the I/O handler or task running (a lambda's type names the function that made
  /// it), or null when unknown (timers).
  const std::type_info* running = nullptr;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Registers `fd` for `events` (EPOLLIN, EPOLLOUT, EPOLLET, ...). Returns false with errno set.
  bool add(int fd, std::uint32_t events, IoHandler* handler);
  bool modify(int fd, std::uint32_t events, IoHandler* handler);
  /// Unregisters `fd`. Events of this fd already fetched in the current turn are still delivered
  /// to its handler, which must therefore outlive the turn: destroy handlers through defer().
  void remove(int fd);

  /// Runs until quit(); binds the loop to the calling thread.
  void run();
  /// Makes run() return after the current turn. Any thread.
  void quit();
  /// Runs `task` on the loop thread at its next turn. Any thread; wakes the loop.
  void post(std::function<void()> task);
  /// Runs `task` at the end of the current turn, after every event of the turn was handled (for
  /// destroying objects whose events may still be pending). Loop thread only.
  void defer(std::function<void()> task);

  /// Gathers the sends of each turn into one io_uring submission (core/send_batch.h), flushed
  /// after the turn's events, posted tasks, timers and deferred tasks, before the loop sleeps.
  /// Returns false when the kernel refuses io_uring; the loop then has no batch. Loop thread.
  bool enable_send_batching();
  /// The batch, or null when sends are not batched (then callers send directly).
  SendBatch* send_batch() { return send_batch_.get(); }

  /// The time read at the start of this turn; cheap, no clock read.
  TimePoint now() const { return now_; }
  TimerWheel& timers() { return timers_; }
  bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_.load(std::memory_order_relaxed); }

  /// Counters for metrics (written by the loop thread only).
  std::uint64_t iterations() const { return iterations_.load(std::memory_order_relaxed); }
  /// Time spent outside epoll_wait (handling events, timers, posted and deferred tasks), summed;
  /// measured with the two clock reads each turn already makes. Any thread.
  std::chrono::nanoseconds busy_time() const {
    return std::chrono::nanoseconds(busy_ns_.load(std::memory_order_relaxed));
  }
  /// The current turn: since when, in which phase, running what. Any thread; the loop pays a
  /// relaxed store per handler or task for it.
  LoopActivity activity() const;

 private:
  class Waker;
  void run_posted();
  void set_phase(LoopPhase phase, const std::type_info* running = nullptr) {
    phase_.store(phase, std::memory_order_relaxed);
    running_.store(running, std::memory_order_relaxed);
  }
  void flush_sends() {
    if (send_batch_ && !send_batch_->idle()) send_batch_->flush();
  }

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> quit_{false};
  std::atomic<std::thread::id> thread_id_{};
  TimePoint now_;
  TimerWheel timers_;
  std::unique_ptr<SendBatch> send_batch_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> deferred_;
  std::atomic<std::uint64_t> iterations_{0};
  std::atomic<std::int64_t> busy_ns_{0};
  // The watchdog's view of the current turn (activity()): start time (0 while waiting), phase,
  // and the type of what runs.
  std::atomic<std::int64_t> turn_started_ns_{0};
  std::atomic<LoopPhase> phase_{LoopPhase::Waiting};
  std::atomic<const std::type_info*> running_{nullptr};
};

}  // namespace fulcrum::core

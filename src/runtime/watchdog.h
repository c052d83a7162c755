// The watchdog (after HAProxy's): a thread of its own that looks, about once a second, at when each
// watched event loop began its current turn. A loop stuck in one turn longer than the limit (an
// endless loop, a blocking call, a deadlock) serves nothing and never will: the watchdog logs an
// error naming the thread, how long it has been stuck and what it was running, emits an `error`
// event, and aborts the process so that its supervisor restarts it (and a core dump shows where).
//
// It reads each loop's activity() (relaxed atomics the loop sets each turn), so the watched loops
// pay nothing but those stores; it never touches a loop's objects.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "events/event_bus.h"

namespace fulcrum::runtime {

class Watchdog {
 public:
  /// A loop to watch and the name reports give it (`worker 0`, `control`).
  struct Watched {
    std::string name;
    const core::EventLoop* loop;
  };

  /// Watches `loops` (which outlive the watchdog) for turns longer than `limit`; `events` (may be
  /// null) receives the `error` event. `on_stuck` runs after the report; the default aborts.
  Watchdog(std::vector<Watched> loops, std::chrono::milliseconds limit, events::EventBus* events,
           std::function<void()> on_stuck = nullptr);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Starts the watchdog's thread.
  void start();
  /// Ends it; idempotent. Call before the watched loops stop for good (a loop that quit is idle).
  void stop();

  /// Describes what a loop is doing (`running posted tasks: <type>`), for the report.
  static std::string describe(const core::LoopActivity& activity);

 private:
  void run();
  /// Checks every loop at `now`; reports (and runs on_stuck) for the first one stuck.
  void check(core::TimePoint now);

  const std::vector<Watched> loops_;
  const std::chrono::milliseconds limit_;
  events::EventBus* const events_;
  std::function<void()> on_stuck_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fulcrum::runtime

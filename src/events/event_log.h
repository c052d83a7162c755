// The JSON-lines event log (`events.file`): a bus subscriber that appends EventData::to_json()
// lines. Lifecycle and health events are written at once; per-request events (only with
// `per_request: true`) are buffered and written every 100 ms at most.
//
// Thread: every method but the constructor's caller's runs where the bus delivers (the control
// thread), or on the owner's thread once delivery has stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "events/event_bus.h"

namespace fulcrum::events {

class EventLog {
 public:
  /// Opens (creates, appends to) `path` and subscribes to `bus`; nullptr with `error` set when the
  /// file cannot be opened. `bus` outlives the log.
  static std::unique_ptr<EventLog> open(const std::string& path, bool per_request, EventBus& bus,
                                        std::string& error);
  /// Unsubscribes, writes what is buffered and closes the file.
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  /// Buffered per-request lines are flushed by a timer on `loop` (the loop that delivers events);
  /// without one, every line is written at once. Call before delivery starts; call detach()
  /// once that loop has stopped and before it is destroyed.
  void attach(core::EventLoop& loop) { loop_ = &loop; }
  void detach();

  /// Writes what is buffered.
  void flush();
  /// Closes the file and opens `path` again (after a rename by logrotate). On failure the old
  /// file stays in use and the error is logged.
  void reopen();

  /// Lines lost because a write failed (they are not kept for a later try). Any thread.
  std::uint64_t lines_lost() const { return lines_lost_.load(std::memory_order_relaxed); }

 private:
  EventLog(std::string path, int fd, EventBus& bus);
  void write(const EventData& data);

  const std::string path_;
  int fd_;
  EventBus& bus_;
  std::vector<EventBus::SubscriptionId> subscriptions_;
  std::string buffer_;
  core::EventLoop* loop_ = nullptr;
  core::Timer flush_timer_;
  std::atomic<std::uint64_t> lines_lost_{0};
};

}  // namespace fulcrum::events
